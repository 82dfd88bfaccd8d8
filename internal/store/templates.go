package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

const (
	sqlTemplateDeleteChannel = `DELETE FROM templates WHERE channel = $1`
	sqlTemplateInsert        = `INSERT INTO templates (channel, name, language, provider_id, category, status, parameter_format,
	namespace, rejected_reason, components, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (channel, name, language) DO UPDATE SET provider_id = excluded.provider_id, category = excluded.category,
	status = excluded.status, parameter_format = excluded.parameter_format, namespace = excluded.namespace,
	rejected_reason = excluded.rejected_reason, components = excluded.components, synced_at = excluded.synced_at`
	sqlTemplateSyncUpsert = `INSERT INTO template_syncs (channel, synced_at, template_count) VALUES ($1, $2, $3)
	ON CONFLICT (channel) DO UPDATE SET synced_at = excluded.synced_at, template_count = excluded.template_count`
	sqlTemplateList = `SELECT channel, name, language, provider_id, category, status, parameter_format, namespace,
	rejected_reason, components, synced_at FROM templates WHERE (CAST($1 AS TEXT) = '' OR channel = $1)
	ORDER BY channel, name, language`
	sqlTemplateSyncList = `SELECT channel, synced_at, template_count FROM template_syncs ORDER BY channel`
	sqlWindowFor        = `SELECT v.last_inbound_at, v.window_expires_at FROM conversations v JOIN contacts c ON c.id = v.contact_id
	WHERE v.channel = $1 AND c.phone = $2`
)

// ChannelTemplate is a template of one channel.
type ChannelTemplate struct {
	Channel string `json:"channel"`
	wa.Template
}

// TemplateSyncInfo says when a channel's templates were last read from its provider.
type TemplateSyncInfo struct {
	Channel  string    `json:"channel"`
	SyncedAt time.Time `json:"synced_at"`
	Count    int       `json:"count"`
}

// TemplateReplace makes list the channel's whole set of templates (templates the provider no longer lists are
// removed) and records the sync's time and size.
func (s *Store) TemplateReplace(ctx context.Context, tx Tx, channel string, list []wa.Template) error {
	now := ms(s.now())
	if _, err := tx.Exec(ctx, sqlTemplateDeleteChannel, channel); err != nil {
		return fmt.Errorf("template replace: %w", err)
	}
	for _, t := range list {
		comps := rawText(t.Components)
		if comps == "" {
			comps = "[]"
		}
		if _, err := tx.Exec(ctx, sqlTemplateInsert, channel, t.Name, t.Language, t.ID, t.Category, t.Status,
			t.ParameterFormat, t.Namespace, t.RejectedReason, comps, now); err != nil {
			return fmt.Errorf("template replace %s/%s: %w", t.Name, t.Language, err)
		}
	}
	if _, err := tx.Exec(ctx, sqlTemplateSyncUpsert, channel, now, len(list)); err != nil {
		return fmt.Errorf("template sync record: %w", err)
	}
	return nil
}

// TemplateList returns the templates of channel ("" for every channel) ordered by channel, name and language.
func (s *Store) TemplateList(ctx context.Context, channel string) ([]ChannelTemplate, error) {
	rows, err := s.drv.Read().Query(ctx, sqlTemplateList, channel)
	if err != nil {
		return nil, fmt.Errorf("template list: %w", err)
	}
	defer rows.Close()
	out := []ChannelTemplate{}
	for rows.Next() {
		var t ChannelTemplate
		var comps string
		var synced int64
		if err := rows.Scan(&t.Channel, &t.Name, &t.Language, &t.ID, &t.Category, &t.Status, &t.ParameterFormat,
			&t.Namespace, &t.RejectedReason, &comps, &synced); err != nil {
			return nil, fmt.Errorf("template list scan: %w", err)
		}
		t.Components, t.SyncedAt = textRaw(comps), fromMS(synced)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("template list: %w", err)
	}
	return out, nil
}

// TemplateSyncs returns when each channel's templates were last synced (channels never synced are absent).
func (s *Store) TemplateSyncs(ctx context.Context) ([]TemplateSyncInfo, error) {
	rows, err := s.drv.Read().Query(ctx, sqlTemplateSyncList)
	if err != nil {
		return nil, fmt.Errorf("template syncs: %w", err)
	}
	defer rows.Close()
	out := []TemplateSyncInfo{}
	for rows.Next() {
		var i TemplateSyncInfo
		var at int64
		if err := rows.Scan(&i.Channel, &at, &i.Count); err != nil {
			return nil, fmt.Errorf("template syncs scan: %w", err)
		}
		i.SyncedAt = fromMS(at)
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("template syncs: %w", err)
	}
	return out, nil
}

// Window is a contact's 24-hour customer-service window on one channel.
type Window struct {
	Channel string `json:"channel"`
	// LastInboundAt is the provider time of the contact's last message; zero when they never wrote.
	LastInboundAt time.Time `json:"last_inbound_at,omitzero"`
	// ExpiresAt is when the window closes (or closed): LastInboundAt plus 24 hours; zero when never opened.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Open reports whether free-form messages may be sent at now.
func (w Window) Open(now time.Time) bool { return !w.ExpiresAt.IsZero() && now.Before(w.ExpiresAt) }

// WindowFor returns the window of the contact with phone (E.164) on channel; a contact or conversation that does
// not exist yet has a zero (closed) window.
func (s *Store) WindowFor(ctx context.Context, channel, phone string) (Window, error) {
	w := Window{Channel: channel}
	var in, exp int64
	err := s.drv.Read().QueryRow(ctx, sqlWindowFor, channel, phone).Scan(&in, &exp)
	if errors.Is(err, ErrNoRows) {
		return w, nil
	}
	if err != nil {
		return Window{}, fmt.Errorf("window for %s: %w", channel, err)
	}
	w.LastInboundAt, w.ExpiresAt = fromMS(in), fromMS(exp)
	return w, nil
}
