-- Push alerts (gateway/alerts): each user's channels and quiet hours, the problems
-- alerted on (one row per advice or camera outage episode, so a problem is alerted once)
-- and the delivery log, which is also the queue the alert thread sends from.

CREATE TABLE alert_channels (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'apprise')),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX alert_channels_user ON alert_channels (user_id);

-- Quiet hours (HH:MM) in the user's own time zone; no row: none.
CREATE TABLE alert_quiet_hours (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    timezone TEXT NOT NULL
);

-- key: advice:<id> or camera-offline:<store>/<camera>@<when it went offline>;
-- closed_at set when the problem is over (advice closed, camera back).
CREATE TABLE alert_problems (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    store TEXT NOT NULL,
    camera TEXT,
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
) WITHOUT ROWID;
CREATE INDEX alert_problems_open ON alert_problems (kind, store, camera) WHERE closed_at IS NULL;

-- status: pending (due at next_attempt_at), held (quiet hours, due when they end), sent,
-- dropped (the problem was over before it could be sent), failed (gave up).
CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    problem_key TEXT NOT NULL,
    channel_id INTEGER REFERENCES alert_channels (id) ON DELETE SET NULL,
    user_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'held', 'sent', 'dropped', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    UNIQUE (problem_key, channel_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status IN ('pending', 'held');
CREATE INDEX alert_deliveries_user ON alert_deliveries (user_name, id);
