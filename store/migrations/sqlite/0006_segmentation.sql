-- Segmentations, custom end-user lists and the change log that keeps the
-- in-memory segment index exact. Times are Unix milliseconds.

CREATE TABLE segmentations (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    name       TEXT    NOT NULL,
    rule       TEXT    NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX segmentations_name ON segmentations (partner_id, lower(name));

-- What each rule refers to (engagement, channel, program, list), so that
-- "which segmentations use list X" needs no JSON parsing.
CREATE TABLE segmentation_refs (
    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id) ON DELETE CASCADE,
    ref_kind        TEXT    NOT NULL,
    ref_id          INTEGER NOT NULL,
    PRIMARY KEY (segmentation_id, ref_kind, ref_id)
);
CREATE INDEX segmentation_refs_ref ON segmentation_refs (ref_kind, ref_id);

-- An engagement targets the union of its segmentations (none = everyone).
CREATE TABLE engagement_segmentations (
    engagement_id   INTEGER NOT NULL REFERENCES engagements(id) ON DELETE CASCADE,
    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (engagement_id, segmentation_id)
);
CREATE INDEX engagement_segmentations_seg ON engagement_segmentations (segmentation_id);

CREATE TABLE custom_lists (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    partner_id   INTEGER NOT NULL REFERENCES partners(id),
    name         TEXT    NOT NULL,
    generation   INTEGER NOT NULL DEFAULT 0,
    member_count INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX custom_lists_name ON custom_lists (partner_id, lower(name));

-- Members of every generation of every list. The list's current generation
-- says which rows count; an upload writes a new generation and switches in
-- one step. No foreign keys: the rows come from resolved followers and
-- checking a parent per row would halve the speed of million-row uploads.
CREATE TABLE custom_list_members (
    list_id     INTEGER NOT NULL,
    generation  INTEGER NOT NULL,
    follower_id INTEGER NOT NULL,
    PRIMARY KEY (list_id, generation, follower_id)
) WITHOUT ROWID;

-- Generations no list uses any more (replaced, failed, cancelled, deleted
-- lists): their rows are deleted in the background, a batch at a time.
CREATE TABLE custom_list_garbage (
    list_id    INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (list_id, generation)
);

CREATE TABLE list_uploads (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    partner_id  INTEGER NOT NULL REFERENCES partners(id),
    list_id     INTEGER NOT NULL REFERENCES custom_lists(id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id),
    file_name   TEXT    NOT NULL DEFAULT '',
    file_size   INTEGER NOT NULL DEFAULT 0,
    mode        TEXT    NOT NULL,
    match_by    TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'running',
    cancel      BOOLEAN NOT NULL DEFAULT FALSE,
    error       TEXT    NOT NULL DEFAULT '',
    rows_read   INTEGER NOT NULL DEFAULT 0,
    matched     INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    unknown     INTEGER NOT NULL DEFAULT 0,
    invalid     INTEGER NOT NULL DEFAULT 0,
    members     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX list_uploads_list ON list_uploads (list_id, id);
CREATE INDEX list_uploads_running ON list_uploads (state, updated_at);
-- One upload at a time per list.
CREATE UNIQUE INDEX list_uploads_one_running ON list_uploads (list_id) WHERE state = 'running';

CREATE TABLE list_upload_rejects (
    upload_id INTEGER NOT NULL REFERENCES list_uploads(id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    value     TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (upload_id, line)
);

-- Phone numbers match whatever the spacing: an index on the digits.
CREATE INDEX followers_phone_digits ON followers (tenant_id, replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', '')) WHERE phone <> '';

-- The change log of everything a segment depends on. Triggers add a row per
-- changed follower; the app adds rows for lists and targeting. The
-- in-memory segment index reads it before answering, so its answers are
-- exact; old rows are pruned.
CREATE TABLE segment_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    ref_id     INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX segment_changes_tenant ON segment_changes (tenant_id, seq);
CREATE INDEX segment_changes_created ON segment_changes (created_at);

CREATE TRIGGER followers_segment_change AFTER UPDATE OF birth_date, gender, language, status ON followers FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (NEW.tenant_id, 'follower', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER follows_segment_insert AFTER INSERT ON follows FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (NEW.tenant_id, 'follower', NEW.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER follows_segment_update AFTER UPDATE OF unfollowed_at, followed_at ON follows FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (NEW.tenant_id, 'follower', NEW.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER memberships_segment_insert AFTER INSERT ON memberships FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (NEW.tenant_id, 'follower', NEW.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER memberships_segment_update AFTER UPDATE OF current_points, total_points, level ON memberships FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (NEW.tenant_id, 'follower', NEW.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER memberships_segment_delete AFTER DELETE ON memberships FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (OLD.tenant_id, 'follower', OLD.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER activations_segment_insert AFTER INSERT ON coupon_activations FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (NEW.tenant_id, 'follower', NEW.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER activations_segment_delete AFTER DELETE ON coupon_activations FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (OLD.tenant_id, 'follower', OLD.follower_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER deliveries_segment_insert AFTER INSERT ON message_deliveries FOR EACH ROW WHEN NEW.opened_at > 0
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) SELECT tenant_id, 'follower', id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM followers WHERE id = NEW.follower_id;
END;

CREATE TRIGGER deliveries_segment_update AFTER UPDATE OF opened_at ON message_deliveries FOR EACH ROW
BEGIN
    INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) SELECT tenant_id, 'follower', id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM followers WHERE id = NEW.follower_id;
END;
