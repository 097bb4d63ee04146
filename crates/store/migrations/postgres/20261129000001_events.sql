-- Events: the full JSON document plus the columns every query filters on. Same shape as the
-- SQLite schema; text columns use the "C" collation so prefix ranges and keyset order are byte
-- order, as in SQLite.
CREATE TABLE events (
    id         UUID PRIMARY KEY,              -- UUIDv7, so ids sort by creation time
    kind       TEXT COLLATE "C" NOT NULL,
    camera_id  TEXT COLLATE "C" NOT NULL,
    ts_ms      BIGINT NOT NULL,               -- event time, Unix milliseconds
    plate_text TEXT COLLATE "C",
    body       TEXT NOT NULL                  -- the event as JSON (DESIGN.md schema)
);
CREATE INDEX events_plate_ts ON events (plate_text, ts_ms, id) WHERE plate_text IS NOT NULL;
CREATE INDEX events_camera_ts ON events (camera_id, ts_ms, id);
CREATE INDEX events_kind_ts ON events (kind, ts_ms, id);
CREATE INDEX events_ts ON events (ts_ms, id);

-- Latest health snapshot per camera, written by the running pipeline, read by `xl cameras status`.
CREATE TABLE camera_health (
    camera_id  TEXT COLLATE "C" PRIMARY KEY,
    updated_ms BIGINT NOT NULL,
    body       TEXT NOT NULL
);
