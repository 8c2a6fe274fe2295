-- Sales import batches, the screening flag of a kept sale line, and the catalogue's edit
-- log.
--
-- Every import (API batch, CSV upload, `shelf-gateway pos import`) is one batch; a sale
-- line remembers the batch that added it, so deleting a batch removes exactly its lines
-- (a line re-sent in a later batch stays with the batch that first stored it). Lines from
-- the tills over MQTT belong to no batch. A deleted batch keeps its record (who deleted
-- it, when, how many lines went) for the audit.
--
-- sales.flag is NULL for a normal line; a kept line the screening found odd (a quantity
-- far beyond the SKU's history) carries the reason and is left out of velocity.

CREATE TABLE sales_batches (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    name TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT,
    deleted_by TEXT,
    deleted_lines INTEGER
) WITHOUT ROWID;
CREATE INDEX sales_batches_created ON sales_batches (created_at);

ALTER TABLE sales ADD COLUMN batch TEXT;
ALTER TABLE sales ADD COLUMN flag TEXT;
CREATE INDEX sales_batch ON sales (batch) WHERE batch IS NOT NULL;

-- Who changed what in the catalogue: one row per changed field of a product.
CREATE TABLE product_changes (
    id INTEGER PRIMARY KEY,
    gtin TEXT NOT NULL,
    field TEXT NOT NULL,
    old TEXT,
    new TEXT,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX product_changes_gtin ON product_changes (gtin, id);
