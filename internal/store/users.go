package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a person who signs in to the web UI. The password itself is never stored: PasswordHash is a slow,
// salted hash (package auth).
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"` // lower case, unique
	Name         string    `json:"name"`
	Role         string    `json:"role"` // director or agent
	PasswordHash string    `json:"-"`
	Language     string    `json:"language,omitempty"` // "" follows the browser
	CreatedAt    time.Time `json:"created_at"`
	LastLoginAt  time.Time `json:"last_login_at,omitzero"`
	DisabledAt   time.Time `json:"disabled_at,omitzero"`
}

// Disabled reports whether the user may no longer sign in.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// WebSession is a signed-in browser. The cookie's secret is never stored: Hash is its SHA-256.
type WebSession struct {
	Hash       string
	UserID     string
	CSRF       string // the token every form of this session must carry
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// ErrUserExists is returned by UserInsert for an email that is already taken.
var ErrUserExists = errors.New("a user with this email already exists")

// ErrLastDirector is returned by UserUpdate for a change that would leave no active director: nobody could
// administer wagate any more.
var ErrLastDirector = errors.New("the last active director cannot be demoted or disabled")

// DirectorRole is the role of the users who administer wagate (the web package names the roles).
const DirectorRole = "director"

// usersLockKey is the lock every change of a user takes (Driver.LockTx), so that two changes that each leave
// another director (two directors demoted at once) cannot together leave none. It is "wagate\x00\x01" in ASCII, far
// from the hashed keys of provider ids in practice.
const usersLockKey int64 = 0x7761676174650001

const (
	sqlUserColumns = `id, email, name, role, password_hash, language, created_at, last_login_at, disabled_at`
	sqlUserInsert  = `INSERT INTO users (` + sqlUserColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0)
	ON CONFLICT DO NOTHING`
	sqlUserByID    = `SELECT ` + sqlUserColumns + ` FROM users WHERE id = $1`
	sqlUserByEmail = `SELECT ` + sqlUserColumns + ` FROM users WHERE email = $1`
	sqlUserList    = `SELECT ` + sqlUserColumns + ` FROM users ORDER BY created_at, id`
	sqlUserCount   = `SELECT COUNT(*) FROM users`
	sqlUserUpdate  = `UPDATE users SET name = $2, role = $3, password_hash = $4, language = $5, disabled_at = $6
	WHERE id = $1`
	sqlUserLogin     = `UPDATE users SET last_login_at = $2 WHERE id = $1`
	sqlUserDirectors = `SELECT COUNT(*) FROM users WHERE role = $1 AND disabled_at = 0`

	sqlSessionInsert = `INSERT INTO web_sessions (hash, user_id, csrf, created_at, expires_at, last_seen_at)
	VALUES ($1, $2, $3, $4, $5, $4)`
	sqlSessionGet = `SELECT s.hash, s.user_id, s.csrf, s.created_at, s.expires_at, s.last_seen_at,
	u.id, u.email, u.name, u.role, u.password_hash, u.language, u.created_at, u.last_login_at, u.disabled_at
	FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = $1 AND s.expires_at > $2`
	sqlSessionTouch       = `UPDATE web_sessions SET last_seen_at = $2, expires_at = $3 WHERE hash = $1`
	sqlSessionDelete      = `DELETE FROM web_sessions WHERE hash = $1`
	sqlSessionDeleteUser  = `DELETE FROM web_sessions WHERE user_id = $1`
	sqlSessionDeleteStale = `DELETE FROM web_sessions WHERE expires_at <= $1`
)

// UserInsert stores a new user; ID and CreatedAt get defaults when empty, and the email is stored in lower case.
func (s *Store) UserInsert(ctx context.Context, u *User) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Email == "" || u.Role == "" || u.PasswordHash == "" {
		return errors.New("user insert: email, role and password hash are required")
	}
	var n int64
	err := s.InTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, sqlUserInsert, u.ID, u.Email, u.Name, u.Role, u.PasswordHash, u.Language, ms(u.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("user insert: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("user insert %s: %w", u.Email, ErrUserExists)
	}
	return nil
}

// UserGet returns a user by id; ErrNotFound when there is none.
func (s *Store) UserGet(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.drv.Read().QueryRow(ctx, sqlUserByID, id))
	if errors.Is(err, ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("user get: %w", err)
	}
	return u, nil
}

// UserGetByEmail returns the user with this email (compared in lower case); ErrNotFound when there is none.
func (s *Store) UserGetByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.drv.Read().QueryRow(ctx, sqlUserByEmail, strings.ToLower(strings.TrimSpace(email))))
	if errors.Is(err, ErrNoRows) {
		return User{}, fmt.Errorf("user by email: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// UserList lists every user, oldest first.
func (s *Store) UserList(ctx context.Context) ([]User, error) {
	rows, err := s.drv.Read().Query(ctx, sqlUserList)
	if err != nil {
		return nil, fmt.Errorf("user list: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("user list scan: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user list: %w", err)
	}
	return out, nil
}

// UserCount counts the users, disabled ones included.
func (s *Store) UserCount(ctx context.Context) (int, error) {
	var n int
	if err := s.drv.Read().QueryRow(ctx, sqlUserCount).Scan(&n); err != nil {
		return 0, fmt.Errorf("user count: %w", err)
	}
	return n, nil
}

// UserUpdate saves u's name, role, password hash, language and disabled time. Disabling a user or changing
// their password also ends their sessions, in the same transaction. A change that would leave no active
// director is refused with ErrLastDirector, also when two such changes run at once.
func (s *Store) UserUpdate(ctx context.Context, u User) error {
	err := s.InTx(ctx, func(tx Tx) error {
		if err := s.drv.LockTx(ctx, tx, usersLockKey); err != nil {
			return err
		}
		old, err := scanUser(tx.QueryRow(ctx, sqlUserByID, u.ID))
		if errors.Is(err, ErrNoRows) {
			return fmt.Errorf("user %s: %w", u.ID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlUserUpdate, u.ID, u.Name, u.Role, u.PasswordHash, u.Language, ms(u.DisabledAt)); err != nil {
			return err
		}
		if activeDirector(old) && !activeDirector(u) {
			var n int
			if err := tx.QueryRow(ctx, sqlUserDirectors, DirectorRole).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("user %s: %w", old.Email, ErrLastDirector)
			}
		}
		if u.PasswordHash != old.PasswordHash || u.Disabled() && !old.Disabled() {
			_, err = tx.Exec(ctx, sqlSessionDeleteUser, u.ID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("user update: %w", err)
	}
	return nil
}

func activeDirector(u User) bool { return u.Role == DirectorRole && !u.Disabled() }

// UserLoggedIn records a successful sign-in.
func (s *Store) UserLoggedIn(ctx context.Context, id string, at time.Time) error {
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlUserLogin, id, ms(at))
		return err
	}); err != nil {
		return fmt.Errorf("user login: %w", err)
	}
	return nil
}

// SessionInsert stores a new session.
func (s *Store) SessionInsert(ctx context.Context, ws WebSession) error {
	if ws.Hash == "" || ws.UserID == "" || ws.CSRF == "" {
		return errors.New("session insert: hash, user and csrf are required")
	}
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlSessionInsert, ws.Hash, ws.UserID, ws.CSRF, ms(ws.CreatedAt), ms(ws.ExpiresAt))
		return err
	}); err != nil {
		return fmt.Errorf("session insert: %w", err)
	}
	return nil
}

// SessionGet returns the session stored under hash, unexpired at now, with its user; ErrNotFound otherwise.
func (s *Store) SessionGet(ctx context.Context, hash string, now time.Time) (WebSession, User, error) {
	var ws WebSession
	var u User
	var created, expires, seen, uc, ul, ud int64
	err := s.drv.Read().QueryRow(ctx, sqlSessionGet, hash, ms(now)).Scan(&ws.Hash, &ws.UserID, &ws.CSRF, &created, &expires,
		&seen, &u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Language, &uc, &ul, &ud)
	if errors.Is(err, ErrNoRows) {
		return WebSession{}, User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return WebSession{}, User{}, fmt.Errorf("session get: %w", err)
	}
	ws.CreatedAt, ws.ExpiresAt, ws.LastSeenAt = fromMS(created), fromMS(expires), fromMS(seen)
	u.CreatedAt, u.LastLoginAt, u.DisabledAt = fromMS(uc), fromMS(ul), fromMS(ud)
	return ws, u, nil
}

// SessionTouch records activity on a session and moves its expiry.
func (s *Store) SessionTouch(ctx context.Context, hash string, seen, expires time.Time) error {
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlSessionTouch, hash, ms(seen), ms(expires))
		return err
	}); err != nil {
		return fmt.Errorf("session touch: %w", err)
	}
	return nil
}

// SessionDelete ends a session; ending one that does not exist is not an error.
func (s *Store) SessionDelete(ctx context.Context, hash string) error {
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, sqlSessionDelete, hash)
		return err
	}); err != nil {
		return fmt.Errorf("session delete: %w", err)
	}
	return nil
}

// SessionDeleteExpired removes the sessions expired at now and returns how many there were.
func (s *Store) SessionDeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	if err := s.InTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, sqlSessionDeleteStale, ms(now))
		return err
	}); err != nil {
		return 0, fmt.Errorf("session delete expired: %w", err)
	}
	return n, nil
}

func scanUser(r Row) (User, error) {
	var u User
	var created, login, disabled int64
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Language, &created, &login, &disabled); err != nil {
		return User{}, err
	}
	u.CreatedAt, u.LastLoginAt, u.DisabledAt = fromMS(created), fromMS(login), fromMS(disabled)
	return u, nil
}
