package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Subscription is an application's webhook: where wagate posts the events it asked for, in which format.
type Subscription struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	Types          []string  `json:"types"`    // empty: every type the format carries
	Channels       []string  `json:"channels"` // empty: every channel
	Format         string    `json:"format"`   // wagate, whatsable or meta
	Secret         string    `json:"-"`
	Description    string    `json:"description,omitempty"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	FailingSince   time.Time `json:"failing_since,omitzero"`
	LastSuccessAt  time.Time `json:"last_success_at,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// AppEvent is a recorded domain event, as delivered to subscriptions.
type AppEvent struct {
	ID             string    `json:"id"`
	Type           string    `json:"type"`
	Channel        string    `json:"channel,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Sequence       int64     `json:"sequence,omitempty"`
	SourceEventID  string    `json:"source_event_id,omitempty"`
	Data           []byte    `json:"-"` // the event's data as JSON
	CreatedAt      time.Time `json:"created_at"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its first or next attempt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // dead-lettered: given up, kept for replay
)

// Delivery is one event on its way to one subscription, with the outcome of its last attempt.
type Delivery struct {
	ID              string    `json:"id"`
	SubscriptionID  string    `json:"subscription_id"`
	EventID         string    `json:"event_id"`
	EventType       string    `json:"event_type,omitempty"`
	State           string    `json:"state"`
	Attempts        int       `json:"attempts"`
	LastStatus      int       `json:"last_status,omitempty"` // HTTP status of the last attempt, 0 when none came
	LastLatencyMS   int64     `json:"last_latency_ms"`
	LastError       string    `json:"last_error,omitempty"`
	ResponseExcerpt string    `json:"response_excerpt,omitempty"`
	StartedAt       time.Time `json:"started_at"` // start of the retry period (creation, or the last replay)
	NextAttemptAt   time.Time `json:"next_attempt_at,omitzero"`
	DeliveredAt     time.Time `json:"delivered_at,omitzero"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

const (
	sqlSubColumns = `id, url, types, channels, format, secret, description, enabled, disabled_reason, failing_since,
	last_success_at, created_at, updated_at`
	sqlSubInsert = `INSERT INTO subscriptions (` + sqlSubColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	sqlSubUpdate = `UPDATE subscriptions SET url = $2, types = $3, channels = $4, format = $5, secret = $6, description = $7,
	enabled = $8, disabled_reason = $9, failing_since = $10, updated_at = $11 WHERE id = $1`
	sqlSubGet     = `SELECT ` + sqlSubColumns + ` FROM subscriptions WHERE id = $1`
	sqlSubList    = `SELECT ` + sqlSubColumns + ` FROM subscriptions ORDER BY id`
	sqlSubDelete  = `DELETE FROM subscriptions WHERE id = $1`
	sqlSubSuccess = `UPDATE subscriptions SET failing_since = 0, last_success_at = $2 WHERE id = $1`
	sqlSubFailing = `UPDATE subscriptions SET failing_since = $2 WHERE id = $1 AND failing_since = 0`
	sqlSubDisable = `UPDATE subscriptions SET enabled = 0, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND enabled = 1`

	sqlAppEventInsert = `INSERT INTO app_events (id, type, channel, conversation_id, sequence, source_event_id, data, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	sqlConvSeqNext = `INSERT INTO subscriber_conversations (conversation_id, sequence) VALUES ($1, 1)
	ON CONFLICT (conversation_id) DO UPDATE SET sequence = subscriber_conversations.sequence + 1 RETURNING sequence`

	sqlDeliveryColumns = `d.id, d.subscription_id, d.event_id, e.type, d.state, d.attempts, d.last_status, d.last_latency_ms,
	d.last_error, d.response_excerpt, d.started_at, d.next_attempt_at, d.delivered_at, d.created_at, d.updated_at`
	sqlDeliveryInsert = `INSERT INTO deliveries (id, subscription_id, event_id, state, started_at, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $5, $5)`
	sqlDeliveryGet  = `SELECT ` + sqlDeliveryColumns + ` FROM deliveries d JOIN app_events e ON e.id = d.event_id WHERE d.id = $1`
	sqlDeliveryList = `SELECT ` + sqlDeliveryColumns + ` FROM deliveries d JOIN app_events e ON e.id = d.event_id
	WHERE (CAST($1 AS TEXT) = '' OR d.subscription_id = $1) AND (CAST($2 AS TEXT) = '' OR d.state = $2)
	AND (CAST($3 AS TEXT) = '' OR d.id < $3) ORDER BY d.id DESC LIMIT $4`
	sqlDeliveryWork = `SELECT ` + sqlDeliveryColumns + `, e.channel, e.conversation_id, e.sequence, e.source_event_id, e.data,
	e.created_at, ` + sqlSubColumnsS + `
	FROM deliveries d JOIN app_events e ON e.id = d.event_id JOIN subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`
	sqlSubColumnsS = `s.id, s.url, s.types, s.channels, s.format, s.secret, s.description, s.enabled, s.disabled_reason,
	s.failing_since, s.last_success_at, s.created_at, s.updated_at`
	sqlDeliveryRecord = `UPDATE deliveries SET state = $2, attempts = attempts + 1, last_status = $3, last_latency_ms = $4,
	last_error = $5, response_excerpt = $6, next_attempt_at = $7, delivered_at = $8, updated_at = $9 WHERE id = $1`
	sqlDeliveryRequeue = `UPDATE deliveries SET state = 'pending', started_at = $2, next_attempt_at = 0, updated_at = $2
	WHERE id = $1 AND state = 'failed'`
	sqlDeliveryFailedIDs = `SELECT id FROM deliveries WHERE state = 'failed' AND (CAST($1 AS TEXT) = '' OR subscription_id = $1)
	ORDER BY id LIMIT $2`
	sqlDeliveryCountByState = `SELECT state, COUNT(*) FROM deliveries GROUP BY state`

	sqlWindowsClosing = `SELECT v.id, v.channel, v.window_expires_at, c.id, COALESCE(c.phone, ''), c.wa_id, c.name
	FROM conversations v JOIN contacts c ON c.id = v.contact_id
	LEFT JOIN subscriber_conversations s ON s.conversation_id = v.id
	WHERE v.window_expires_at > $1 AND v.window_expires_at <= $2 AND COALESCE(s.window_notified, 0) < v.window_expires_at
	ORDER BY v.window_expires_at LIMIT $3`
	sqlWindowNotified = `INSERT INTO subscriber_conversations (conversation_id, window_notified) VALUES ($1, $2)
	ON CONFLICT (conversation_id) DO UPDATE SET window_notified = $2`
)

// SubscriptionInsert stores a new subscription; ID and times are assigned when empty.
func (s *Store) SubscriptionInsert(ctx context.Context, tx Tx, sub *Subscription) error {
	if sub.ID == "" {
		sub.ID = NewID()
	}
	now := s.now()
	if sub.CreatedAt.IsZero() {
		sub.CreatedAt = now
	}
	sub.UpdatedAt = now
	_, err := tx.Exec(ctx, sqlSubInsert, sub.ID, sub.URL, joinList(sub.Types), joinList(sub.Channels), sub.Format, sub.Secret,
		sub.Description, boolInt(sub.Enabled), sub.DisabledReason, ms(sub.FailingSince), ms(sub.LastSuccessAt), ms(sub.CreatedAt), ms(sub.UpdatedAt))
	if err != nil {
		return fmt.Errorf("subscription insert: %w", err)
	}
	return nil
}

// SubscriptionUpdate writes every changeable field of sub.
func (s *Store) SubscriptionUpdate(ctx context.Context, tx Tx, sub *Subscription) error {
	sub.UpdatedAt = s.now()
	n, err := tx.Exec(ctx, sqlSubUpdate, sub.ID, sub.URL, joinList(sub.Types), joinList(sub.Channels), sub.Format, sub.Secret,
		sub.Description, boolInt(sub.Enabled), sub.DisabledReason, ms(sub.FailingSince), ms(sub.UpdatedAt))
	if err != nil {
		return fmt.Errorf("subscription update: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("subscription %s: %w", sub.ID, ErrNotFound)
	}
	return nil
}

// SubscriptionGet returns one subscription; with a Tx it reads inside it.
func (s *Store) SubscriptionGet(ctx context.Context, q Conn, id string) (Subscription, error) {
	if q == nil {
		q = s.drv.Read()
	}
	sub, err := scanSubscription(q.QueryRow(ctx, sqlSubGet, id))
	if errors.Is(err, ErrNoRows) {
		return Subscription{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("subscription get: %w", err)
	}
	return sub, nil
}

// SubscriptionList returns every subscription, oldest first. Subscriptions are few: there is no paging.
func (s *Store) SubscriptionList(ctx context.Context) ([]Subscription, error) {
	rows, err := s.drv.Read().Query(ctx, sqlSubList)
	if err != nil {
		return nil, fmt.Errorf("subscription list: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("subscription list scan: %w", err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subscription list: %w", err)
	}
	return out, nil
}

// SubscriptionDelete removes a subscription. Its deliveries stay in the log; pending ones end failed when their
// job finds the subscription gone.
func (s *Store) SubscriptionDelete(ctx context.Context, tx Tx, id string) error {
	n, err := tx.Exec(ctx, sqlSubDelete, id)
	if err != nil {
		return fmt.Errorf("subscription delete: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	return nil
}

// SubscriptionSucceeded records a successful delivery: the subscription is no longer failing.
func (s *Store) SubscriptionSucceeded(ctx context.Context, tx Tx, id string, at time.Time) error {
	if _, err := tx.Exec(ctx, sqlSubSuccess, id, ms(at)); err != nil {
		return fmt.Errorf("subscription succeeded: %w", err)
	}
	return nil
}

// SubscriptionFailing records a failed delivery: the subscription is failing since at, unless it already was.
func (s *Store) SubscriptionFailing(ctx context.Context, tx Tx, id string, at time.Time) error {
	if _, err := tx.Exec(ctx, sqlSubFailing, id, ms(at)); err != nil {
		return fmt.Errorf("subscription failing: %w", err)
	}
	return nil
}

// SubscriptionDisable disables an enabled subscription with the reason; it reports whether it was enabled.
func (s *Store) SubscriptionDisable(ctx context.Context, tx Tx, id, reason string) (bool, error) {
	n, err := tx.Exec(ctx, sqlSubDisable, id, reason, ms(s.now()))
	if err != nil {
		return false, fmt.Errorf("subscription disable: %w", err)
	}
	return n > 0, nil
}

func scanSubscription(r Row) (Subscription, error) {
	var sub Subscription
	var types, chans string
	var enabled int
	var failing, success, created, updated int64
	if err := r.Scan(&sub.ID, &sub.URL, &types, &chans, &sub.Format, &sub.Secret, &sub.Description, &enabled,
		&sub.DisabledReason, &failing, &success, &created, &updated); err != nil {
		return Subscription{}, err
	}
	sub.Types, sub.Channels, sub.Enabled = nonNil(splitList(types)), nonNil(splitList(chans)), enabled != 0
	sub.FailingSince, sub.LastSuccessAt, sub.CreatedAt, sub.UpdatedAt = fromMS(failing), fromMS(success), fromMS(created), fromMS(updated)
	return sub, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AppEventInsert records a domain event. When it belongs to a conversation it takes the conversation's next
// sequence number, so receivers can order the events of one conversation.
func (s *Store) AppEventInsert(ctx context.Context, tx Tx, ev *AppEvent) error {
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = s.now()
	}
	if ev.ConversationID != "" && ev.Sequence == 0 {
		if err := tx.QueryRow(ctx, sqlConvSeqNext, ev.ConversationID).Scan(&ev.Sequence); err != nil {
			return fmt.Errorf("event sequence: %w", err)
		}
	}
	data := ev.Data
	if data == nil {
		data = []byte("{}")
	}
	_, err := tx.Exec(ctx, sqlAppEventInsert, ev.ID, ev.Type, ev.Channel, ev.ConversationID, ev.Sequence, ev.SourceEventID,
		string(data), ms(ev.CreatedAt))
	if err != nil {
		return fmt.Errorf("app event insert: %w", err)
	}
	return nil
}

// DeliveryInsert records a pending delivery of an event to a subscription; ID is assigned when empty.
func (s *Store) DeliveryInsert(ctx context.Context, tx Tx, d *Delivery) error {
	if d.ID == "" {
		d.ID = NewID()
	}
	now := s.now()
	d.State, d.StartedAt, d.CreatedAt, d.UpdatedAt = DeliveryPending, now, now, now
	if _, err := tx.Exec(ctx, sqlDeliveryInsert, d.ID, d.SubscriptionID, d.EventID, d.State, ms(now)); err != nil {
		return fmt.Errorf("delivery insert: %w", err)
	}
	return nil
}

// DeliveryGet returns one delivery.
func (s *Store) DeliveryGet(ctx context.Context, id string) (Delivery, error) {
	d, err := scanDelivery(s.drv.Read().QueryRow(ctx, sqlDeliveryGet, id))
	if errors.Is(err, ErrNoRows) {
		return Delivery{}, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("delivery get: %w", err)
	}
	return d, nil
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	SubscriptionID string
	State          string
	Cursor         string
	Limit          int
}

// DeliveryList lists deliveries newest first.
func (s *Store) DeliveryList(ctx context.Context, f DeliveryFilter) (Page[Delivery], error) {
	limit := clampLimit(f.Limit)
	rows, err := s.drv.Read().Query(ctx, sqlDeliveryList, f.SubscriptionID, f.State, f.Cursor, limit+1)
	if err != nil {
		return Page[Delivery]{}, fmt.Errorf("delivery list: %w", err)
	}
	defer rows.Close()
	page := Page[Delivery]{Items: []Delivery{}}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return Page[Delivery]{}, fmt.Errorf("delivery list scan: %w", err)
		}
		page.Items = append(page.Items, d)
	}
	if err := rows.Err(); err != nil {
		return Page[Delivery]{}, fmt.Errorf("delivery list: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}

// DeliveryWork is what a delivery job needs: the delivery, its event and its subscription.
type DeliveryWork struct {
	Delivery     Delivery
	Event        AppEvent
	Subscription Subscription
}

// DeliveryWorkGet reads a delivery with its event and subscription. ErrNotFound when the delivery or its
// subscription is gone.
func (s *Store) DeliveryWorkGet(ctx context.Context, id string) (DeliveryWork, error) {
	var w DeliveryWork
	d := &w.Delivery
	e := &w.Event
	sub := &w.Subscription
	var started, next, delivered, created, updated, evCreated int64
	var data, types, chans string
	var enabled int
	var failing, success, sCreated, sUpdated int64
	err := s.drv.Read().QueryRow(ctx, sqlDeliveryWork, id).Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.State,
		&d.Attempts, &d.LastStatus, &d.LastLatencyMS, &d.LastError, &d.ResponseExcerpt, &started, &next, &delivered, &created, &updated,
		&e.Channel, &e.ConversationID, &e.Sequence, &e.SourceEventID, &data, &evCreated,
		&sub.ID, &sub.URL, &types, &chans, &sub.Format, &sub.Secret, &sub.Description, &enabled, &sub.DisabledReason,
		&failing, &success, &sCreated, &sUpdated)
	if errors.Is(err, ErrNoRows) {
		return DeliveryWork{}, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return DeliveryWork{}, fmt.Errorf("delivery work %s: %w", id, err)
	}
	d.StartedAt, d.NextAttemptAt, d.DeliveredAt, d.CreatedAt, d.UpdatedAt = fromMS(started), fromMS(next), fromMS(delivered), fromMS(created), fromMS(updated)
	e.ID, e.Type, e.Data, e.CreatedAt = d.EventID, d.EventType, []byte(data), fromMS(evCreated)
	sub.Types, sub.Channels, sub.Enabled = nonNil(splitList(types)), nonNil(splitList(chans)), enabled != 0
	sub.FailingSince, sub.LastSuccessAt, sub.CreatedAt, sub.UpdatedAt = fromMS(failing), fromMS(success), fromMS(sCreated), fromMS(sUpdated)
	return w, nil
}

// DeliveryAttempt is the outcome of one attempt to deliver.
type DeliveryAttempt struct {
	State           string // the delivery's state after it
	Status          int
	Latency         time.Duration
	Error           string
	ResponseExcerpt string
	NextAttemptAt   time.Time
	At              time.Time
}

// DeliveryRecord records an attempt and the delivery's new state.
func (s *Store) DeliveryRecord(ctx context.Context, tx Tx, id string, a DeliveryAttempt) error {
	var delivered int64
	if a.State == DeliveryDelivered {
		delivered = ms(a.At)
	}
	n, err := tx.Exec(ctx, sqlDeliveryRecord, id, a.State, a.Status, a.Latency.Milliseconds(), a.Error, a.ResponseExcerpt,
		ms(a.NextAttemptAt), delivered, ms(s.now()))
	if err != nil {
		return fmt.Errorf("delivery record: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeliveryRequeue puts a failed delivery back to pending, with a new retry period starting now; it reports
// false when the delivery is not failed.
func (s *Store) DeliveryRequeue(ctx context.Context, tx Tx, id string) (bool, error) {
	n, err := tx.Exec(ctx, sqlDeliveryRequeue, id, ms(s.now()))
	if err != nil {
		return false, fmt.Errorf("delivery requeue: %w", err)
	}
	return n > 0, nil
}

// DeliveryFailedIDs returns up to limit failed deliveries, of one subscription or ("") of all, oldest first.
func (s *Store) DeliveryFailedIDs(ctx context.Context, q Conn, subscriptionID string, limit int) ([]string, error) {
	if q == nil {
		q = s.drv.Read()
	}
	rows, err := q.Query(ctx, sqlDeliveryFailedIDs, subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("failed deliveries: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("failed deliveries scan: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeliveryCounts returns how many deliveries are in each state.
func (s *Store) DeliveryCounts(ctx context.Context) (map[string]int, error) {
	return s.countByState(ctx, sqlDeliveryCountByState, "delivery counts")
}

func scanDelivery(r Row) (Delivery, error) {
	var d Delivery
	var started, next, delivered, created, updated int64
	if err := r.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &d.LastStatus, &d.LastLatencyMS,
		&d.LastError, &d.ResponseExcerpt, &started, &next, &delivered, &created, &updated); err != nil {
		return Delivery{}, err
	}
	d.StartedAt, d.NextAttemptAt, d.DeliveredAt, d.CreatedAt, d.UpdatedAt = fromMS(started), fromMS(next), fromMS(delivered), fromMS(created), fromMS(updated)
	return d, nil
}

// ClosingWindow is a conversation whose 24-hour window closes soon and has not been announced yet.
type ClosingWindow struct {
	ConversationID string
	Channel        string
	ExpiresAt      time.Time
	Contact        Contact
}

// WindowsClosing returns up to limit conversations whose window closes in (from, to] and that were not
// announced for that window yet, soonest first.
func (s *Store) WindowsClosing(ctx context.Context, tx Tx, from, to time.Time, limit int) ([]ClosingWindow, error) {
	rows, err := tx.Query(ctx, sqlWindowsClosing, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("windows closing: %w", err)
	}
	defer rows.Close()
	var out []ClosingWindow
	for rows.Next() {
		var w ClosingWindow
		var exp int64
		if err := rows.Scan(&w.ConversationID, &w.Channel, &exp, &w.Contact.ID, &w.Contact.Phone, &w.Contact.WAID, &w.Contact.Name); err != nil {
			return nil, fmt.Errorf("windows closing scan: %w", err)
		}
		w.ExpiresAt = fromMS(exp)
		out = append(out, w)
	}
	return out, rows.Err()
}

// WindowAnnounced records that the window of a conversation closing at expiresAt was announced.
func (s *Store) WindowAnnounced(ctx context.Context, tx Tx, conversationID string, expiresAt time.Time) error {
	if _, err := tx.Exec(ctx, sqlWindowNotified, conversationID, ms(expiresAt)); err != nil {
		return fmt.Errorf("window announced: %w", err)
	}
	return nil
}
