package media

import (
	"context"
	"errors"

	"github.com/wagate/wagate/internal/store"
)

// UploadOnce is Upload for a file sent inline with a message: the file is checked the same way, and an earlier
// upload of the same content, type, kind and file name is returned instead of a new one, so that a send
// repeated with its Idempotency-Key names the same file and is recognised as the same request.
func (s *Service) UploadOnce(ctx context.Context, kind string, data []byte, declared, filename string) (store.MediaUpload, error) {
	c, err := Check(kind, data, declared, filename)
	if err != nil {
		return store.MediaUpload{}, err
	}
	sha := Digest(data)
	u, err := s.st.MediaUploadFind(ctx, sha, c.Mime, c.Kind, c.Filename)
	if err == nil {
		if f, err := s.blobs.Open(sha); err == nil {
			_ = f.Close()
			return u, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.MediaUpload{}, err
	}
	return s.Upload(ctx, kind, data, declared, filename)
}
