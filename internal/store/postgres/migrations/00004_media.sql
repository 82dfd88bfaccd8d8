-- +goose Up
-- Media files kept by wagate, one row per distinct content (the bytes live in the data directory under their
-- SHA-256).
CREATE TABLE media_blobs (
    sha256     TEXT    PRIMARY KEY,
    size       BIGINT NOT NULL,
    mime       TEXT    NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

-- What wagate knows of a message's media beyond messages.media_*: the stored content, the last fetch error
-- and a note once the bytes were deleted.
CREATE TABLE message_media (
    message_id TEXT    PRIMARY KEY REFERENCES messages (id),
    sha256     TEXT    NOT NULL DEFAULT '',
    size       BIGINT NOT NULL DEFAULT 0,
    mime       TEXT    NOT NULL DEFAULT '',
    error      TEXT    NOT NULL DEFAULT '',
    attempts   BIGINT NOT NULL DEFAULT 0,
    fetched_at BIGINT NOT NULL DEFAULT 0,
    note       TEXT    NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
CREATE INDEX message_media_sha256 ON message_media (sha256);
CREATE INDEX message_media_fetched ON message_media (fetched_at);

-- Files uploaded to wagate for sending.
CREATE TABLE media_uploads (
    id         TEXT    PRIMARY KEY,
    sha256     TEXT    NOT NULL,
    mime       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    filename   TEXT    NOT NULL DEFAULT '',
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_uploads_sha256 ON media_uploads (sha256);
CREATE INDEX media_uploads_created ON media_uploads (created_at);

-- The provider's media id of stored content, per channel, until it expires at the provider.
CREATE TABLE media_provider_ids (
    channel     TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    mime        TEXT    NOT NULL,
    provider_id TEXT    NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (channel, sha256, mime)
);

-- +goose Down
DROP TABLE media_provider_ids;
DROP TABLE media_uploads;
DROP TABLE message_media;
DROP TABLE media_blobs;
