-- +goose Up
-- The shared rate governor of instances on one database: one row per channel and per paced recipient.
-- tat is the theoretical arrival time (GCRA) in microseconds since the epoch.
CREATE TABLE rate_buckets (
    key          TEXT PRIMARY KEY,
    tat          INTEGER NOT NULL DEFAULT 0,
    paused_until INTEGER NOT NULL DEFAULT 0,
    strikes      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rate_buckets_tat ON rate_buckets (tat);

-- +goose Down
DROP TABLE rate_buckets;
