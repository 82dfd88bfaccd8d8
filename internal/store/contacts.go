package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/wagate/wagate/internal/wa"
)

const (
	sqlContactColumns  = `id, COALESCE(phone, ''), wa_id, COALESCE(user_id, ''), name, profile_name, name_set, username, COALESCE(external_ref, ''), created_at, updated_at`
	sqlContactByUserID = `SELECT ` + sqlContactColumns + ` FROM contacts WHERE user_id = $1`
	sqlContactByPhone  = `SELECT ` + sqlContactColumns + ` FROM contacts WHERE phone = $1`
	sqlContactByTail   = `SELECT ` + sqlContactColumns + ` FROM contacts WHERE phone_tail = $1 LIMIT 2`
	sqlContactByID     = `SELECT ` + sqlContactColumns + ` FROM contacts WHERE id = $1`
	sqlContactInsert   = `INSERT INTO contacts (id, phone, phone_tail, wa_id, user_id, name, profile_name, username, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $8) ON CONFLICT DO NOTHING`
	sqlContactUpdate = `UPDATE contacts SET phone = COALESCE(phone, $2), phone_tail = COALESCE(phone_tail, $3),
	wa_id = CASE WHEN CAST($4 AS TEXT) = '' THEN wa_id ELSE CAST($4 AS TEXT) END, user_id = COALESCE(user_id, $5),
	name = CASE WHEN CAST($6 AS TEXT) = '' OR name_set THEN name ELSE CAST($6 AS TEXT) END,
	profile_name = CASE WHEN CAST($6 AS TEXT) = '' THEN profile_name ELSE CAST($6 AS TEXT) END, username = CASE WHEN CAST($7 AS TEXT) = '' THEN username ELSE CAST($7 AS TEXT) END,
	updated_at = $8 WHERE id = $1`
)

// tailDigits is how many trailing digits identify a number when the exact E.164 form differs (national
// prefixes such as Mexico's 521 or Argentina's 549 make the same phone appear under two forms).
const tailDigits = 9

// ContactResolve finds the contact a webhook names, or creates it, and refreshes its profile: the profile name
// becomes the contact's name too, unless staff or the API gave the contact a name of its own. A contact is
// matched by business-scoped user id, then by exact E.164 phone, then by the last nine digits of the phone
// when exactly one contact has them.
func (s *Store) ContactResolve(ctx context.Context, tx Tx, in ContactInput) (Contact, error) {
	if in.Phone == "" && in.UserID == "" {
		return Contact{}, errors.New("contact resolve: neither phone nor user id")
	}
	for attempt := 0; attempt < 2; attempt++ {
		c, found, err := s.contactMatch(ctx, tx, in)
		if err != nil {
			return Contact{}, err
		}
		now := s.now()
		if found {
			if needsUpdate(c, in) {
				tail := nullable(wa.PhoneTail(in.Phone, tailDigits))
				if _, err := tx.Exec(ctx, sqlContactUpdate, c.ID, nullable(in.Phone), tail, in.WAID, nullable(in.UserID),
					in.Name, in.Username, ms(now)); err != nil {
					return Contact{}, fmt.Errorf("contact update: %w", err)
				}
				return s.contactGet(ctx, tx, c.ID)
			}
			return c, nil
		}
		id := NewID()
		n, err := tx.Exec(ctx, sqlContactInsert, id, nullable(in.Phone), nullable(wa.PhoneTail(in.Phone, tailDigits)),
			in.WAID, nullable(in.UserID), in.Name, in.Username, ms(now))
		if err != nil {
			return Contact{}, fmt.Errorf("contact insert: %w", err)
		}
		if n == 1 {
			return s.contactGet(ctx, tx, id)
		}
		// Another transaction created it in the meantime: match again.
	}
	return Contact{}, errors.New("contact resolve: could not insert or find the contact")
}

func needsUpdate(c Contact, in ContactInput) bool {
	return (in.Name != "" && in.Name != c.ProfileName) || (in.Username != "" && in.Username != c.Username) ||
		(in.WAID != "" && in.WAID != c.WAID) || (c.Phone == "" && in.Phone != "") || (c.UserID == "" && in.UserID != "")
}

func (s *Store) contactMatch(ctx context.Context, q Conn, in ContactInput) (Contact, bool, error) {
	if in.UserID != "" {
		c, err := scanContact(q.QueryRow(ctx, sqlContactByUserID, in.UserID))
		if err == nil {
			return c, true, nil
		} else if !errors.Is(err, ErrNoRows) {
			return Contact{}, false, fmt.Errorf("contact by user id: %w", err)
		}
	}
	if in.Phone == "" {
		return Contact{}, false, nil
	}
	c, err := scanContact(q.QueryRow(ctx, sqlContactByPhone, in.Phone))
	if err == nil {
		return c, true, nil
	} else if !errors.Is(err, ErrNoRows) {
		return Contact{}, false, fmt.Errorf("contact by phone: %w", err)
	}
	tail := wa.PhoneTail(in.Phone, tailDigits)
	if tail == "" {
		return Contact{}, false, nil
	}
	rows, err := q.Query(ctx, sqlContactByTail, tail)
	if err != nil {
		return Contact{}, false, fmt.Errorf("contact by tail: %w", err)
	}
	defer rows.Close()
	var matches []Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return Contact{}, false, fmt.Errorf("contact by tail scan: %w", err)
		}
		matches = append(matches, c)
	}
	if err := rows.Err(); err != nil {
		return Contact{}, false, fmt.Errorf("contact by tail: %w", err)
	}
	if len(matches) == 1 && (matches[0].UserID == "" || in.UserID == "") {
		return matches[0], true, nil
	}
	return Contact{}, false, nil
}

func (s *Store) contactGet(ctx context.Context, q Conn, id string) (Contact, error) {
	c, err := scanContact(q.QueryRow(ctx, sqlContactByID, id))
	if errors.Is(err, ErrNoRows) {
		return Contact{}, fmt.Errorf("contact %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("contact get %s: %w", id, err)
	}
	return c, nil
}

// ContactGet returns a contact by id.
func (s *Store) ContactGet(ctx context.Context, id string) (Contact, error) {
	return s.contactGet(ctx, s.drv.Read(), id)
}

// ContactGetByPhone returns the contact with exactly this E.164 phone.
func (s *Store) ContactGetByPhone(ctx context.Context, phone string) (Contact, error) {
	c, err := scanContact(s.drv.Read().QueryRow(ctx, sqlContactByPhone, phone))
	if errors.Is(err, ErrNoRows) {
		return Contact{}, fmt.Errorf("contact with phone %s: %w", phone, ErrNotFound)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("contact by phone: %w", err)
	}
	return c, nil
}

func scanContact(r Row) (Contact, error) {
	var c Contact
	var created, updated int64
	if err := r.Scan(&c.ID, &c.Phone, &c.WAID, &c.UserID, &c.Name, &c.ProfileName, &c.NameSet, &c.Username, &c.ExternalRef, &created, &updated); err != nil {
		return Contact{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}
