-- The sharing model (分用户、分级、分权限): departments own cameras at a share level 1 (open) to
-- 3 (restricted); users belong to one department with one role; a grant lets a grantee
-- department see an owner department's cameras up to a level, for some event kinds, with
-- field masks, until an optional expiry. Booleans are 0/1 integers on both backends.
CREATE TABLE departments (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE cameras (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL REFERENCES departments (id),
    share_level   BIGINT NOT NULL CHECK (share_level BETWEEN 1 AND 3),
    lat           DOUBLE PRECISION,
    lon           DOUBLE PRECISION,
    updated_ms    BIGINT NOT NULL
);
CREATE INDEX cameras_department ON cameras (department_id, share_level);

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL REFERENCES departments (id),
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'supervisor', 'admin')),
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_ms    BIGINT NOT NULL
);

CREATE TABLE grants (
    id                 TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    owner_department   TEXT COLLATE "C" NOT NULL REFERENCES departments (id),
    grantee_department TEXT COLLATE "C" NOT NULL REFERENCES departments (id),
    max_level          BIGINT NOT NULL CHECK (max_level BETWEEN 1 AND 3),
    mask_plate         BIGINT NOT NULL,
    mask_evidence      BIGINT NOT NULL,
    expires_ms         BIGINT,
    revoked_ms         BIGINT,
    created_ms         BIGINT NOT NULL,
    created_by         TEXT NOT NULL
);
CREATE INDEX grants_grantee ON grants (grantee_department, owner_department);

-- The event kinds a grant covers; '*' is every kind.
CREATE TABLE grant_kinds (
    grant_id TEXT COLLATE "C" NOT NULL REFERENCES grants (id),
    kind     TEXT NOT NULL,
    PRIMARY KEY (grant_id, kind)
);

-- Bearer tokens: only the SHA-256 of the secret part is stored.
CREATE TABLE api_tokens (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    secret_sha256 TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT,
    revoked_ms    BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The audit log becomes a hash chain: each record's hash covers its fields and the previous
-- record's hash. Records written before this migration are chained when the store opens.
ALTER TABLE audit_log ADD COLUMN department_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE INDEX audit_log_department ON audit_log (department_id, seq);
