package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/wagate/wagate/internal/store"
)

// TokenSpec is what a new token is made from.
type TokenSpec struct {
	Name          string
	Scopes        []Scope
	RatePerMinute int // 0: the configured default
	RatePerHour   int // 0: the configured default
}

// ErrBadName is returned for a token name that is empty, too long or holds control characters.
var ErrBadName = errors.New("name must be 1 to 100 printable characters")

// maxRate bounds a token's own request limits.
const maxRate = 10_000_000

// Check reports what is wrong with a spec, or nil.
func (s TokenSpec) Check() error {
	name := strings.TrimSpace(s.Name)
	if name == "" || len([]rune(name)) > 100 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ErrBadName
	}
	if len(s.Scopes) == 0 {
		return ErrBadScopes
	}
	for _, sc := range s.Scopes {
		if _, err := ScopesFrom([]string{string(sc)}); err != nil {
			return err
		}
	}
	if s.RatePerMinute < 0 || s.RatePerMinute > maxRate || s.RatePerHour < 0 || s.RatePerHour > maxRate {
		return fmt.Errorf("rates must be from 0 (the default) to %d", maxRate)
	}
	return nil
}

// Issue generates a token for spec and stores its hash. It returns the secret, which is shown once and cannot be
// recovered, and the stored record.
func Issue(ctx context.Context, st *store.Store, spec TokenSpec) (string, store.APIToken, error) {
	if err := spec.Check(); err != nil {
		return "", store.APIToken{}, fmt.Errorf("token: %w", err)
	}
	nt, err := Generate()
	if err != nil {
		return "", store.APIToken{}, err
	}
	scopes := make([]string, len(spec.Scopes))
	for i, sc := range spec.Scopes {
		scopes[i] = string(sc)
	}
	t := store.APIToken{Name: strings.TrimSpace(spec.Name), Display: nt.Display, Hash: nt.Hash, Scopes: scopes,
		RatePerMinute: spec.RatePerMinute, RatePerHour: spec.RatePerHour}
	if err := st.TokenInsert(ctx, &t); err != nil {
		return "", store.APIToken{}, fmt.Errorf("token: %w", err)
	}
	return nt.Secret, t, nil
}
