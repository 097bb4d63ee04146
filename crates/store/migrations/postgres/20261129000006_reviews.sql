-- Analysts' decisions on violation events (confirm / dismiss with a reason). Kept apart from
-- `events` so a review applies the same to hot and cold events and its history is never
-- overwritten: the latest row is the current decision. Every review is also audited.
CREATE TABLE event_reviews (
    seq           BIGSERIAL PRIMARY KEY,
    event_id      TEXT COLLATE "C" NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ('confirm', 'dismiss')),
    reason        TEXT NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL,
    department_id TEXT COLLATE "C" NOT NULL,
    at_ms         BIGINT NOT NULL
);
CREATE INDEX event_reviews_event ON event_reviews (event_id, seq);
