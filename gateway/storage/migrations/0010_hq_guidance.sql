-- What the head office tells a store (gateway/guidance): nearby price references and
-- assortment items, pulled from the HQ API and kept here so the store page shows them
-- offline; the store's own decisions on the assortment items (accept, dismiss with a
-- reason), which outlive later pulls.

-- The latest pull's price references, replaced whole by each successful pull.
CREATE TABLE hq_price_refs (
    store TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT,
    brand TEXT,
    price REAL NOT NULL,
    median REAL NOT NULL,
    low REAL NOT NULL,
    high REAL NOT NULL,
    stores INTEGER NOT NULL,
    basis TEXT NOT NULL,
    radius_km REAL,
    diff_pct REAL NOT NULL,
    PRIMARY KEY (store, sku)
) WITHOUT ROWID;

-- One row per store, kind and SKU ever suggested. `current` = in the latest pull; a
-- decided item stays (with its decision and follow-up) after HQ stops suggesting it.
CREATE TABLE hq_assortment (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('add', 'delist')),
    sku TEXT NOT NULL,
    name TEXT,
    brand TEXT,
    rank INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    detail TEXT NOT NULL,
    current INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'dismissed')),
    decided_at TEXT,
    decided_by TEXT,
    reason TEXT,
    UNIQUE (store, kind, sku)
);

-- Each store's last pull: when it last succeeded, what HQ's analytics date it carried,
-- and the last error (NULL once a pull succeeds again).
CREATE TABLE hq_guidance_pulls (
    store TEXT PRIMARY KEY,
    pulled_at TEXT,
    refreshed_at TEXT,
    attempted_at TEXT NOT NULL,
    error TEXT
) WITHOUT ROWID;
