package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// ErrPhoneTaken is returned when a contact with the same phone exists already.
var ErrPhoneTaken = errors.New("a contact with this phone exists")

// ErrExternalRefTaken is returned when another contact already carries the external reference.
var ErrExternalRefTaken = errors.New("another contact has this external_ref")

// ContactNew is a contact an application creates: Phone in E.164 (required), Name and ExternalRef optional.
type ContactNew struct {
	Phone       string
	Name        string
	ExternalRef string
}

// ContactPatch changes a contact's fields; nil fields stay as they are. A name given here stays when the
// contact's WhatsApp profile name changes; an empty Name gives the contact its profile name back. An empty
// ExternalRef removes it.
type ContactPatch struct {
	Name        *string
	ExternalRef *string
}

const (
	sqlContactCreate = `INSERT INTO contacts (id, phone, phone_tail, wa_id, name, name_set, external_ref, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING`
	sqlContactByRef    = `SELECT ` + sqlContactColumns + ` FROM contacts WHERE external_ref = $1`
	sqlContactRefOwner = `SELECT id FROM contacts WHERE external_ref = $1 AND id <> $2`
	sqlContactSetName  = `UPDATE contacts SET name = CASE WHEN CAST($2 AS TEXT) = '' THEN profile_name ELSE CAST($2 AS TEXT) END,
	name_set = $3, updated_at = $4 WHERE id = $1`
	sqlContactSetRef     = `UPDATE contacts SET external_ref = $2, updated_at = $3 WHERE id = $1`
	sqlContactSearchHead = `SELECT ` + sqlContactColumns + ` FROM contacts c`
	sqlContactWindows    = `SELECT contact_id, id, channel, last_inbound_at, window_expires_at, unread_count, last_message_at FROM conversations
	WHERE contact_id IN (`
)

// ContactCreate stores a new contact. A phone already known is ErrPhoneTaken, an external reference already
// used ErrExternalRefTaken (both wrapped).
func (s *Store) ContactCreate(ctx context.Context, in ContactNew) (Contact, error) {
	if in.Phone == "" {
		return Contact{}, errors.New("contact create: phone is required")
	}
	id := NewID()
	err := s.InTx(ctx, func(tx Tx) error {
		if _, err := scanContact(tx.QueryRow(ctx, sqlContactByPhone, in.Phone)); err == nil {
			return ErrPhoneTaken
		} else if !errors.Is(err, ErrNoRows) {
			return err
		}
		if in.ExternalRef != "" {
			if _, err := scanContact(tx.QueryRow(ctx, sqlContactByRef, in.ExternalRef)); err == nil {
				return ErrExternalRefTaken
			} else if !errors.Is(err, ErrNoRows) {
				return err
			}
		}
		n, err := tx.Exec(ctx, sqlContactCreate, id, in.Phone, nullable(wa.PhoneTail(in.Phone, tailDigits)),
			wa.Digits(in.Phone), in.Name, in.Name != "", nullable(in.ExternalRef), ms(s.now()))
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrPhoneTaken // a concurrent create won the race on the phone or the reference
		}
		return nil
	})
	if err != nil {
		return Contact{}, fmt.Errorf("contact create: %w", err)
	}
	return s.ContactGet(ctx, id)
}

