// Package auth holds wagate's access control for applications: API tokens (generation, hashing, scopes) and the
// request rate limits applied per token and, for failed authentication, per client address.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// TokenPrefix starts every API token wagate issues, so that a leaked token is recognisable (secret scanners,
// logs) and cannot be mistaken for a provider credential.
const TokenPrefix = "wgt_"

// secretBytes is the random part of a token: 256 bits, so that a single SHA-256 is a safe way to store it (no
// dictionary or brute force can find a preimage; slow password hashes are for low-entropy secrets).
const secretBytes = 32

// displayChars is how many characters of the random part are kept in the clear to tell tokens apart in lists.
const displayChars = 8

// Scope is what a token is allowed to do.
type Scope string

// The scopes. admin includes the other two.
const (
	ScopeRead  Scope = "read"  // read conversations, messages, contacts, templates, events, channels
	ScopeSend  Scope = "send"  // send and retry messages, upload media, mark read, create and update contacts
	ScopeAdmin Scope = "admin" // channels' settings, tokens, subscriptions, replays; implies read and send
)

// AllScopes lists every scope in a stable order.
var AllScopes = []Scope{ScopeSend, ScopeRead, ScopeAdmin}

// ErrBadScopes is returned by ParseScopes for a list naming an unknown scope or none.
var ErrBadScopes = errors.New("scopes must be a comma-separated list of send, read and admin")

// ParseScopes reads a comma-separated list of scopes ("send,read"), ignoring spaces and repeats. The result is
// in AllScopes order. An empty list or an unknown name is an error.
func ParseScopes(s string) ([]Scope, error) {
	var names []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			names = append(names, p)
		}
	}
	return ScopesFrom(names)
}

// ScopesFrom checks a list of scope names and returns them without repeats in AllScopes order.
func ScopesFrom(names []string) ([]Scope, error) {
	if len(names) == 0 {
		return nil, ErrBadScopes
	}
	seen := map[Scope]bool{}
	for _, n := range names {
		sc := Scope(strings.ToLower(strings.TrimSpace(n)))
		if !slices.Contains(AllScopes, sc) {
			return nil, fmt.Errorf("%w: %q is not a scope", ErrBadScopes, truncate(n, 40))
		}
		seen[sc] = true
	}
	out := make([]Scope, 0, len(seen))
	for _, sc := range AllScopes {
		if seen[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// Allows reports whether a token holding scopes may do what need requires. admin allows everything.
func Allows(scopes []Scope, need Scope) bool {
	for _, s := range scopes {
		if s == need || s == ScopeAdmin {
			return true
		}
	}
	return false
}

// JoinScopes writes scopes as a comma-separated list.
func JoinScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// NewToken is a freshly generated token: Secret is shown to its owner once and never stored; Hash and Display
// are what wagate keeps.
type NewToken struct {
	Secret  string // "wgt_" and 43 base64url characters
	Hash    string // hex SHA-256 of Secret
	Display string // "wgt_" and the first 8 characters of the random part: not enough to use the token
}

// Generate makes a new token from the operating system's random source.
func Generate() (NewToken, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return NewToken{}, fmt.Errorf("token: random: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return NewToken{Secret: secret, Hash: Hash(secret), Display: secret[:len(TokenPrefix)+displayChars]}, nil
}

// Hash returns the hex SHA-256 of a presented token: the key it is stored and looked up under.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Looks reports whether s has the shape of a token wagate issued. It is a cheap filter before a lookup, not a
// check of validity.
func Looks(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Equal compares two secrets (or their hashes) in constant time for equal lengths.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
