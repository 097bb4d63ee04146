-- Flow counts per count line, direction, vehicle class and interval: a time series written from
-- `flow_count` events. Class 'total' is every class together (written even when zero, so quiet
-- intervals are distinguishable from missing data).
CREATE TABLE flow_counts (
    camera_id         TEXT NOT NULL,
    line_id           TEXT NOT NULL,
    direction         TEXT NOT NULL,
    class             TEXT NOT NULL,
    interval_start_ms INTEGER NOT NULL,
    interval_end_ms   INTEGER NOT NULL,
    count             INTEGER NOT NULL,
    PRIMARY KEY (camera_id, line_id, direction, class, interval_start_ms)
);
CREATE INDEX flow_counts_time ON flow_counts (interval_start_ms);
