package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MediaDeleted is the media state of a message whose bytes were deleted by the retention policy; the message
// keeps a note saying when and why.
const MediaDeleted = "deleted"

// ErrMediaNotRetryable is returned when asked to fetch again the media of a message whose media did not fail.
var ErrMediaNotRetryable = errors.New("only failed media can be fetched again")

// MessageMedia is what wagate knows of one message's media file.
type MessageMedia struct {
	MessageID string    `json:"message_id"`
	Channel   string    `json:"channel"`
	Direction string    `json:"direction"`
	MediaID   string    `json:"media_id"`           // the provider's media id
	Status    string    `json:"status"`             // pending, ready, failed, deleted
	Filename  string    `json:"filename,omitempty"` // as the sender named it (untrusted)
	Mime      string    `json:"mime_type,omitempty"`
	SHA256    string    `json:"sha256,omitempty"` // of the stored bytes (hex), once fetched
	Size      int64     `json:"size,omitempty"`
	Error     string    `json:"error,omitempty"` // the last fetch error
	Attempts  int       `json:"attempts,omitempty"`
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	Note      string    `json:"note,omitempty"`
	// ProviderSHA256 is the digest the webhook announced (hex or base64), checked against the bytes.
	ProviderSHA256 string `json:"-"`
}

// MediaUpload is a file uploaded to wagate to be sent.
type MediaUpload struct {
	ID        string    `json:"id"`
	SHA256    string    `json:"sha256"`
	Mime      string    `json:"mime_type"`
	Kind      string    `json:"kind"` // image, video, audio, document, sticker
	Filename  string    `json:"filename,omitempty"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

// MediaUsage is how much media wagate keeps.
type MediaUsage struct {
	Files int64
	Bytes int64
}

const (
	sqlMediaBlobPut = `INSERT INTO media_blobs (sha256, size, mime, created_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (sha256) DO NOTHING`
	sqlMessageMediaGet = `SELECT m.id, m.channel, m.direction, m.media_id, m.media_status, m.media_filename, m.media_mime,
	m.media_sha256, COALESCE(x.sha256, ''), COALESCE(x.size, 0), COALESCE(x.mime, ''), COALESCE(x.error, ''),
	COALESCE(x.attempts, 0), COALESCE(x.fetched_at, 0), COALESCE(x.note, '')
	FROM messages m LEFT JOIN message_media x ON x.message_id = m.id WHERE m.id = $1`
	sqlMessageMediaUpsert = `INSERT INTO message_media (message_id, sha256, size, mime, error, attempts, fetched_at, note, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8)
	ON CONFLICT (message_id) DO UPDATE SET sha256 = CASE WHEN $2 = '' THEN message_media.sha256 ELSE $2 END,
	size = CASE WHEN $2 = '' THEN message_media.size ELSE $3 END, mime = CASE WHEN $2 = '' THEN message_media.mime ELSE $4 END,
	error = $5, attempts = message_media.attempts + $6,
	fetched_at = CASE WHEN $7 = 0 THEN message_media.fetched_at ELSE $7 END, updated_at = $8`
	sqlMessageMediaState = `UPDATE messages SET media_status = $2, updated_at = $3 WHERE id = $1 AND media_status = $4`
	sqlMediaUploadInsert = `INSERT INTO media_uploads (id, sha256, mime, kind, filename, size, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`
	sqlMediaUploadGet = `SELECT id, sha256, mime, kind, filename, size, created_at FROM media_uploads WHERE id = $1`
	sqlProviderIDGet  = `SELECT provider_id FROM media_provider_ids WHERE channel = $1 AND sha256 = $2 AND mime = $3
	AND expires_at > $4`
	sqlProviderIDPut = `INSERT INTO media_provider_ids (channel, sha256, mime, provider_id, expires_at) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (channel, sha256, mime) DO UPDATE SET provider_id = $4, expires_at = $5`
	sqlProviderIDForget = `DELETE FROM media_provider_ids WHERE channel = $1 AND sha256 = $2 AND mime = $3`
	sqlMediaUsage       = `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media_blobs`

	sqlRetentionNote = `UPDATE message_media SET note = $2, updated_at = $3 WHERE fetched_at > 0 AND fetched_at < $1
	AND message_id IN (SELECT id FROM messages WHERE media_status = 'ready')`
	sqlRetentionMessages = `UPDATE messages SET media_status = 'deleted', updated_at = $2 WHERE media_status = 'ready'
	AND id IN (SELECT message_id FROM message_media WHERE fetched_at > 0 AND fetched_at < $1)`
	sqlRetentionProviderIDs = `DELETE FROM media_provider_ids WHERE sha256 IN (SELECT sha256 FROM media_uploads WHERE created_at < $1)`
	sqlRetentionUploads     = `DELETE FROM media_uploads WHERE created_at < $1`
	sqlOrphanBlobs          = `SELECT sha256 FROM media_blobs b WHERE NOT EXISTS (SELECT 1 FROM media_uploads u WHERE u.sha256 = b.sha256)
	AND NOT EXISTS (SELECT 1 FROM message_media x JOIN messages m ON m.id = x.message_id
		WHERE x.sha256 = b.sha256 AND m.media_status = 'ready')`
	sqlBlobDelete = `DELETE FROM media_blobs WHERE sha256 = $1`
)

// MediaBlobPut records stored content (its bytes already on disk); content known already is left as it is.
func (s *Store) MediaBlobPut(ctx context.Context, tx Tx, sha256 string, size int64, mime string) error {
	if _, err := tx.Exec(ctx, sqlMediaBlobPut, sha256, size, mime, ms(s.now())); err != nil {
		return fmt.Errorf("media blob put: %w", err)
	}
	return nil
}

// MessageMediaGet returns the media of message id; ErrNotFound when there is no such message.
func (s *Store) MessageMediaGet(ctx context.Context, id string) (MessageMedia, error) {
	var m MessageMedia
	var fetched int64
	var announced, stored string
	err := s.drv.Read().QueryRow(ctx, sqlMessageMediaGet, id).Scan(&m.MessageID, &m.Channel, &m.Direction, &m.MediaID,
		&m.Status, &m.Filename, &announced, &m.ProviderSHA256, &m.SHA256, &m.Size, &stored, &m.Error, &m.Attempts, &fetched, &m.Note)
	if errors.Is(err, ErrNoRows) {
		return MessageMedia{}, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return MessageMedia{}, fmt.Errorf("message media get %s: %w", id, err)
	}
	m.FetchedAt, m.Mime = fromMS(fetched), announced
	if stored != "" {
		m.Mime = stored // what the bytes were found to be
	}
	return m, nil
}

// MediaFetched records that the media of message id is stored as sha256 (size bytes of type mime) and marks it
// ready. It does nothing to a message whose media is not pending.
func (s *Store) MediaFetched(ctx context.Context, tx Tx, id, sha256 string, size int64, mime string) (bool, error) {
	now := ms(s.now())
	n, err := tx.Exec(ctx, sqlMessageMediaState, id, MediaReady, now, MediaPending)
	if err != nil {
		return false, fmt.Errorf("media fetched %s: %w", id, err)
	}
	if n == 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, sqlMessageMediaUpsert, id, sha256, size, mime, "", 1, now, now); err != nil {
		return false, fmt.Errorf("media fetched %s: %w", id, err)
	}
	return true, nil
}

// MediaAttempted records a failed fetch of message id's media that will be tried again.
func (s *Store) MediaAttempted(ctx context.Context, tx Tx, id, reason string) error {
	now := ms(s.now())
	if _, err := tx.Exec(ctx, sqlMessageMediaUpsert, id, "", 0, "", reason, 1, 0, now); err != nil {
		return fmt.Errorf("media attempted %s: %w", id, err)
	}
	return nil
}

// MediaFailed marks message id's pending media failed for good with the reason; the message itself stays.
func (s *Store) MediaFailed(ctx context.Context, tx Tx, id, reason string) error {
	now := ms(s.now())
	if _, err := tx.Exec(ctx, sqlMessageMediaState, id, MediaFailed, now, MediaPending); err != nil {
		return fmt.Errorf("media failed %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, sqlMessageMediaUpsert, id, "", 0, "", reason, 1, 0, now); err != nil {
		return fmt.Errorf("media failed %s: %w", id, err)
	}
	return nil
}

// MediaRetry makes message id's failed media pending again (the caller enqueues the fetch in tx). It returns
// ErrMediaNotRetryable when the media did not fail, ErrNotFound when there is no such message.
func (s *Store) MediaRetry(ctx context.Context, tx Tx, id string) error {
	n, err := tx.Exec(ctx, sqlMessageMediaState, id, MediaPending, ms(s.now()), MediaFailed)
	if err != nil {
		return fmt.Errorf("media retry %s: %w", id, err)
	}
	if n == 0 {
		m, err := s.MessageMediaGet(ctx, id)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: the media of message %s is %q", ErrMediaNotRetryable, id, m.Status)
	}
	return nil
}

// MediaUploadInsert records an uploaded file (its bytes already stored); ID and CreatedAt get defaults.
func (s *Store) MediaUploadInsert(ctx context.Context, tx Tx, u *MediaUpload) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	if err := s.MediaBlobPut(ctx, tx, u.SHA256, u.Size, u.Mime); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sqlMediaUploadInsert, u.ID, u.SHA256, u.Mime, u.Kind, u.Filename, u.Size, ms(u.CreatedAt)); err != nil {
		return fmt.Errorf("media upload insert: %w", err)
	}
	return nil
}

// MediaUploadGet returns an uploaded file's record, ErrNotFound when there is none.
func (s *Store) MediaUploadGet(ctx context.Context, id string) (MediaUpload, error) {
	var u MediaUpload
	var created int64
	err := s.drv.Read().QueryRow(ctx, sqlMediaUploadGet, id).Scan(&u.ID, &u.SHA256, &u.Mime, &u.Kind, &u.Filename, &u.Size, &created)
	if errors.Is(err, ErrNoRows) {
		return MediaUpload{}, fmt.Errorf("media upload %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return MediaUpload{}, fmt.Errorf("media upload get %s: %w", id, err)
	}
	u.CreatedAt = fromMS(created)
	return u, nil
}

// MediaProviderIDGet returns the provider's media id of content (sha256, mime) on channel while it is valid at
// now; "" when there is none.
func (s *Store) MediaProviderIDGet(ctx context.Context, channel, sha256, mime string, now time.Time) (string, error) {
	var id string
	err := s.drv.Read().QueryRow(ctx, sqlProviderIDGet, channel, sha256, mime, ms(now)).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("media provider id get: %w", err)
	}
	return id, nil
}

// MediaProviderIDPut remembers the provider's media id of content on channel until expires.
func (s *Store) MediaProviderIDPut(ctx context.Context, tx Tx, channel, sha256, mime, providerID string, expires time.Time) error {
	if _, err := tx.Exec(ctx, sqlProviderIDPut, channel, sha256, mime, providerID, ms(expires)); err != nil {
		return fmt.Errorf("media provider id put: %w", err)
	}
	return nil
}

// MediaProviderIDForget drops a cached provider media id (the provider no longer knows it).
func (s *Store) MediaProviderIDForget(ctx context.Context, tx Tx, channel, sha256, mime string) error {
	if _, err := tx.Exec(ctx, sqlProviderIDForget, channel, sha256, mime); err != nil {
		return fmt.Errorf("media provider id forget: %w", err)
	}
	return nil
}

// MediaUsageGet counts the stored contents and their bytes.
func (s *Store) MediaUsageGet(ctx context.Context) (MediaUsage, error) {
	var u MediaUsage
	if err := s.drv.Read().QueryRow(ctx, sqlMediaUsage).Scan(&u.Files, &u.Bytes); err != nil {
		return MediaUsage{}, fmt.Errorf("media usage: %w", err)
	}
	return u, nil
}

// MediaExpire applies the retention policy in tx: the media of messages fetched before cutoff become deleted
// with note, uploads made before cutoff are forgotten, and the contents no message or upload refers to any
// more are removed. It returns how many messages lost their media and the SHA-256 of every removed content,
// whose bytes the caller deletes once tx committed.
func (s *Store) MediaExpire(ctx context.Context, tx Tx, cutoff time.Time, note string) (int64, []string, error) {
	now, cut := ms(s.now()), ms(cutoff)
	if _, err := tx.Exec(ctx, sqlRetentionNote, cut, note, now); err != nil {
		return 0, nil, fmt.Errorf("media expire: %w", err)
	}
	n, err := tx.Exec(ctx, sqlRetentionMessages, cut, now)
	if err != nil {
		return 0, nil, fmt.Errorf("media expire: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlRetentionProviderIDs, cut); err != nil {
		return 0, nil, fmt.Errorf("media expire: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlRetentionUploads, cut); err != nil {
		return 0, nil, fmt.Errorf("media expire: %w", err)
	}
	rows, err := tx.Query(ctx, sqlOrphanBlobs)
	if err != nil {
		return 0, nil, fmt.Errorf("media expire: %w", err)
	}
	var gone []string
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			rows.Close()
			return 0, nil, fmt.Errorf("media expire scan: %w", err)
		}
		gone = append(gone, sha)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, nil, fmt.Errorf("media expire: %w", err)
	}
	for _, sha := range gone {
		if _, err := tx.Exec(ctx, sqlBlobDelete, sha); err != nil {
			return 0, nil, fmt.Errorf("media expire: %w", err)
		}
	}
	return n, gone, nil
}
