-- The cold tier's manifest: one row per Parquet file. A file is 'writing' from before its upload
-- until the same transaction that deletes its events from the hot table marks it 'live', so a
-- query sees each event in exactly one tier. 'expired' files are deleted from the object store
-- by the retention task (with their events' evidence) and then removed from this table.
CREATE TABLE cold_files (
    path       TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    day        TEXT NOT NULL,        -- YYYY-MM-DD in China Standard Time
    state      TEXT NOT NULL,        -- writing | live | expired
    rows       INTEGER NOT NULL,
    checksum   TEXT NOT NULL,
    min_ts_ms  INTEGER NOT NULL,
    max_ts_ms  INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX cold_files_state_ts ON cold_files (state, min_ts_ms);

-- Append-only record of who did what to which resources (retention deletes here; API reads
-- with the sharing issue).
CREATE TABLE audit_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms    INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    resource TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL             -- JSON
);