// ContactUpdate applies p to the contact id and returns it.
func (s *Store) ContactUpdate(ctx context.Context, id string, p ContactPatch) (Contact, error) {
	err := s.InTx(ctx, func(tx Tx) error {
		if _, err := s.contactGet(ctx, tx, id); err != nil {
			return err
		}
		now := ms(s.now())
		if p.Name != nil {
			if _, err := tx.Exec(ctx, sqlContactSetName, id, *p.Name, *p.Name != "", now); err != nil {
				return err
			}
		}
		if p.ExternalRef != nil {
			if *p.ExternalRef != "" {
				var other string
				err := tx.QueryRow(ctx, sqlContactRefOwner, *p.ExternalRef, id).Scan(&other)
				if err == nil {
					return ErrExternalRefTaken
				} else if !errors.Is(err, ErrNoRows) {
					return err
				}
			}
			if _, err := tx.Exec(ctx, sqlContactSetRef, id, nullable(*p.ExternalRef), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Contact{}, fmt.Errorf("contact update: %w", err)
	}
	return s.ContactGet(ctx, id)
}

// ContactGetByRef returns the contact carrying an application's external reference.
func (s *Store) ContactGetByRef(ctx context.Context, ref string) (Contact, error) {
	c, err := scanContact(s.drv.Read().QueryRow(ctx, sqlContactByRef, ref))
	if errors.Is(err, ErrNoRows) {
		return Contact{}, fmt.Errorf("contact with external_ref: %w", ErrNotFound)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("contact by ref: %w", err)
	}
	return c, nil
}

// ContactQuery selects contacts for ContactSearch. Q matches part of the phone's digits when it holds digits
// only (with optional +, spaces and dashes), else part of the name, ignoring case. Channel keeps contacts with a
// conversation on that channel. Since and Until bound the creation time (Since inclusive, Until exclusive).
type ContactQuery struct {
	Q            string
	ExternalRef  string
	Channel      string
	Since, Until time.Time
	Cursor       string
	Limit        int
}

// ContactSearch lists contacts newest first with filters.
func (s *Store) ContactSearch(ctx context.Context, f ContactQuery) (Page[Contact], error) {
	cur, has, err := parseKeyCursor(f.Cursor)
	if err != nil {
		return Page[Contact]{}, err
	}
	var w where
	if q := strings.TrimSpace(f.Q); q != "" {
		if digits, ok := phoneQuery(q); ok {
			w.add("c.phone LIKE ? ESCAPE '\\'", "%"+digits+"%")
		} else {
			pattern := "%" + likeEscape(strings.ToLower(q)) + "%"
			w.addN("(LOWER(c.name) LIKE ? ESCAPE '\\' OR LOWER(c.profile_name) LIKE ? ESCAPE '\\')", pattern, pattern)
		}
	}
	if f.ExternalRef != "" {
		w.add("c.external_ref = ?", f.ExternalRef)
	}
	if f.Channel != "" {
		w.add("EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = c.id AND v.channel = ?)", f.Channel)
	}
	if !f.Since.IsZero() {
		w.add("c.created_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("c.created_at < ?", ms(f.Until))
	}
	if has {
		w.cursor("c.created_at", "c.id", cur)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.drv.Read().Query(ctx, sqlContactSearchHead+w.sql("c.created_at DESC, c.id DESC", limit+1), w.args...)
	if err != nil {
		return Page[Contact]{}, fmt.Errorf("contact search: %w", err)
	}
	defer rows.Close()
	page := Page[Contact]{Items: []Contact{}}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return Page[Contact]{}, fmt.Errorf("contact search scan: %w", err)
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		return Page[Contact]{}, fmt.Errorf("contact search: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = keyCursor{at: ms(last.CreatedAt), id: last.ID}.String()
	}
	return page, nil
}

// phoneQuery returns the digits of a search that is a phone number or part of one.
func phoneQuery(q string) (string, bool) {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ContactWindow is the state of one of a contact's conversations: its channel and 24-hour window.
type ContactWindow struct {
	ConversationID  string    `json:"conversation_id"`
	Channel         string    `json:"channel"`
	LastInboundAt   time.Time `json:"last_inbound_at,omitzero"`
	WindowExpiresAt time.Time `json:"window_expires_at,omitzero"`
	UnreadCount     int       `json:"unread_count"`
	LastMessageAt   time.Time `json:"last_message_at,omitzero"` // the last message in either direction
}

// ContactWindows returns the conversations of the given contacts, by contact id.
func (s *Store) ContactWindows(ctx context.Context, ids []string) (map[string][]ContactWindow, error) {
	out := map[string][]ContactWindow{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.drv.Read().Query(ctx, inStatement(sqlContactWindows, 1, len(chunk), ") ORDER BY channel"), args...)
		if err != nil {
			return nil, fmt.Errorf("contact windows: %w", err)
		}
		for rows.Next() {
			var cid string
			var w ContactWindow
			var in, exp, last int64
			if err := rows.Scan(&cid, &w.ConversationID, &w.Channel, &in, &exp, &w.UnreadCount, &last); err != nil {
				rows.Close()
				return nil, fmt.Errorf("contact windows scan: %w", err)
			}
			w.LastInboundAt, w.WindowExpiresAt, w.LastMessageAt = fromMS(in), fromMS(exp), fromMS(last)
			out[cid] = append(out[cid], w)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("contact windows: %w", err)
		}
	}
	return out, nil
}
