package sender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// ErrUnknownChannel is returned for a send on a channel that is not configured.
var ErrUnknownChannel = errors.New("unknown channel")

// ErrStoredFile is returned for media that name a file kept by wagate ("file") when the service was given no
// Files (SetFiles): such a message could only fail at the provider.
var ErrStoredFile = errors.New("media by wagate file id need a media store, and this service has none")

// ErrNotRetryable is returned when asked to retry a message that is not a failed outbound message.
var ErrNotRetryable = errors.New("only failed outbound messages can be retried")

// Service queues sends. It is what the API, the command line and the web UI call.
type Service struct {
	st        *store.Store
	q         *queue.Queue
	commits   *store.Batcher
	channels  []string // configured channel names, the default first
	providers map[string]provider.Provider
	files     Files         // nil: stored files are refused (ErrStoredFile)
	tpl       templateState // template preflight and the 24-hour window check (see UseTemplates)
}

// NewService returns the send service for the configured channels (the default first) and their providers.
// Accepted messages are committed through commits, together with those of concurrent requests.
func NewService(st *store.Store, q *queue.Queue, commits *store.Batcher, channels []string, providers map[string]provider.Provider) *Service {
	return &Service{st: st, q: q, commits: commits, channels: channels, providers: providers}
}

// UploadMedia uploads a file to a channel's provider and returns its media id.
func (s *Service) UploadMedia(ctx context.Context, channel string, f provider.MediaFile) (string, error) {
	ch, err := s.Channel(channel)
	if err != nil {
		return "", err
	}
	p, ok := s.providers[ch]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownChannel, ch)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return p.UploadMedia(ctx, f)
}

// Channel resolves a channel name ("" is the default channel).
func (s *Service) Channel(name string) (string, error) {
	if name == "" && len(s.channels) > 0 {
		return s.channels[0], nil
	}
	for _, c := range s.channels {
		if c == name {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w %q", ErrUnknownChannel, name)
}

// Send stores msg as queued on channel and enqueues its send job, in one transaction. With an idempotency key
// already used for the same request it returns the earlier message and false; for another request,
// store.ErrIdempotencyConflict.
func (s *Service) Send(ctx context.Context, channel string, msg wa.Outbound, idempotencyKey string) (store.Message, bool, error) {
	ch, err := s.Channel(channel)
	if err != nil {
		return store.Message{}, false, err
	}
	if namesStoredFile(msg) {
		if err := s.checkFile(ctx, msg); err != nil {
			return store.Message{}, false, err
		}
	}
	text, err := s.preflight(ctx, ch, &msg)
	if err != nil {
		return store.Message{}, false, err
	}
	req, err := json.Marshal(msg)
	if err != nil {
		return store.Message{}, false, fmt.Errorf("send: %w", err)
	}
	sum := sha256.Sum256(append([]byte(ch+"\x00"), req...))
	m := store.Message{Channel: ch, Type: msg.Type, Text: text, Payload: msg.Content, ReplyTo: msg.ReplyTo,
		Request: req, IdempotencyKey: idempotencyKey, RequestHash: hex.EncodeToString(sum[:])}
	var out store.Message
	var created bool
	err = s.commits.Do(ctx, func(tx store.Tx) error {
		var err error
		in := m // a fresh copy each time the function runs (a failed shared batch runs it again alone)
		out, created, err = s.st.OutboundCreate(ctx, tx, &in, msg.To)
		if err != nil || !created {
			return err
		}
		return s.q.InsertTx(ctx, tx, SendArgs{MessageID: out.ID}, nil)
	})
	if err != nil {
		return out, false, err
	}
	return out, created, nil
}

// Retry sends a failed outbound message again, as a new message that points back at it (the failed one keeps
// its history).
func (s *Service) Retry(ctx context.Context, id string) (store.Message, error) {
	old, err := s.st.MessageGet(ctx, id)
	if err != nil {
		return store.Message{}, err
	}
	if old.Direction != store.DirectionOut || old.Status != wa.StatusFailed {
		return store.Message{}, fmt.Errorf("%w: message %s is %s %s", ErrNotRetryable, id, old.Direction, old.Status)
	}
	var msg wa.Outbound
	if err := json.Unmarshal(old.Request, &msg); err != nil {
		return store.Message{}, fmt.Errorf("retry %s: stored request: %w", id, err)
	}
	m := store.Message{Channel: old.Channel, Type: old.Type, Text: old.Text, Payload: old.Payload, ReplyTo: old.ReplyTo,
		Request: old.Request, RetryOf: old.ID}
	err = s.commits.Do(ctx, func(tx store.Tx) error {
		out, _, err := s.st.OutboundCreate(ctx, tx, &m, msg.To)
		if err != nil {
			return err
		}
		m = out
		return s.q.InsertTx(ctx, tx, SendArgs{MessageID: m.ID}, nil)
	})
	return m, err
}

// Wait polls a message until it left the queue (accepted by the provider or failed) or timeout passes, and
// returns it as it is then.
func (s *Service) Wait(ctx context.Context, id string, timeout time.Duration) (store.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		m, err := s.st.MessageGet(context.WithoutCancel(ctx), id)
		if err != nil || m.Status != wa.StatusQueued {
			return m, err
		}
		select {
		case <-ctx.Done():
			return m, nil
		case <-tick.C:
		}
	}
}

// MarkReadArgs is the job that marks an inbound message as read at the provider.
type MarkReadArgs struct {
	Channel    string `json:"channel"`
	ProviderID string `json:"provider_id"`
}

// Kind names the job.
func (MarkReadArgs) Kind() string { return "mark_read" }

// InsertOpts: a read mark is worth a few tries, not an hour of them.
func (MarkReadArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// MarkRead queues a read mark for an inbound message (by its provider id) on channel.
func (s *Service) MarkRead(ctx context.Context, channel, providerID string) error {
	ch, err := s.Channel(channel)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx store.Tx) error {
		return s.q.InsertTx(ctx, tx, MarkReadArgs{Channel: ch, ProviderID: providerID}, nil)
	})
}

