-- Signed model roll-outs (gateway/rollout): uploaded models, the roll-outs that announce
-- them to cameras in waves (canaries first), each camera's outcome, and which roll-out's
-- announcement each camera is given now (republished on every start).

CREATE TABLE models (
    version TEXT PRIMARY KEY,
    files TEXT NOT NULL,          -- JSON: [{variant, name, size, sha256}], as signed
    signature TEXT NOT NULL,      -- Ed25519 over the manifest, base64
    key_id TEXT NOT NULL,         -- sha256 of the signing public key, 16 hex digits
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT
) WITHOUT ROWID;

CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL REFERENCES models (version),
    token TEXT NOT NULL,          -- download token the announcements carry
    stage TEXT NOT NULL,          -- canary, complete, rolled_back
    auto_promote INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by TEXT,
    promoted_at TEXT,
    rolled_back_at TEXT
);

CREATE TABLE rollout_cameras (
    rollout_id INTEGER NOT NULL REFERENCES rollouts (id),
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    wave TEXT NOT NULL,           -- canary or rest
    announced_at TEXT,            -- NULL: the rest, before promotion
    previous_rollout_id INTEGER,  -- the announcement it had before (NULL: its own model)
    outcome TEXT,                 -- switched, rejected, reverted (the node's report)
    reason TEXT,
    running_version TEXT,
    check_json TEXT,
    reported_at TEXT,
    PRIMARY KEY (rollout_id, store, camera)
) WITHOUT ROWID;

CREATE TABLE model_assignments (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    rollout_id INTEGER NOT NULL REFERENCES rollouts (id),
    announced_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;
