-- +goose Up
-- A contact's conversations are read by contact (contacts pages, GET /v1/contacts): the unique (channel,
-- contact_id) index cannot serve that without statistics.
CREATE INDEX conversations_contact ON conversations (contact_id);

-- +goose Down
DROP INDEX conversations_contact;
