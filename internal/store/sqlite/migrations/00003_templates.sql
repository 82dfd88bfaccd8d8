-- +goose Up
CREATE TABLE templates (
    channel          TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    provider_id      TEXT    NOT NULL DEFAULT '',
    category         TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT '',
    parameter_format TEXT    NOT NULL DEFAULT 'POSITIONAL',
    namespace        TEXT    NOT NULL DEFAULT '',
    rejected_reason  TEXT    NOT NULL DEFAULT '',
    components       TEXT    NOT NULL DEFAULT '[]',
    synced_at        INTEGER NOT NULL,
    PRIMARY KEY (channel, name, language)
);
CREATE TABLE template_syncs (
    channel   TEXT PRIMARY KEY,
    synced_at INTEGER NOT NULL,
    template_count INTEGER NOT NULL
);

-- +goose Down
DROP TABLE template_syncs;
DROP TABLE templates;
