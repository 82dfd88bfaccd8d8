package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PasswordIterations is the PBKDF2-HMAC-SHA256 work factor of new password hashes: OWASP's 2023 figure. Stored
// hashes carry their own count, so raising it later keeps old passwords working.
const PasswordIterations = 600_000

// Password length bounds: long enough to resist guessing, short enough that hashing cannot be abused.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// ErrWeakPassword is returned by CheckPasswordPolicy for a password that is too short or too long.
var ErrWeakPassword = fmt.Errorf("a password must have %d to %d characters", MinPasswordLen, MaxPasswordLen)

// ErrBadHash is returned by VerifyPassword for a stored hash it cannot read.
var ErrBadHash = errors.New("password hash not recognised")

const hashScheme = "pbkdf2-sha256"

// CheckPasswordPolicy reports whether pw may be used as a password.
func CheckPasswordPolicy(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLen || len(pw) > MaxPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword returns the storable hash of pw ("pbkdf2-sha256$iterations$salt$key", base64 without padding)
// with a fresh random salt and iterations rounds (PasswordIterations in production).
func HashPassword(pw string, iterations int) (string, error) {
	if iterations < 1 {
		return "", errors.New("hash password: iterations must be positive")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pw, salt, iterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	return hashScheme + "$" + strconv.Itoa(iterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// VerifyPassword reports whether pw matches the stored hash, comparing in constant time. An unreadable hash is
// ErrBadHash, never a match.
func VerifyPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return false, ErrBadHash
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < 1 || iterations > 10_000_000 {
		return false, ErrBadHash
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, ErrBadHash
	}
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	got, err := pbkdf2.Key(sha256.New, pw, salt, iterations, len(want))
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
