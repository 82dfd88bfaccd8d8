package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"os"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
)

// ErrUnknownFile is returned for a wagate file id that names no stored upload.
var ErrUnknownFile = errors.New("no stored media file has this id")

// ErrNotReady is returned when a message's media cannot be served: still pending, failed or deleted.
var ErrNotReady = errors.New("the media is not available")

// Provider media ids of uploads live 30 days at Meta and on 360dialog's Cloud API, and 14 days On-Premise
// (docs/provider-api.md §5); wagate reuses them for a day less.
const (
	cloudUploadLife     = 29 * 24 * time.Hour
	onPremiseUploadLife = 13 * 24 * time.Hour
)

// Service is the media side of wagate: it stores uploads, hands stored files to providers and serves what it
// keeps. Its queue is set with SetQueue once the job queue exists.
type Service struct {
	st    *store.Store
	blobs *Blobs
	q     *queue.Queue
	now   func() time.Time
	log   *slog.Logger
}

// NewService returns the service over st and blobs; now is the clock (time.Now when nil).
func NewService(st *store.Store, blobs *Blobs, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, blobs: blobs, now: now, log: log}
}

// SetQueue sets the job queue that fetches are enqueued on.
func (s *Service) SetQueue(q *queue.Queue) { s.q = q }

// Blobs returns the content store.
func (s *Service) Blobs() *Blobs { return s.blobs }

// EnqueueFetchTx enqueues the fetch of message id's media in tx, so that the message and its fetch job commit
// together.
func (s *Service) EnqueueFetchTx(ctx context.Context, tx store.Tx, messageID string) error {
	if s.q == nil {
		return errors.New("media: no job queue")
	}
	return s.q.InsertTx(ctx, tx, FetchArgs{MessageID: messageID}, nil)
}

// Retry fetches again the media of a message whose fetch failed. It returns store.ErrMediaNotRetryable when
// the media did not fail.
func (s *Service) Retry(ctx context.Context, messageID string) (store.MessageMedia, error) {
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		if err := s.st.MediaRetry(ctx, tx, messageID); err != nil {
			return err
		}
		return s.EnqueueFetchTx(ctx, tx, messageID)
	})
	if err != nil {
		return store.MessageMedia{}, fmt.Errorf("media retry: %w", err)
	}
	return s.st.MessageMediaGet(ctx, messageID)
}

// Upload checks a file for kind ("" picks it from the content), stores it and records the upload.
func (s *Service) Upload(ctx context.Context, kind string, data []byte, declared, filename string) (store.MediaUpload, error) {
	c, err := Check(kind, data, declared, filename)
	if err != nil {
		return store.MediaUpload{}, err
	}
	sha, err := s.blobs.Put(data)
	if err != nil {
		return store.MediaUpload{}, err
	}
	u := store.MediaUpload{SHA256: sha, Mime: c.Mime, Kind: c.Kind, Filename: c.Filename, Size: int64(len(data)), CreatedAt: s.now()}
	if err := s.st.InTx(ctx, func(tx store.Tx) error { return s.st.MediaUploadInsert(ctx, tx, &u) }); err != nil {
		return store.MediaUpload{}, err
	}
	return u, nil
}

// ProviderID returns the provider's media id of stored file fileID on channel: the cached one while it is
// valid, else the file is uploaded through p now and the id cached. A file id that names no upload is an
// error wrapping ErrUnknownFile; provider failures are the provider's *Error.
func (s *Service) ProviderID(ctx context.Context, channel string, p provider.Provider, fileID string) (string, store.MediaUpload, error) {
	u, err := s.st.MediaUploadGet(ctx, fileID)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.MediaUpload{}, fmt.Errorf("%w: %q", ErrUnknownFile, fileID)
	}
	if err != nil {
		return "", store.MediaUpload{}, err
	}
	id, err := s.st.MediaProviderIDGet(ctx, channel, u.SHA256, u.Mime, s.now())
	if err != nil || id != "" {
		return id, u, err
	}
	data, err := s.blobs.Read(u.SHA256)
	if errors.Is(err, ErrNoContent) {
		return "", u, fmt.Errorf("%w: %q: its bytes are no longer stored", ErrUnknownFile, fileID)
	}
	if err != nil {
		return "", u, err
	}
	id, err = p.UploadMedia(ctx, provider.MediaFile{Data: data, MimeType: u.Mime, Filename: u.Filename, SHA256: u.SHA256})
	if err != nil {
		return "", u, err
	}
	life := cloudUploadLife
	if p.Kind() == provider.Kind360DialogOnPremise {
		life = onPremiseUploadLife
	}
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		return s.st.MediaProviderIDPut(ctx, tx, channel, u.SHA256, u.Mime, id, s.now().Add(life))
	})
	return id, u, err
}

