-- Tenancy, staff, roles, sessions, tokens, mail and channels.
-- Times are Unix milliseconds; 0 means "none".

CREATE TABLE tenants (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    slug          TEXT    NOT NULL UNIQUE,
    support_email TEXT    NOT NULL DEFAULT '',
    support_phone TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

CREATE TABLE packages (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    name          TEXT    NOT NULL,
    monthly_price INTEGER NOT NULL DEFAULT 0,
    yearly_price  INTEGER NOT NULL DEFAULT 0,
    currency      TEXT    NOT NULL DEFAULT 'EUR',
    features      TEXT    NOT NULL DEFAULT '[]',
    limits        TEXT    NOT NULL DEFAULT '{}',
    retired       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE partners (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    brand_name     TEXT    NOT NULL,
    country        TEXT    NOT NULL DEFAULT '',
    website        TEXT    NOT NULL DEFAULT '',
    contact_email  TEXT    NOT NULL DEFAULT '',
    contact_phone  TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'active',
    package_id     INTEGER REFERENCES packages(id),
    billing_period TEXT    NOT NULL DEFAULT 'monthly',
    created_at     INTEGER NOT NULL
);
CREATE INDEX partners_tenant ON partners (tenant_id, brand_name);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    partner_id  INTEGER REFERENCES partners(id),
    name        TEXT    NOT NULL,
    is_owner    BOOLEAN NOT NULL DEFAULT FALSE,
    permissions TEXT    NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, COALESCE(partner_id, 0), lower(name));
CREATE UNIQUE INDEX roles_one_owner ON roles (tenant_id, COALESCE(partner_id, 0)) WHERE is_owner;

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants(id),
    partner_id          INTEGER REFERENCES partners(id),
    role_id             INTEGER NOT NULL REFERENCES roles(id),
    is_owner            BOOLEAN NOT NULL DEFAULT FALSE,
    name                TEXT    NOT NULL,
    email               TEXT    NOT NULL UNIQUE,
    phone               TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL DEFAULT 'invited',
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_changed_at INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX users_partner ON users (tenant_id, partner_id, name);
CREATE INDEX users_role ON users (role_id);
-- Exactly one account owner per partner (and per tenant staff).
CREATE UNIQUE INDEX users_one_owner ON users (tenant_id, COALESCE(partner_id, 0)) WHERE is_owner;

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE user_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER REFERENCES tenants(id),
    to_addr    TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL DEFAULT 0,
    error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);

CREATE TABLE support_messages (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX support_messages_tenant ON support_messages (tenant_id, id);

CREATE TABLE channels (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    partner_id   INTEGER NOT NULL REFERENCES partners(id),
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    welcome      TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT 'draft',
    chat_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX channels_partner ON channels (partner_id, name);
CREATE INDEX channels_tenant ON channels (tenant_id, status);
