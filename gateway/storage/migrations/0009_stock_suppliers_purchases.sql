-- Stock on hand, suppliers and purchase orders (gateway/retail: stock, suppliers,
-- purchase_orders, purchasing).
--
-- Stock on hand of a GTIN = its last count + goods received since - units sold since
-- (POS). Counts and receipts are per store; suppliers and their price lists are the
-- gateway's (a store buys from them). Prices and money are exact decimal text, like
-- sales.unit_price.

CREATE TABLE stock_counts (
    store TEXT NOT NULL,
    gtin TEXT NOT NULL,
    ts TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    backroom_capacity INTEGER,
    source TEXT NOT NULL,
    recorded_by TEXT,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (store, gtin, ts)
) WITHOUT ROWID;

-- A receipt line may carry the delivery note's line id; then sending it again is a
-- duplicate, not a second delivery. purchase_order links it to the order it fulfilled.
CREATE TABLE goods_receipts (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    line_id TEXT,
    gtin TEXT NOT NULL,
    ts TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    supplier TEXT,
    purchase_order INTEGER,
    source TEXT NOT NULL,
    recorded_by TEXT,
    recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX goods_receipts_line ON goods_receipts (store, line_id)
    WHERE line_id IS NOT NULL;
CREATE INDEX goods_receipts_store_gtin_ts ON goods_receipts (store, gtin, ts);

-- order_weekdays: the weekdays (Monday = 0) the supplier takes orders, as '0,3'.
CREATE TABLE suppliers (
    name TEXT PRIMARY KEY,
    min_order_value TEXT NOT NULL,
    free_delivery_threshold TEXT,
    delivery_fee TEXT NOT NULL,
    lead_time_days INTEGER NOT NULL,
    order_weekdays TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE supplier_prices (
    supplier TEXT NOT NULL REFERENCES suppliers (name),
    gtin TEXT NOT NULL,
    pack_size INTEGER NOT NULL,
    pack_price TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (supplier, gtin)
) WITHOUT ROWID;
CREATE INDEX supplier_prices_gtin ON supplier_prices (gtin);

-- status: draft (a suggestion the owner may edit), on_order (accepted, sent),
-- received (every line received in full).
CREATE TABLE purchase_orders (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    supplier TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'on_order', 'received')),
    created_at TEXT NOT NULL,
    created_by TEXT,
    accepted_at TEXT,
    accepted_by TEXT,
    expected_on TEXT,
    received_at TEXT,
    delivery_fee TEXT NOT NULL DEFAULT '0',
    why TEXT
);
CREATE INDEX purchase_orders_store_status ON purchase_orders (store, status);

-- why: the suggestion's evidence for the line (JSON: forecast, safety stock, stock,
-- capacity, pack rounding, supplier choice).
CREATE TABLE purchase_order_lines (
    order_id INTEGER NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    gtin TEXT NOT NULL,
    pack_size INTEGER NOT NULL,
    pack_price TEXT NOT NULL,
    packs INTEGER NOT NULL CHECK (packs >= 0),
    suggested_packs INTEGER NOT NULL,
    received_units INTEGER NOT NULL DEFAULT 0,
    why TEXT,
    PRIMARY KEY (order_id, gtin)
) WITHOUT ROWID;
