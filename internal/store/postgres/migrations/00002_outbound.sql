-- +goose Up
ALTER TABLE messages ADD COLUMN request TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
ALTER TABLE messages ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN retry_of TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX messages_idempotency ON messages (channel, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX messages_idempotency;
ALTER TABLE messages DROP COLUMN retry_of;
ALTER TABLE messages DROP COLUMN error_class;
ALTER TABLE messages DROP COLUMN attempts;
ALTER TABLE messages DROP COLUMN request_hash;
ALTER TABLE messages DROP COLUMN idempotency_key;
ALTER TABLE messages DROP COLUMN request;
