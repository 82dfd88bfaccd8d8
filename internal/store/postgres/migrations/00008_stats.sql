-- +goose Up
-- One row per charge the provider's receipts announced: a billable message under per-message pricing (PMP,
-- billing key = the message id), a billable conversation under conversation-based pricing (CBP, billing key =
-- "conv:" and the conversation id). Sent and delivered receipts both carry pricing; the key keeps one row.
CREATE TABLE billing_charges (
    billing_key TEXT PRIMARY KEY,
    category    TEXT    NOT NULL DEFAULT '',
    model       TEXT    NOT NULL DEFAULT '',
    message_id  TEXT    NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX billing_charges_recorded ON billing_charges (recorded_at, category, model);
INSERT INTO billing_charges (billing_key, category, model, message_id, recorded_at)
SELECT CASE
        WHEN UPPER(COALESCE(pricing::jsonb ->> 'pricing_model', '')) = 'CBP' AND conversation <> ''
             AND COALESCE(conversation::jsonb ->> 'id', '') <> ''
        THEN 'conv:' || (conversation::jsonb ->> 'id')
        ELSE message_id END,
    COALESCE(pricing::jsonb ->> 'category', ''), UPPER(COALESCE(pricing::jsonb ->> 'pricing_model', '')), message_id, MIN(recorded_at)
FROM message_statuses
WHERE pricing <> '' AND LEFT(pricing, 1) = '{' AND pricing::jsonb ->> 'billable' = 'true'
GROUP BY 1, 2, 3, 4
ON CONFLICT (billing_key) DO NOTHING;
-- The dashboard's counts per UTC day, direction and status read this index alone, in its order.
CREATE INDEX messages_daily ON messages (direction, (sort_at / 86400000), status, sort_at);
-- Failed (or any status's) outbound messages of a period, newest first.
CREATE INDEX messages_direction_status ON messages (direction, status, sort_at);

-- +goose Down
DROP INDEX messages_direction_status;
DROP INDEX messages_daily;
DROP TABLE billing_charges;
