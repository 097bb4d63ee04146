-- Webhook and bus subscriptions, and the durable outbox. An outbox row is written in the same
-- transaction as its event, only when the subscription's owner may see the event; the
-- dispatcher delivers pending rows in `seq` order per camera and records the outcome.
CREATE TABLE hook_subscriptions (
    id             TEXT PRIMARY KEY NOT NULL,
    owner_user     TEXT NOT NULL REFERENCES users (id),
    target         TEXT NOT NULL,              -- http(s)://, nats:// or mqtt:// (see docs/hooks.md)
    kinds          TEXT NOT NULL,              -- JSON array of event kinds; [] is every kind
    cameras        TEXT NOT NULL,              -- JSON array of camera ids; [] is every camera
    plates         TEXT NOT NULL,              -- JSON array of plates, "皖S*" a prefix; [] is any
    secret         TEXT NOT NULL,              -- HMAC-SHA256 key for X-Xl-Signature
    max_in_flight  INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('active', 'paused', 'deleted')),
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    lease_owner    TEXT,                       -- the dispatcher process delivering it
    lease_until_ms INTEGER
);

CREATE TABLE hook_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES hook_subscriptions (id),
    event_id        TEXT NOT NULL,
    camera_id       TEXT NOT NULL,
    event_ts_ms     INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,          -- when the event was stored (latency is from here)
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'withheld', 'redelivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    done_ms         INTEGER
);
CREATE INDEX hook_outbox_pending ON hook_outbox (subscription_id, seq) WHERE state = 'pending';
CREATE INDEX hook_outbox_event_ts ON hook_outbox (subscription_id, event_ts_ms);
CREATE INDEX hook_outbox_state ON hook_outbox (subscription_id, state);
