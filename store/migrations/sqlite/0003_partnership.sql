-- Partnership: the add-on catalogue, partner wallets, requests (add-ons,
-- package changes, registrations) and the storage partners use.

CREATE TABLE addons (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    unit_size  INTEGER NOT NULL DEFAULT 1,
    unit_price INTEGER NOT NULL DEFAULT 0,
    currency   TEXT    NOT NULL DEFAULT 'EUR',
    available  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, kind)
);

-- One balance per partner and add-on kind; changed only by approvals.
CREATE TABLE wallet_balances (
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    kind       TEXT    NOT NULL,
    balance    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, kind)
);

CREATE TABLE partner_requests (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants(id),
    partner_id          INTEGER REFERENCES partners(id),
    kind                TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'pending',
    package_id          INTEGER REFERENCES packages(id),
    billing_period      TEXT    NOT NULL DEFAULT '',
    price               INTEGER NOT NULL DEFAULT 0,
    currency            TEXT    NOT NULL DEFAULT '',
    from_package_id     INTEGER REFERENCES packages(id),
    from_billing_period TEXT    NOT NULL DEFAULT '',
    brand_name          TEXT    NOT NULL DEFAULT '',
    country             TEXT    NOT NULL DEFAULT '',
    website             TEXT    NOT NULL DEFAULT '',
    contact_name        TEXT    NOT NULL DEFAULT '',
    contact_email       TEXT    NOT NULL DEFAULT '',
    contact_phone       TEXT    NOT NULL DEFAULT '',
    requested_by        INTEGER REFERENCES users(id),
    requested_by_name   TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    decided_at          INTEGER NOT NULL DEFAULT 0,
    decided_by          INTEGER REFERENCES users(id),
    decided_by_name     TEXT    NOT NULL DEFAULT '',
    reason              TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX partner_requests_queue ON partner_requests (tenant_id, status, id);
CREATE INDEX partner_requests_partner ON partner_requests (partner_id, kind, id);
-- One pending package change per partner, one pending registration per email.
CREATE UNIQUE INDEX partner_requests_one_package ON partner_requests (partner_id) WHERE kind = 'package' AND status = 'pending';
CREATE UNIQUE INDEX partner_requests_one_registration ON partner_requests (tenant_id, contact_email) WHERE kind = 'registration' AND status = 'pending';

CREATE TABLE partner_request_items (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES partner_requests(id),
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    quantity   INTEGER NOT NULL,
    unit_size  INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    currency   TEXT    NOT NULL
);
CREATE INDEX partner_request_items_request ON partner_request_items (request_id, id);

-- Bytes of attachments and media the partner stores, against its allowance.
ALTER TABLE partners ADD COLUMN storage_bytes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX partners_package ON partners (package_id);
