-- Cameras, their latest state and health, the slot change log, events, layouts and
-- dead letters.
--
-- slot_states is a change log: a row is written when a slot's status or SKU changes, and that
-- state holds until the slot's next row.

CREATE TABLE cameras (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    availability_at TEXT,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE camera_state (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    seq INTEGER NOT NULL,
    layout_version TEXT,
    score REAL,
    occluded INTEGER NOT NULL,
    payload TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE slot_states (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    row INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    sku TEXT,
    status TEXT NOT NULL,
    confidence REAL NOT NULL,
    gap_fraction REAL NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX slot_states_camera_ts ON slot_states (store, camera, ts);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    row INTEGER,
    slot INTEGER,
    sku TEXT,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_camera_ts ON events (store, camera, ts);
CREATE INDEX events_type_ts ON events (type, ts);

CREATE TABLE health_latest (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE health_history (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    uptime_s REAL NOT NULL,
    frames_processed INTEGER NOT NULL,
    frames_failed INTEGER NOT NULL,
    camera_ok INTEGER NOT NULL,
    inference_ms REAL,
    fps REAL,
    cpu_temp_c REAL,
    payload TEXT NOT NULL
);
CREATE UNIQUE INDEX health_history_camera_ts ON health_history (store, camera, ts);

CREATE TABLE layouts (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    version TEXT NOT NULL,
    layout TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    payload BLOB NOT NULL,
    payload_text TEXT NOT NULL
);
