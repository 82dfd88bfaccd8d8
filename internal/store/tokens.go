package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// APIToken is an application's credential for the REST API. The secret itself is never stored: Hash is its
// SHA-256, Display a short non-secret beginning to tell tokens apart.
type APIToken struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Display       string    `json:"display"`
	Hash          string    `json:"-"`
	Scopes        []string  `json:"scopes"`
	RatePerMinute int       `json:"rate_per_minute,omitempty"` // 0: the configured default
	RatePerHour   int       `json:"rate_per_hour,omitempty"`   // 0: the configured default
	CreatedAt     time.Time `json:"created_at"`
	LastUsedAt    time.Time `json:"last_used_at,omitzero"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the token has been revoked.
func (t APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// ErrTokenExists is returned by TokenInsert for a hash or id that is already stored.
var ErrTokenExists = errors.New("token already exists")

const (
	sqlTokenColumns = `id, name, display, hash, scopes, rate_per_minute, rate_per_hour, created_at, last_used_at, revoked_at`
	sqlTokenInsert  = `INSERT INTO api_tokens (` + sqlTokenColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0)
	ON CONFLICT DO NOTHING`
	sqlTokenByHash = `SELECT ` + sqlTokenColumns + ` FROM api_tokens WHERE hash = $1`
	sqlTokenByID   = `SELECT ` + sqlTokenColumns + ` FROM api_tokens WHERE id = $1`
	sqlTokenList   = `SELECT ` + sqlTokenColumns + ` FROM api_tokens
	WHERE ($1 = 1 OR revoked_at = 0) ORDER BY created_at DESC, id DESC`
	sqlTokenRevoke = `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`
	sqlTokenTouch  = `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`
	sqlTokenActive = `SELECT COUNT(*) FROM api_tokens WHERE revoked_at = 0`
)

// TokenInsert stores a new token. ID and CreatedAt get defaults when empty.
func (s *Store) TokenInsert(ctx context.Context, t *APIToken) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if t.Name == "" || t.Hash == "" || len(t.Scopes) == 0 {
		return errors.New("token insert: name, hash and scopes are required")
	}
	var n int64
	err := s.InTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, sqlTokenInsert, t.ID, t.Name, t.Display, t.Hash, joinList(t.Scopes), t.RatePerMinute,
			t.RatePerHour, ms(t.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("token insert: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("token insert: %w", ErrTokenExists)
	}
	return nil
}

// TokenGetByHash returns the token stored under hash, revoked or not; ErrNotFound when there is none.
func (s *Store) TokenGetByHash(ctx context.Context, hash string) (APIToken, error) {
	t, err := scanToken(s.drv.Read().QueryRow(ctx, sqlTokenByHash, hash))
	if errors.Is(err, ErrNoRows) {
		return APIToken{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("token by hash: %w", err)
	}
	return t, nil
}

// TokenGet returns a token by id.
func (s *Store) TokenGet(ctx context.Context, id string) (APIToken, error) {
	t, err := scanToken(s.drv.Read().QueryRow(ctx, sqlTokenByID, id))
	if errors.Is(err, ErrNoRows) {
		return APIToken{}, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("token get: %w", err)
	}
	return t, nil
}

// TokenList lists tokens, newest first; revoked ones only when withRevoked.
func (s *Store) TokenList(ctx context.Context, withRevoked bool) ([]APIToken, error) {
	all := 0
	if withRevoked {
		all = 1
	}
	rows, err := s.drv.Read().Query(ctx, sqlTokenList, all)
	if err != nil {
		return nil, fmt.Errorf("token list: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("token list scan: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("token list: %w", err)
	}
	return out, nil
}

// TokenRevoke revokes a token by id and returns it. Revoking a revoked token changes nothing and is not an
// error; an unknown id is ErrNotFound.
func (s *Store) TokenRevoke(ctx context.Context, id string) (APIToken, error) {
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlTokenRevoke, id, ms(s.now()))
		return err
	}); err != nil {
		return APIToken{}, fmt.Errorf("token revoke: %w", err)
	}
	return s.TokenGet(ctx, id)
}

// TokenTouch records that a token was used at at (only ever moving last_used_at forward).
func (s *Store) TokenTouch(ctx context.Context, id string, at time.Time) error {
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlTokenTouch, id, ms(at))
		return err
	}); err != nil {
		return fmt.Errorf("token touch: %w", err)
	}
	return nil
}

// TokenActiveCount counts the tokens not revoked.
func (s *Store) TokenActiveCount(ctx context.Context) (int, error) {
	var n int
	if err := s.drv.Read().QueryRow(ctx, sqlTokenActive).Scan(&n); err != nil {
		return 0, fmt.Errorf("token count: %w", err)
	}
	return n, nil
}

func scanToken(r Row) (APIToken, error) {
	var t APIToken
	var scopes string
	var created, used, revoked int64
	if err := r.Scan(&t.ID, &t.Name, &t.Display, &t.Hash, &scopes, &t.RatePerMinute, &t.RatePerHour, &created, &used, &revoked); err != nil {
		return APIToken{}, err
	}
	t.Scopes = splitList(scopes)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromMS(used), fromMS(revoked)
	return t, nil
}