// ResolveContent rewrites the content of a media message that names a stored file ({"file": id, ...}) into the
// provider's form ({"id": provider id, ...}), uploading the file to p when the channel has no valid id for it.
// A document without a filename gets the upload's. Content without "file" is returned unchanged.
func (s *Service) ResolveContent(ctx context.Context, channel string, p provider.Provider, content json.RawMessage) (json.RawMessage, error) {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(content, &c); err != nil || c["file"] == nil {
		return content, nil
	}
	var fileID string
	if err := json.Unmarshal(c["file"], &fileID); err != nil {
		return nil, fmt.Errorf("%w: file is not a string", ErrUnknownFile)
	}
	id, u, err := s.ProviderID(ctx, channel, p, fileID)
	if err != nil {
		return nil, err
	}
	delete(c, "file")
	c["id"], _ = json.Marshal(id)
	if u.Kind == "document" && c["filename"] == nil && u.Filename != "" {
		c["filename"], _ = json.Marshal(u.Filename)
	}
	return json.Marshal(c)
}

// FileCheck confirms at accept time that fileID is a stored upload that may be sent as kind.
func (s *Service) FileCheck(ctx context.Context, kind, fileID string) error {
	u, err := s.st.MediaUploadGet(ctx, fileID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrUnknownFile, fileID)
	}
	if err != nil {
		return err
	}
	if u.Kind != kind {
		// A file checked as one kind is checked again as the other.
		data, err := s.blobs.Read(u.SHA256)
		if err != nil {
			return fmt.Errorf("%w: %q: its bytes are no longer stored", ErrUnknownFile, fileID)
		}
		if _, err := Check(kind, data, u.Mime, u.Filename); err != nil {
			return err
		}
	}
	return nil
}

// ForgetProviderID drops the cached provider id of fileID on channel, so that the next send uploads it again.
func (s *Service) ForgetProviderID(ctx context.Context, channel, fileID string) error {
	u, err := s.st.MediaUploadGet(ctx, fileID)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx store.Tx) error { return s.st.MediaProviderIDForget(ctx, tx, channel, u.SHA256, u.Mime) })
}

// Served is a stored file ready to be served.
type Served struct {
	File     *os.File // the caller closes it
	Mime     string
	Filename string // safe (SafeFilename), with an extension
	SHA256   string
	Size     int64
	ModTime  time.Time
}

// Open returns the stored file named id: an upload id, or the id of a message whose media is ready. An id that
// names neither wraps store.ErrNotFound; a message whose media is not ready, ErrNotReady (with the state).
func (s *Service) Open(ctx context.Context, id string) (Served, error) {
	if u, err := s.st.MediaUploadGet(ctx, id); err == nil {
		return s.open(u.SHA256, u.Mime, u.Filename, u.CreatedAt)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Served{}, err
	}
	m, err := s.st.MessageMediaGet(ctx, id)
	if err != nil {
		return Served{}, err
	}
	if m.Status == store.MediaNone {
		return Served{}, fmt.Errorf("message %s has no media: %w", id, store.ErrNotFound)
	}
	if m.Status != store.MediaReady || m.SHA256 == "" {
		return Served{}, fmt.Errorf("%w: it is %s", ErrNotReady, m.Status)
	}
	return s.open(m.SHA256, m.Mime, m.Filename, m.FetchedAt)
}

func (s *Service) open(sha, mt, filename string, at time.Time) (Served, error) {
	f, err := s.blobs.Open(sha)
	if err != nil {
		return Served{}, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return Served{}, fmt.Errorf("media open: %w", err)
	}
	mt = CleanType(mt)
	return Served{File: f, Mime: mt, Filename: withExtension(SafeFilename(filename), baseType(mt)), SHA256: sha, Size: st.Size(), ModTime: at}, nil
}

// CleanType returns a MIME type fit for a Content-Type header (parsed and formatted again), or
// application/octet-stream.
func CleanType(mt string) string {
	base, params, err := mime.ParseMediaType(mt)
	if err != nil || !strings.Contains(base, "/") {
		return "application/octet-stream"
	}
	keep := map[string]string{}
	for k, v := range params {
		if k == "charset" || k == "codecs" {
			keep[k] = v
		}
	}
	if out := mime.FormatMediaType(base, keep); out != "" {
		return out
	}
	return "application/octet-stream"
}

// Usage reports how much media is stored.
func (s *Service) Usage(ctx context.Context) (store.MediaUsage, error) {
	return s.st.MediaUsageGet(ctx)
}
