// Package media keeps WhatsApp media files for wagate: a content-addressed store in the data directory (one
// copy of identical files), the checks a file must pass before it is sent (type by its bytes, size per kind,
// safe names), the job that fetches inbound media from the provider while its download URL is alive, the
// upload of stored files to a channel's provider (the provider's id cached until it expires) and the retention
// job that deletes old media.
package media

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNoContent is returned when stored content is missing from the data directory.
var ErrNoContent = errors.New("media content not found")

// Blobs stores file contents under their SHA-256: <dir>/ab/cd/<sha256>. Identical files are kept once; a file
// is written to a temporary name, synced and renamed, so a crash never leaves a partial file under a digest.
type Blobs struct {
	dir string
}

// NewBlobs returns the store rooted at dir (created when missing).
func NewBlobs(dir string) (*Blobs, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	return &Blobs{dir: dir}, nil
}

// Dir is the store's root directory.
func (b *Blobs) Dir() string { return b.dir }

// Digest is the lowercase hex SHA-256 of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// validDigest reports whether s is a lowercase hex SHA-256, so that it can name a file safely.
func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Path is where content sha256 lives.
func (b *Blobs) Path(sha256 string) (string, error) {
	if !validDigest(sha256) {
		return "", fmt.Errorf("media store: %q is not a SHA-256", sha256)
	}
	return filepath.Join(b.dir, sha256[:2], sha256[2:4], sha256), nil
}

// Put stores data and returns its SHA-256. Content already stored is not written again.
func (b *Blobs) Put(data []byte) (string, error) {
	sha := Digest(data)
	path, _ := b.Path(sha)
	if st, err := os.Stat(path); err == nil && st.Size() == int64(len(data)) {
		return sha, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("media store: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("media store: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("media store: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("media store: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("media store: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("media store: rename: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable
		_ = d.Close()
	}
	return sha, nil
}

// Open opens stored content for reading; an error wrapping ErrNoContent when it is not there.
func (b *Blobs) Open(sha256 string) (*os.File, error) {
	path, err := b.Path(sha256)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("media %s: %w", sha256, ErrNoContent)
	}
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	return f, nil
}

// Read returns stored content, checked against its digest.
func (b *Blobs) Read(sha256 string) ([]byte, error) {
	path, err := b.Path(sha256)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("media %s: %w", sha256, ErrNoContent)
	}
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	if Digest(data) != sha256 {
		return nil, fmt.Errorf("media %s: stored bytes are damaged: %w", sha256, ErrNoContent)
	}
	return data, nil
}

// Remove deletes stored content; content already gone is not an error.
func (b *Blobs) Remove(sha256 string) error {
	path, err := b.Path(sha256)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media store: %w", err)
	}
	return nil
}