// MarkReadWorker works MarkReadArgs jobs.
type MarkReadWorker struct {
	river.WorkerDefaults[MarkReadArgs]
	providers map[string]provider.Provider
}

// NewMarkReadWorker returns the worker.
func NewMarkReadWorker(providers map[string]provider.Provider) *MarkReadWorker {
	return &MarkReadWorker{providers: providers}
}

// Work sends the read mark; provider errors that are not worth retrying end the job.
func (w *MarkReadWorker) Work(ctx context.Context, job *river.Job[MarkReadArgs]) error {
	p, ok := w.providers[job.Args.Channel]
	if !ok {
		return river.JobCancel(fmt.Errorf("channel %q is not configured", job.Args.Channel))
	}
	cctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	err := p.MarkRead(cctx, job.Args.ProviderID)
	var pe *provider.Error
	if errors.As(err, &pe) && !pe.Class.Retryable() {
		return river.JobCancel(err)
	}
	return err
}

// Preview is the text a person would read for an outbound message: its body, caption, template name or a
// short description.
func Preview(m wa.Outbound) string {
	var c map[string]json.RawMessage
	_ = json.Unmarshal(m.Content, &c)
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(c[k], &s)
		return s
	}
	switch m.Type {
	case "text":
		return str("body")
	case "image", "video", "document", "audio", "sticker":
		if s := str("caption"); s != "" {
			return s
		}
		if s := str("filename"); s != "" {
			return s
		}
	case "reaction":
		return str("emoji")
	case "location":
		return strings.TrimSpace(str("name") + " " + str("address"))
	case "template":
		return "Template: " + str("name")
	case "interactive":
		var body struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(c["body"], &body)
		return body.Text
	}
	return ""
}

// namesStoredFile reports whether a media message names its file by wagate file id.
func namesStoredFile(m wa.Outbound) bool {
	switch m.Type {
	case "image", "video", "audio", "document", "sticker":
	default:
		return false
	}
	var c struct {
		File *string `json:"file"`
	}
	return json.Unmarshal(m.Content, &c) == nil && c.File != nil
}
