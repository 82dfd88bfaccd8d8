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

	sqlMessageDaily = `SELECT sort_at / 86400000, direction, COUNT(*) FROM messages
	WHERE direction IN ('in', 'out') AND sort_at >= $1 AND sort_at < $2 GROUP BY 1, 2`
	sqlMessageStatusCounts = `SELECT status, COUNT(*) FROM messages
	WHERE direction = 'out' AND sort_at >= $1 AND sort_at < $2 GROUP BY status`
	sqlMessageFailureReasons = `SELECT error_code, error_title, COUNT(*) FROM messages
	WHERE direction = 'out' AND sort_at >= $1 AND sort_at < $2 AND status = 'failed'
	GROUP BY error_code, error_title ORDER BY 3 DESC, 1 LIMIT $3`
	sqlBillingCounts = `SELECT pricing_category, pricing_model, COUNT(DISTINCT billing_key) FROM message_statuses
	WHERE billable = 1 AND recorded_at >= $1 AND recorded_at < $2 GROUP BY pricing_category, pricing_model`
)

// DayCount is the number of messages in each direction on one UTC day.
type DayCount struct {
	Day     time.Time // midnight UTC
	In, Out int
}

// MessageDaily counts messages per UTC day and direction whose time (provider time, else arrival) is in
// [since, until). Every day of the range has an entry, oldest first, zero when nothing happened; since and
// until are rounded down to their day, and until's day is included when until is not midnight.
func (s *Store) MessageDaily(ctx context.Context, since, until time.Time) ([]DayCount, error) {
	first := ms(since) / dayMS
	last := (ms(until) - 1) / dayMS
	if last < first {
		return []DayCount{}, nil
	}
	rows, err := s.drv.Read().Query(ctx, sqlMessageDaily, first*dayMS, (last+1)*dayMS)
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
		var dir string
		var n int
		if err := rows.Scan(&day, &dir, &n); err != nil {
			return nil, fmt.Errorf("message daily scan: %w", err)
		}
		if day < first || day > last {
			continue
		}
		if dir == DirectionIn {
			out[day-first].In += n
		} else {
			out[day-first].Out += n
		}
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

// BillingCounts counts the charges announced by receipts recorded in [since, until), per category and model.
// A charge is counted once however many receipts repeat it (sent and delivered both carry pricing).
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

// billing is what one receipt says about the charge of its message.
type billing struct {
	Category, Model string
	Billable        bool
	// Key counts the charge once: the message id under per-message pricing, "conv:<id>" under conversation
	// pricing (every message of a conversation shares its charge).
	Key string
}

// billingOf reads the pricing (and conversation) objects of a receipt; a receipt without pricing is not billable.
func billingOf(messageID string, e StatusEntry) billing {
	if len(e.Pricing) == 0 {
		return billing{}
	}
	var p struct {
		Billable     bool   `json:"billable"`
		Category     string `json:"category"`
		PricingModel string `json:"pricing_model"`
	}
	if json.Unmarshal(e.Pricing, &p) != nil {
		return billing{}
	}
	b := billing{Category: p.Category, Model: strings.ToUpper(p.PricingModel), Billable: p.Billable, Key: messageID}
	if b.Model == "CBP" && len(e.Conversation) > 0 {
		var c struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(e.Conversation, &c) == nil && c.ID != "" {
			b.Key = "conv:" + c.ID
		}
	}
	return b
}
