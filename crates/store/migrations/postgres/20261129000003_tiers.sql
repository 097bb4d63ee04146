-- The cold tier's manifest and the audit log; see the SQLite migration for the state machine.
CREATE TABLE cold_files (
    path       TEXT COLLATE "C" PRIMARY KEY,
    kind       TEXT COLLATE "C" NOT NULL,
    day        TEXT COLLATE "C" NOT NULL,
    state      TEXT COLLATE "C" NOT NULL,
    rows       BIGINT NOT NULL,
    checksum   TEXT NOT NULL,
    min_ts_ms  BIGINT NOT NULL,
    max_ts_ms  BIGINT NOT NULL,
    bytes      BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX cold_files_state_ts ON cold_files (state, min_ts_ms);

CREATE TABLE audit_log (
    seq      BIGSERIAL PRIMARY KEY,
    ts_ms    BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    resource TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL
);
