-- +goose Up
CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    name            TEXT    NOT NULL,
    display         TEXT    NOT NULL,
    hash            TEXT    NOT NULL UNIQUE,
    scopes          TEXT    NOT NULL,
    rate_per_minute INTEGER NOT NULL DEFAULT 0,
    rate_per_hour   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL DEFAULT 0,
    revoked_at      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX contacts_external_ref ON contacts (external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX messages_recent ON messages (sort_at DESC, id DESC);

-- +goose Down
DROP INDEX messages_recent;
DROP INDEX contacts_external_ref;
DROP TABLE api_tokens;
