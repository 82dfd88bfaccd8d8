-- +goose Up
-- What each receipt says about billing, in columns the dashboard can group by: the pricing category, the model
-- (PMP per message, CBP per conversation), whether it is billable, and the billing key that counts once per
-- charge (the message id under per-message pricing, "conv:" and the conversation id under conversation pricing).
ALTER TABLE message_statuses ADD COLUMN pricing_category TEXT NOT NULL DEFAULT '';
ALTER TABLE message_statuses ADD COLUMN pricing_model TEXT NOT NULL DEFAULT '';
ALTER TABLE message_statuses ADD COLUMN billable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE message_statuses ADD COLUMN billing_key TEXT NOT NULL DEFAULT '';
UPDATE message_statuses SET
    pricing_category = COALESCE(json_extract(pricing, '$.category'), ''),
    pricing_model = UPPER(COALESCE(json_extract(pricing, '$.pricing_model'), '')),
    billable = CASE WHEN json_extract(pricing, '$.billable') IN (1, 'true') THEN 1 ELSE 0 END,
    billing_key = CASE
        WHEN UPPER(COALESCE(json_extract(pricing, '$.pricing_model'), '')) = 'CBP' AND json_valid(conversation)
             AND COALESCE(json_extract(conversation, '$.id'), '') <> ''
        THEN 'conv:' || json_extract(conversation, '$.id')
        ELSE message_id END
WHERE pricing <> '' AND json_valid(pricing);
CREATE INDEX message_statuses_billing ON message_statuses (billable, recorded_at, pricing_category, billing_key);
-- The dashboard's per-day and per-status counts read this index alone.
CREATE INDEX messages_stats ON messages (direction, sort_at, status);

-- +goose Down
DROP INDEX messages_stats;
DROP INDEX message_statuses_billing;
ALTER TABLE message_statuses DROP COLUMN billing_key;
ALTER TABLE message_statuses DROP COLUMN billable;
ALTER TABLE message_statuses DROP COLUMN pricing_model;
ALTER TABLE message_statuses DROP COLUMN pricing_category;
