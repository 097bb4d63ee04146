-- Events: the full JSON document plus the columns every query filters on.
CREATE TABLE events (
    id         TEXT PRIMARY KEY NOT NULL,  -- UUIDv7, so ids sort by creation time
    kind       TEXT NOT NULL,
    camera_id  TEXT NOT NULL,
    ts_ms      INTEGER NOT NULL,           -- event time, Unix milliseconds
    plate_text TEXT,
    body       TEXT NOT NULL               -- the event as JSON (DESIGN.md schema)
);
CREATE INDEX events_plate_ts ON events (plate_text, ts_ms, id) WHERE plate_text IS NOT NULL;
CREATE INDEX events_camera_ts ON events (camera_id, ts_ms, id);
CREATE INDEX events_kind_ts ON events (kind, ts_ms, id);
CREATE INDEX events_ts ON events (ts_ms, id);

-- Latest health snapshot per camera, written by the running pipeline, read by `xl cameras status`.
CREATE TABLE camera_health (
    camera_id  TEXT PRIMARY KEY NOT NULL,
    updated_ms INTEGER NOT NULL,
    body       TEXT NOT NULL
);
