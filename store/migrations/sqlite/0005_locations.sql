-- Locations (store locations with radius 0, targeting locations with a
-- radius in metres), the locations an engagement targets, and the last time
-- a location fired an engagement for a follower (the cooldown window).

CREATE TABLE locations (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    name       TEXT    NOT NULL,
    address    TEXT    NOT NULL DEFAULT '',
    lat        REAL    NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng        REAL    NOT NULL CHECK (lng BETWEEN -180 AND 180),
    radius_m   REAL    NOT NULL DEFAULT 0 CHECK (radius_m BETWEEN 0 AND 50000),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX locations_partner ON locations (partner_id, radius_m);
CREATE INDEX locations_tenant ON locations (tenant_id) WHERE radius_m > 0;

CREATE TABLE engagement_locations (
    engagement_id INTEGER NOT NULL REFERENCES engagements(id) ON DELETE CASCADE,
    location_id   INTEGER NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (engagement_id, location_id)
);
CREATE INDEX engagement_locations_location ON engagement_locations (location_id);

CREATE TABLE location_firings (
    engagement_id INTEGER NOT NULL REFERENCES engagements(id) ON DELETE CASCADE,
    follower_id   INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    location_id   INTEGER REFERENCES locations(id) ON DELETE SET NULL,
    fired_at      INTEGER NOT NULL,
    PRIMARY KEY (engagement_id, follower_id)
);
