-- Chat: conversations between a follower and a channel, their messages,
-- what each agent has read, attachments, and canned responses.
-- Times are Unix milliseconds; 0 means "none".

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
    partner_id        INTEGER NOT NULL REFERENCES partners(id),
    channel_id        INTEGER NOT NULL REFERENCES channels(id),
    follower_id       INTEGER NOT NULL REFERENCES followers(id),
    status            TEXT    NOT NULL DEFAULT 'unanswered',
    owner_id          INTEGER REFERENCES users(id),
    finished_by       INTEGER REFERENCES users(id),
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_message_at   INTEGER NOT NULL DEFAULT 0,
    last_preview      TEXT    NOT NULL DEFAULT '',
    last_author       TEXT    NOT NULL DEFAULT '',
    follower_read_seq INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (channel_id, follower_id)
);
CREATE INDEX conversations_partner ON conversations (partner_id, status, last_message_at);
CREATE INDEX conversations_owner ON conversations (owner_id, status);
CREATE INDEX conversations_follower ON conversations (follower_id, last_message_at);

CREATE TABLE chat_attachments (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    partner_id      INTEGER NOT NULL REFERENCES partners(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    name            TEXT    NOT NULL,
    content_type    TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    storage_key     TEXT    NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL
);
-- The partner's stored bytes are the sum of size.
CREATE INDEX chat_attachments_partner ON chat_attachments (partner_id);

CREATE TABLE chat_messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    author          TEXT    NOT NULL,
    user_id         INTEGER REFERENCES users(id),
    kind            TEXT    NOT NULL,
    text            TEXT    NOT NULL DEFAULT '',
    event           TEXT    NOT NULL DEFAULT '',
    attachment_id   INTEGER REFERENCES chat_attachments(id),
    engagement_id   INTEGER REFERENCES engagements(id),
    client_id       TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
-- A message resent with the same key after a dropped connection is stored once.
CREATE UNIQUE INDEX chat_messages_client ON chat_messages (conversation_id, client_id) WHERE client_id <> '';

-- How far each agent has read each conversation.
CREATE TABLE chat_reads (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    read_seq        INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- Canned responses; partner_id NULL marks the tenant's defaults.
CREATE TABLE canned_categories (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    partner_id INTEGER REFERENCES partners(id),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_categories_name ON canned_categories (tenant_id, COALESCE(partner_id, 0), lower(name));

CREATE TABLE canned_responses (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    partner_id  INTEGER REFERENCES partners(id),
    category_id INTEGER NOT NULL REFERENCES canned_categories(id),
    title       TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX canned_responses_category ON canned_responses (category_id, title);

-- Events too large for one PostgreSQL notification wait here for the other
-- nodes to read them (unused on SQLite, which runs one node).
CREATE TABLE bus_spill (
    id         INTEGER PRIMARY KEY,
    data       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
