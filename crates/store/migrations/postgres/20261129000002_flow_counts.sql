-- Flow counts per count line, direction, vehicle class and interval (see the SQLite migration).
CREATE TABLE flow_counts (
    camera_id         TEXT COLLATE "C" NOT NULL,
    line_id           TEXT COLLATE "C" NOT NULL,
    direction         TEXT COLLATE "C" NOT NULL,
    class             TEXT COLLATE "C" NOT NULL,
    interval_start_ms BIGINT NOT NULL,
    interval_end_ms   BIGINT NOT NULL,
    count             BIGINT NOT NULL,
    PRIMARY KEY (camera_id, line_id, direction, class, interval_start_ms)
);
CREATE INDEX flow_counts_time ON flow_counts (interval_start_ms);
