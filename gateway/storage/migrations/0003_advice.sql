-- Advice and its lifecycle.

CREATE TABLE advice (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    row INTEGER,
    slot INTEGER,
    kind TEXT NOT NULL,
    cause TEXT NOT NULL,
    sku TEXT,
    name TEXT,
    brand TEXT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    urgency REAL NOT NULL,
    level TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,
    episode_start TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    acknowledged_at TEXT,
    resolved_at TEXT,
    verified INTEGER,
    resolution TEXT,
    dismissed_at TEXT,
    dismiss_reason TEXT
);
CREATE UNIQUE INDEX advice_active_key ON advice (key) WHERE status IN ('open', 'acknowledged');
CREATE INDEX advice_key_episode ON advice (key, episode_start);
CREATE INDEX advice_store_status ON advice (store, status, kind);
