-- POS sale lines (unit_price is exact decimal text) and the product catalogue.

CREATE TABLE sales (
    store TEXT NOT NULL,
    id TEXT NOT NULL,
    ts TEXT NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    currency TEXT,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (store, id)
) WITHOUT ROWID;
CREATE INDEX sales_store_sku_ts ON sales (store, sku, ts);
CREATE INDEX sales_store_ts ON sales (store, ts);

CREATE TABLE products (
    gtin TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    brand TEXT,
    category TEXT,
    pack_size TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX products_brand ON products (brand);
