package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The dashboard's aggregations. Each is one GROUP BY over a range of an index (migration 00008): messages by
// (direction, sort_at, status), receipts by (billable, recorded_at, pricing_category, billing_key), so that
// their cost grows with the period asked for, not with the whole history. Days are UTC days.
const (
	dayMS = 24 * 60 * 60 * 1000

	// sqlMessageDaily groups in the order of the index messages_daily (direction, day, status), which it reads
	// alone: no sort, no table access.
	sqlMessageDaily = `SELECT direction, sort_at / 86400000, status, COUNT(*) FROM messages
	WHERE direction IN ('in', 'out') AND sort_at / 86400000 >= $1 AND sort_at / 86400000 <= $2
	GROUP BY direction, sort_at / 86400000, status`
	sqlMessageStatusCounts = `SELECT status, COUNT(*) FROM messages
	WHERE direction = 'out' AND sort_at >= $1 AND sort_at < $2 GROUP BY status`
	sqlMessageFailureReasons = `SELECT error_code, error_title, COUNT(*) FROM messages
	WHERE direction = 'out' AND status = 'failed' AND sort_at >= $1 AND sort_at < $2
	GROUP BY error_code, error_title ORDER BY 3 DESC, 1 LIMIT $3`
	sqlBillingCounts = `SELECT category, model, COUNT(*) FROM billing_charges
	WHERE recorded_at >= $1 AND recorded_at < $2 GROUP BY category, model`
	sqlBillingInsert = `INSERT INTO billing_charges (billing_key, category, model, message_id, recorded_at)
	VALUES ($1, $2, $3, $4, $5) ON CONFLICT (billing_key) DO NOTHING`
)

// DayCount is the number of messages in each direction on one UTC day, with the outbound ones by current status.
type DayCount struct {
	Day       time.Time // midnight UTC
	In, Out   int
	OutStatus map[string]int
}

// MessageDaily counts messages per UTC day and direction, and outbound ones per status, whose time (provider
// time, else arrival) falls on the days from since's to until's (until's excluded when until is midnight).
// Every day of the range has an entry, oldest first, zero when nothing happened.
func (s *Store) MessageDaily(ctx context.Context, since, until time.Time) ([]DayCount, error) {
	first := ms(since) / dayMS
	last := (ms(until) - 1) / dayMS
	if last < first {
		return []DayCount{}, nil
	}
	rows, err := s.drv.Read().Query(ctx, sqlMessageDaily, first, last)
	if err != nil {
		return nil, fmt.Errorf("message daily: %w", err)
	}
	defer rows.Close()
	out := make([]DayCount, last-first+1)
	for i := range out {
		out[i].Day = time.UnixMilli((first + int64(i)) * dayMS).UTC()
	}
	for rows.Next() {
		var day int64
		var dir, status string
		var n int
		if err := rows.Scan(&dir, &day, &status, &n); err != nil {
			return nil, fmt.Errorf("message daily scan: %w", err)
		}
		if day < first || day > last {
			continue
		}
		d := &out[day-first]
		if dir == DirectionIn {
			d.In += n
			continue
		}
		d.Out += n
		if d.OutStatus == nil {
			d.OutStatus = map[string]int{}
		}
		d.OutStatus[status] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message daily: %w", err)
	}
	return out, nil
}

// MessageStatusCounts counts outbound messages of [since, until) by their current status.
func (s *Store) MessageStatusCounts(ctx context.Context, since, until time.Time) (map[string]int, error) {
	rows, err := s.drv.Read().Query(ctx, sqlMessageStatusCounts, ms(since), ms(until))
	if err != nil {
		return nil, fmt.Errorf("message status counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("message status counts scan: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message status counts: %w", err)
	}
	return out, nil
}

// FailureReason is a provider error and how many outbound messages ended failed with it.
type FailureReason struct {
	Code  int
	Title string
	Count int
}

// MessageFailureReasons returns the commonest errors of the outbound messages of [since, until) that failed,
// at most limit, most frequent first.
func (s *Store) MessageFailureReasons(ctx context.Context, since, until time.Time, limit int) ([]FailureReason, error) {
	rows, err := s.drv.Read().Query(ctx, sqlMessageFailureReasons, ms(since), ms(until), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("message failure reasons: %w", err)
	}
	defer rows.Close()
	out := []FailureReason{}
	for rows.Next() {
		var f FailureReason
		if err := rows.Scan(&f.Code, &f.Title, &f.Count); err != nil {
			return nil, fmt.Errorf("message failure reasons scan: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message failure reasons: %w", err)
	}
	return out, nil
}

// BillingCount is how many charges the provider's receipts announced in one pricing category and model: billable
// messages under per-message pricing (PMP), billable conversations under conversation-based pricing (CBP).
type BillingCount struct {
	Category string // marketing, utility, authentication, service, ... as the provider wrote it
	Model    string // PMP or CBP, upper case; "" when the receipt did not say
	Count    int
}

// BillingCounts counts the charges first announced by a receipt recorded in [since, until), per category and
// model. A charge is counted once however many receipts repeat it (sent and delivered both carry pricing).
func (s *Store) BillingCounts(ctx context.Context, since, until time.Time) ([]BillingCount, error) {
	rows, err := s.drv.Read().Query(ctx, sqlBillingCounts, ms(since), ms(until))
	if err != nil {
		return nil, fmt.Errorf("billing counts: %w", err)
	}
	defer rows.Close()
	out := []BillingCount{}
	for rows.Next() {
		var b BillingCount
		if err := rows.Scan(&b.Category, &b.Model, &b.Count); err != nil {
			return nil, fmt.Errorf("billing counts scan: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("billing counts: %w", err)
	}
	return out, nil
}

// billingRecord records the charge a receipt announces, once per billing key: the message id under
// per-message pricing, "conv:<id>" under conversation pricing (every message of a conversation shares its
// charge). A receipt without billable pricing records nothing.
func (s *Store) billingRecord(ctx context.Context, tx Tx, messageID string, e StatusEntry) error {
	if len(e.Pricing) == 0 {
		return nil
	}
	var p struct {
		Billable     bool   `json:"billable"`
		Category     string `json:"category"`
		PricingModel string `json:"pricing_model"`
	}
	if json.Unmarshal(e.Pricing, &p) != nil || !p.Billable {
		return nil
	}
	model, key := strings.ToUpper(p.PricingModel), messageID
	if model == "CBP" && len(e.Conversation) > 0 {
		var c struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(e.Conversation, &c) == nil && c.ID != "" {
			key = "conv:" + c.ID
		}
	}
	if _, err := tx.Exec(ctx, sqlBillingInsert, key, p.Category, model, messageID, ms(e.RecordedAt)); err != nil {
		return fmt.Errorf("billing record: %w", err)
	}
	return nil
}
