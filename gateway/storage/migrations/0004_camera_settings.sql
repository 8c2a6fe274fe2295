-- Per-camera settings: snapshots are off until someone enables them for a camera.

CREATE TABLE camera_settings (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    snapshots_enabled INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;
