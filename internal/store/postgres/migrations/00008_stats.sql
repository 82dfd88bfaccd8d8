-- +goose Up
-- What each receipt says about billing, in columns the dashboard can group by: the pricing category, the model
-- (PMP per message, CBP per conversation), whether it is billable, and the billing key that counts once per
-- charge (the message id under per-message pricing, "conv:" and the conversation id under conversation pricing).
ALTER TABLE message_statuses ADD COLUMN pricing_category TEXT NOT NULL DEFAULT '';
ALTER TABLE message_statuses ADD COLUMN pricing_model TEXT NOT NULL DEFAULT '';
ALTER TABLE message_statuses ADD COLUMN billable BIGINT NOT NULL DEFAULT 0;
ALTER TABLE message_statuses ADD COLUMN billing_key TEXT NOT NULL DEFAULT '';
UPDATE message_statuses SET
    pricing_category = COALESCE(pricing::jsonb ->> 'category', ''),
    pricing_model = UPPER(COALESCE(pricing::jsonb ->> 'pricing_model', '')),
    billable = CASE WHEN pricing::jsonb ->> 'billable' = 'true' THEN 1 ELSE 0 END,
    billing_key = CASE
        WHEN UPPER(COALESCE(pricing::jsonb ->> 'pricing_model', '')) = 'CBP' AND conversation <> ''
             AND COALESCE(conversation::jsonb ->> 'id', '') <> ''
        THEN 'conv:' || (conversation::jsonb ->> 'id')
        ELSE message_id END
WHERE pricing <> '' AND LEFT(pricing, 1) = '{';
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
