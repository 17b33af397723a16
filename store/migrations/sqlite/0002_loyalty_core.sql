-- Followers, follows, engagements (messages, coupons, loyalty programs),
-- the point ledger, coupon activations, activity, notifications and
-- message deliveries. Times are Unix milliseconds; 0 means "none".

ALTER TABLE channels ADD COLUMN logo TEXT NOT NULL DEFAULT '';

CREATE TABLE followers (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    end_user_id   TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    birth_date    TEXT    NOT NULL DEFAULT '',
    gender        TEXT    NOT NULL DEFAULT '',
    language      TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL DEFAULT 'active',
    password_hash TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, end_user_id)
);
CREATE UNIQUE INDEX followers_email ON followers (tenant_id, email) WHERE email <> '';
CREATE INDEX followers_phone ON followers (tenant_id, phone) WHERE phone <> '';

CREATE TABLE follower_tokens (
    id           INTEGER PRIMARY KEY,
    follower_id  INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX follower_tokens_follower ON follower_tokens (follower_id);

CREATE TABLE follows (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    channel_id    INTEGER NOT NULL REFERENCES channels(id),
    follower_id   INTEGER NOT NULL REFERENCES followers(id),
    followed_at   INTEGER NOT NULL,
    unfollowed_at INTEGER NOT NULL DEFAULT 0,
    notifications BOOLEAN NOT NULL DEFAULT TRUE
);
-- At most one open follow period per follower and channel.
CREATE UNIQUE INDEX follows_current ON follows (channel_id, follower_id) WHERE unfollowed_at = 0;
CREATE INDEX follows_follower ON follows (follower_id, channel_id);
CREATE INDEX follows_channel ON follows (channel_id, unfollowed_at, followed_at);

CREATE TABLE engagements (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    partner_id       INTEGER NOT NULL REFERENCES partners(id),
    channel_id       INTEGER NOT NULL REFERENCES channels(id),
    kind             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    image            TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'draft',
    starts_at        INTEGER NOT NULL DEFAULT 0,
    ends_at          INTEGER NOT NULL DEFAULT 0,
    published_at     INTEGER NOT NULL DEFAULT 0,
    finished_at      INTEGER NOT NULL DEFAULT 0,
    cooldown_seconds INTEGER NOT NULL DEFAULT 86400,
    spec             TEXT    NOT NULL DEFAULT '{}',
    -- Coupon fields that concurrency and queries need as columns.
    program_id       INTEGER REFERENCES engagements(id),
    point_cost       INTEGER NOT NULL DEFAULT 0,
    min_level        INTEGER NOT NULL DEFAULT 0,
    stock            INTEGER NOT NULL DEFAULT 0,
    redeemed         INTEGER NOT NULL DEFAULT 0,
    per_follower     INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK (stock = 0 OR redeemed <= stock)
);
CREATE INDEX engagements_partner ON engagements (partner_id, kind, status);
CREATE INDEX engagements_channel ON engagements (channel_id, status, kind);
CREATE INDEX engagements_due ON engagements (status, ends_at);

CREATE TABLE loyalty_levels (
    program_id INTEGER NOT NULL REFERENCES engagements(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    threshold  INTEGER NOT NULL,
    PRIMARY KEY (program_id, position)
);

CREATE TABLE memberships (
    program_id     INTEGER NOT NULL REFERENCES engagements(id),
    follower_id    INTEGER NOT NULL REFERENCES followers(id),
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    joined_at      INTEGER NOT NULL,
    current_points INTEGER NOT NULL DEFAULT 0,
    total_points   INTEGER NOT NULL DEFAULT 0,
    level          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (program_id, follower_id),
    CHECK (current_points >= 0)
);
CREATE INDEX memberships_follower ON memberships (follower_id);

CREATE TABLE point_ledger (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    program_id    INTEGER NOT NULL REFERENCES engagements(id),
    follower_id   INTEGER NOT NULL REFERENCES followers(id),
    kind          TEXT    NOT NULL,
    points        INTEGER NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    staff_user_id INTEGER REFERENCES users(id),
    engagement_id INTEGER REFERENCES engagements(id),
    expires_at    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX point_ledger_member ON point_ledger (program_id, follower_id, id);
CREATE INDEX point_ledger_expiry ON point_ledger (expires_at) WHERE expires_at > 0;
CREATE INDEX point_ledger_created ON point_ledger (tenant_id, created_at);

CREATE TABLE coupon_activations (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    coupon_id    INTEGER NOT NULL REFERENCES engagements(id),
    follower_id  INTEGER NOT NULL REFERENCES followers(id),
    status       TEXT    NOT NULL DEFAULT 'active',
    activated_at INTEGER NOT NULL,
    valid_until  INTEGER NOT NULL DEFAULT 0,
    redeemed_at  INTEGER NOT NULL DEFAULT 0,
    redeemed_by  INTEGER REFERENCES users(id),
    proof_until  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX coupon_activations_follower ON coupon_activations (follower_id, coupon_id);
CREATE INDEX coupon_activations_coupon ON coupon_activations (coupon_id, status);

CREATE TABLE activities (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    partner_id      INTEGER NOT NULL REFERENCES partners(id),
    channel_id      INTEGER REFERENCES channels(id),
    follower_id     INTEGER NOT NULL REFERENCES followers(id),
    kind            TEXT    NOT NULL,
    engagement_id   INTEGER REFERENCES engagements(id),
    engagement_kind TEXT    NOT NULL DEFAULT '',
    points          INTEGER NOT NULL DEFAULT 0,
    text            TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE INDEX activities_follower ON activities (follower_id, id);
CREATE INDEX activities_partner ON activities (partner_id, created_at);
CREATE INDEX activities_engagement ON activities (engagement_id, kind, follower_id);

CREATE TABLE delivery_runs (
    id            INTEGER PRIMARY KEY,
    engagement_id INTEGER NOT NULL REFERENCES engagements(id),
    run_key       TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'running',
    total         INTEGER NOT NULL DEFAULT 0,
    done          INTEGER NOT NULL DEFAULT 0,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (engagement_id, run_key)
);

CREATE TABLE message_deliveries (
    id            INTEGER PRIMARY KEY,
    engagement_id INTEGER NOT NULL REFERENCES engagements(id),
    follower_id   INTEGER NOT NULL REFERENCES followers(id),
    run_key       TEXT    NOT NULL,
    delivered_at  INTEGER NOT NULL,
    opened_at     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (engagement_id, run_key, follower_id)
);
CREATE INDEX message_deliveries_follower ON message_deliveries (follower_id, id);

CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    follower_id   INTEGER NOT NULL REFERENCES followers(id),
    channel_id    INTEGER REFERENCES channels(id),
    engagement_id INTEGER REFERENCES engagements(id),
    kind          TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    read_at       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_follower ON notifications (follower_id, id);
