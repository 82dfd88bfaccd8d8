package store

import (
	"context"
	"errors"
	"fmt"
)

const sqlMediaUploadFind = `SELECT id, sha256, mime, kind, filename, size, created_at FROM media_uploads
	WHERE sha256 = $1 AND mime = $2 AND kind = $3 AND filename = $4 ORDER BY created_at DESC, id DESC LIMIT 1`

// MediaUploadFind returns the newest upload of the same content, type, kind and file name, ErrNotFound when
// there is none. Files sent inline reuse it, so that a repeated request (same Idempotency-Key) names the same
// file.
func (s *Store) MediaUploadFind(ctx context.Context, sha256, mime, kind, filename string) (MediaUpload, error) {
	var u MediaUpload
	var created int64
	err := s.drv.Read().QueryRow(ctx, sqlMediaUploadFind, sha256, mime, kind, filename).
		Scan(&u.ID, &u.SHA256, &u.Mime, &u.Kind, &u.Filename, &u.Size, &created)
	if errors.Is(err, ErrNoRows) {
		return MediaUpload{}, fmt.Errorf("media upload of %s: %w", sha256, ErrNotFound)
	}
	if err != nil {
		return MediaUpload{}, fmt.Errorf("media upload find: %w", err)
	}
	u.CreatedAt = fromMS(created)
	return u, nil
}
