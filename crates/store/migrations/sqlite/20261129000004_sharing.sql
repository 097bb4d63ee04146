-- The sharing model (分用户、分级、分权限): departments own cameras at a share level 1 (open) to
-- 3 (restricted); users belong to one department with one role; a grant lets a grantee
-- department see an owner department's cameras up to a level, for some event kinds, with
-- field masks, until an optional expiry. Booleans are 0/1 integers on both backends.
CREATE TABLE departments (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE cameras (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    department_id TEXT NOT NULL REFERENCES departments (id),
    share_level   INTEGER NOT NULL CHECK (share_level BETWEEN 1 AND 3),
    lat           REAL,
    lon           REAL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX cameras_department ON cameras (department_id, share_level);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    department_id TEXT NOT NULL REFERENCES departments (id),
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'supervisor', 'admin')),
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE grants (
    id                 TEXT PRIMARY KEY NOT NULL,
    owner_department   TEXT NOT NULL REFERENCES departments (id),
    grantee_department TEXT NOT NULL REFERENCES departments (id),
    max_level          INTEGER NOT NULL CHECK (max_level BETWEEN 1 AND 3),
    mask_plate         INTEGER NOT NULL,
    mask_evidence      INTEGER NOT NULL,
    expires_ms         INTEGER,
    revoked_ms         INTEGER,
    created_ms         INTEGER NOT NULL,
    created_by         TEXT NOT NULL
);
CREATE INDEX grants_grantee ON grants (grantee_department, owner_department);

-- The event kinds a grant covers; '*' is every kind.
CREATE TABLE grant_kinds (
    grant_id TEXT NOT NULL REFERENCES grants (id),
    kind     TEXT NOT NULL,
    PRIMARY KEY (grant_id, kind)
);

-- Bearer tokens: only the SHA-256 of the secret part is stored.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    secret_sha256 TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    expires_ms    INTEGER,
    revoked_ms    INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The audit log becomes a hash chain: each record's hash covers its fields and the previous
-- record's hash. Records written before this migration are chained when the store opens.
ALTER TABLE audit_log ADD COLUMN department_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE INDEX audit_log_department ON audit_log (department_id, seq);
