package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

// ErrFile is wrapped by the error of a send that names a stored file wagate cannot send: unknown, or not
// acceptable for the message's kind. The wrapped error says why.
var ErrFile = errors.New("stored media file cannot be sent")

// Files gives the send path the media files wagate stores.
type Files interface {
	// FileCheck confirms that fileID is a stored file that may be sent as kind.
	FileCheck(ctx context.Context, kind, fileID string) error
	// ResolveContent rewrites media content naming a stored file ("file") to name the provider's media id,
	// uploading the file to p when the channel has no valid id for it.
	ResolveContent(ctx context.Context, channel string, p provider.Provider, content json.RawMessage) (json.RawMessage, error)
}

// uploadTimeout bounds the upload of a stored file before its send.
const uploadTimeout = time.Minute

// SetFiles lets the service accept sends of stored files, checking them at accept time.
func (s *Service) SetFiles(f Files) { s.files = f }

// SetFiles lets the worker send stored files: uploaded to the provider at send time, then sent by id.
func (w *Worker) SetFiles(f Files) { w.files = f }

// checkFile checks the stored file a media message names.
func (s *Service) checkFile(ctx context.Context, msg wa.Outbound) error {
	if s.files == nil {
		return ErrStoredFile
	}
	var c struct {
		File string `json:"file"`
	}
	if err := json.Unmarshal(msg.Content, &c); err != nil {
		return fmt.Errorf("%w: %w", ErrFile, err)
	}
	if err := s.files.FileCheck(ctx, msg.Type, c.File); err != nil {
		return fmt.Errorf("%w: %w", ErrFile, err)
	}
	return nil
}

// withFile resolves a stored file in out before its send. Failures are *provider.Error: the provider's own
// for a failed upload, ClassInvalid when the file cannot be sent at all.
func (w *Worker) withFile(ctx context.Context, channel string, p provider.Provider, out wa.Outbound) (wa.Outbound, error) {
	if w.files == nil || !namesStoredFile(out) {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	content, err := w.files.ResolveContent(ctx, channel, p, out.Content)
	var pe *provider.Error
	switch {
	case err == nil:
		out.Content = content
		return out, nil
	case errors.As(err, &pe):
		return out, err
	}
	return out, &provider.Error{Provider: p.Kind(), Op: provider.OpUploadMedia, Class: provider.ClassInvalid, Err: err,
		Message: "The stored media file cannot be sent: " + err.Error() + ". Upload it again with POST /v1/media."}
}
