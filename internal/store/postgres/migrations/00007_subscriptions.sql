-- +goose Up
CREATE TABLE subscriptions (
    id              TEXT PRIMARY KEY,
    url             TEXT    NOT NULL,
    types           TEXT    NOT NULL DEFAULT '',
    channels        TEXT    NOT NULL DEFAULT '',
    format          TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    enabled         BIGINT NOT NULL DEFAULT 1,
    disabled_reason TEXT    NOT NULL DEFAULT '',
    failing_since   BIGINT NOT NULL DEFAULT 0,
    last_success_at BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE app_events (
    id              TEXT PRIMARY KEY,
    type            TEXT    NOT NULL,
    channel         TEXT    NOT NULL DEFAULT '',
    conversation_id TEXT    NOT NULL DEFAULT '',
    sequence        BIGINT NOT NULL DEFAULT 0,
    source_event_id TEXT    NOT NULL DEFAULT '',
    data            TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT    NOT NULL,
    event_id         TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status      BIGINT NOT NULL DEFAULT 0,
    last_latency_ms  BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    response_excerpt TEXT    NOT NULL DEFAULT '',
    started_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL DEFAULT 0,
    delivered_at     BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_state ON deliveries (state, id);

CREATE TABLE subscriber_conversations (
    conversation_id TEXT PRIMARY KEY,
    sequence        BIGINT NOT NULL DEFAULT 0,
    window_notified BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE subscriber_conversations;
DROP TABLE deliveries;
DROP TABLE app_events;
DROP TABLE subscriptions;
