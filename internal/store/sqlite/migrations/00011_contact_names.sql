-- +goose Up
-- A name given by staff or the API (name_set) stays when the contact's WhatsApp profile name changes; the
-- profile name is kept beside it.
ALTER TABLE contacts ADD COLUMN profile_name TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN name_set INTEGER NOT NULL DEFAULT 0;
UPDATE contacts SET profile_name = name;

-- +goose Down
ALTER TABLE contacts DROP COLUMN name_set;
ALTER TABLE contacts DROP COLUMN profile_name;
