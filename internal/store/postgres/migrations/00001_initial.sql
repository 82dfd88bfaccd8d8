-- +goose Up
CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    channel        TEXT    NOT NULL DEFAULT '',
    auth_channels  TEXT    NOT NULL DEFAULT '',
    received_at    BIGINT  NOT NULL,
    remote_addr    TEXT    NOT NULL DEFAULT '',
    content_type   TEXT    NOT NULL DEFAULT '',
    body           BYTEA   NOT NULL,
    shape          TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL,
    error          TEXT    NOT NULL DEFAULT '',
    attempts       BIGINT  NOT NULL DEFAULT 0,
    processed_at   BIGINT  NOT NULL DEFAULT 0,
    received_count BIGINT  NOT NULL DEFAULT 0,
    stored_count   BIGINT  NOT NULL DEFAULT 0,
    status_count   BIGINT  NOT NULL DEFAULT 0,
    updated_count  BIGINT  NOT NULL DEFAULT 0,
    notice_count   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX events_state ON events (state, id);

CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    phone        TEXT,
    phone_tail   TEXT,
    wa_id        TEXT    NOT NULL DEFAULT '',
    user_id      TEXT,
    name         TEXT    NOT NULL DEFAULT '',
    username     TEXT    NOT NULL DEFAULT '',
    external_ref TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX contacts_phone ON contacts (phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX contacts_user_id ON contacts (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX contacts_phone_tail ON contacts (phone_tail);

CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    channel           TEXT    NOT NULL,
    contact_id        TEXT    NOT NULL REFERENCES contacts (id),
    last_message_at   BIGINT  NOT NULL DEFAULT 0,
    last_message_id   TEXT    NOT NULL DEFAULT '',
    last_preview      TEXT    NOT NULL DEFAULT '',
    last_direction    TEXT    NOT NULL DEFAULT '',
    unread_count      BIGINT  NOT NULL DEFAULT 0,
    last_inbound_at   BIGINT  NOT NULL DEFAULT 0,
    window_expires_at BIGINT  NOT NULL DEFAULT 0,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    UNIQUE (channel, contact_id)
);
CREATE INDEX conversations_recent ON conversations (last_message_at DESC, id DESC);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    channel         TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id),
    contact_id      TEXT    NOT NULL REFERENCES contacts (id),
    direction       TEXT    NOT NULL,
    provider_id     TEXT,
    type            TEXT    NOT NULL,
    text            TEXT    NOT NULL DEFAULT '',
    payload         TEXT    NOT NULL DEFAULT '',
    raw             TEXT    NOT NULL DEFAULT '',
    reply_to        TEXT    NOT NULL DEFAULT '',
    forwarded       BOOLEAN NOT NULL DEFAULT FALSE,
    referral        TEXT    NOT NULL DEFAULT '',
    errors          TEXT    NOT NULL DEFAULT '',
    media_id        TEXT    NOT NULL DEFAULT '',
    media_mime      TEXT    NOT NULL DEFAULT '',
    media_sha256    TEXT    NOT NULL DEFAULT '',
    media_filename  TEXT    NOT NULL DEFAULT '',
    media_status    TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL,
    status_rank     BIGINT  NOT NULL DEFAULT 0,
    status_at       BIGINT  NOT NULL DEFAULT 0,
    error_code      BIGINT  NOT NULL DEFAULT 0,
    error_title     TEXT    NOT NULL DEFAULT '',
    error_detail    TEXT    NOT NULL DEFAULT '',
    provider_ts     BIGINT  NOT NULL DEFAULT 0,
    sort_at         BIGINT  NOT NULL,
    event_id        TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX messages_provider_id ON messages (channel, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, sort_at DESC, id DESC);

CREATE TABLE message_statuses (
    message_id   TEXT    NOT NULL REFERENCES messages (id),
    status       TEXT    NOT NULL,
    provider_ts  BIGINT  NOT NULL DEFAULT 0,
    recorded_at  BIGINT  NOT NULL,
    error_code   BIGINT  NOT NULL DEFAULT 0,
    error_title  TEXT    NOT NULL DEFAULT '',
    error_detail TEXT    NOT NULL DEFAULT '',
    conversation TEXT    NOT NULL DEFAULT '',
    pricing      TEXT    NOT NULL DEFAULT '',
    event_id     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, status)
);

CREATE TABLE parked_receipts (
    channel      TEXT    NOT NULL,
    provider_id  TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    provider_ts  BIGINT  NOT NULL DEFAULT 0,
    recorded_at  BIGINT  NOT NULL,
    error_code   BIGINT  NOT NULL DEFAULT 0,
    error_title  TEXT    NOT NULL DEFAULT '',
    error_detail TEXT    NOT NULL DEFAULT '',
    conversation TEXT    NOT NULL DEFAULT '',
    pricing      TEXT    NOT NULL DEFAULT '',
    event_id     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (channel, provider_id, status)
);

CREATE TABLE notices (
    id         TEXT PRIMARY KEY,
    channel    TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    code       BIGINT  NOT NULL DEFAULT 0,
    title      TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '',
    payload    TEXT    NOT NULL DEFAULT '',
    event_id   TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);
CREATE INDEX notices_kind ON notices (kind, id);

-- +goose Down
DROP TABLE notices;
DROP TABLE parked_receipts;
DROP TABLE message_statuses;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE events;
