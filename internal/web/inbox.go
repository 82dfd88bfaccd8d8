package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
)

// inboxPageSize bounds the conversations of one page of the list and the messages of one page of a thread.
const inboxPageSize = 50

// maxComposerForm bounds a composer submission: the largest file WhatsApp takes and the form's text.
const maxComposerForm = media.MaxUpload + 1<<20

// registerInbox mounts the inbox: the conversation list, threads, the composer and the media of messages.
func (h *Handler) registerInbox(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /inbox", h.inboxPage)
	h.page(mux, RoleAgent, "GET /inbox/list", h.inboxList)
	h.page(mux, RoleAgent, "GET /inbox/{id}", h.inboxPage)
	h.page(mux, RoleAgent, "GET /inbox/{id}/messages", h.inboxMessages)
	h.page(mux, RoleAgent, "GET /inbox/{id}/composer", h.inboxComposer)
	h.page(mux, RoleAgent, "GET /inbox/{id}/reply", h.inboxReply)
	h.page(mux, RoleAgent, "POST /inbox/{id}/send", h.inboxSend)
	h.page(mux, RoleAgent, "POST /inbox/{id}/retry/{msg}", h.inboxRetry)
	h.page(mux, RoleAgent, "GET /inbox/{id}/media/{msg}", h.inboxMediaState)
	h.page(mux, RoleAgent, "GET /inbox/{id}/file/{msg}", h.inboxFile)
}

// inboxFilter is what the conversation list shows: a search and filters, the page and the open conversation.
type inboxFilter struct {
	Q       string
	Unread  bool
	Channel string
	Window  bool
	Cursor  string
	Open    string // the conversation shown beside the list
}

func readInboxFilter(q url.Values) inboxFilter {
	return inboxFilter{Q: strings.TrimSpace(q.Get("q")), Unread: q.Get("unread") != "", Channel: q.Get("channel"),
		Window: q.Get("window") != "", Cursor: q.Get("cursor"), Open: q.Get("open")}
}

// Query is the filter as a query string, without the page.
func (f inboxFilter) Query() string {
	v := url.Values{}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.Unread {
		v.Set("unread", "1")
	}
	if f.Channel != "" {
		v.Set("channel", f.Channel)
	}
	if f.Window {
		v.Set("window", "1")
	}
	if f.Open != "" {
		v.Set("open", f.Open)
	}
	return v.Encode()
}

// ListURL is the list's own address, which a live refresh asks again.
func (f inboxFilter) ListURL() string { return "/inbox/list?" + f.Query() }

// PageURL is the address of the inbox with conversation id open, keeping the filters.
func (f inboxFilter) PageURL(id string) string {
	f.Open = ""
	u := "/inbox/" + url.PathEscape(id)
	if q := f.Query(); q != "" {
		u += "?" + q
	}
	return u
}

// MoreURL is the address of the page after cursor.
func (f inboxFilter) MoreURL(cursor string) string {
	q := f.Query()
	if q != "" {
		q += "&"
	}
	return "/inbox/list?" + q + "cursor=" + url.QueryEscape(cursor)
}

// Active reports whether any filter is set.
func (f inboxFilter) Active() bool { return f.Q != "" || f.Unread || f.Channel != "" || f.Window }

// inboxPageView is the whole inbox page: the list and, when one is open, a thread.
type inboxPageView struct {
	List   inboxListView
	Thread *inboxThreadView
}

func (h *Handler) inboxPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := readInboxFilter(r.URL.Query())
	f.Cursor = ""
	var v inboxPageView
	if id := r.PathValue("id"); id != "" {
		f.Open = id
		t, err := h.inboxLoadThread(r.Context(), id)
		if err != nil {
			return err
		}
		v.Thread = &t
	}
	list, err := h.inboxLoadList(r.Context(), f)
	if err != nil {
		return err
	}
	v.List = list
	return h.render(w, r, s, http.StatusOK, "inbox", "inbox", v)
}

// inboxListView is one page of the conversation list.
type inboxListView struct {
	Filter   inboxFilter
	Rows     []inboxRow
	Next     string
	Channels []string
	More     bool // a following page, appended to the list
}

// inboxRow is a conversation as the list shows it.
type inboxRow struct {
	store.Conversation
	Window inboxWindow
	Open   bool
}

// inboxWindow is a conversation's 24-hour window as the UI says it.
type inboxWindow struct {
	Open     bool
	Hours    int // whole hours left, when at least one
	Minutes  int // minutes left, under an hour
	ClosedAt time.Time
}

func inboxWindowOf(c store.Conversation, now time.Time) inboxWindow {
	if !c.WindowOpen(now) {
		return inboxWindow{ClosedAt: c.WindowExpiresAt}
	}
	left := c.WindowExpiresAt.Sub(now)
	if left >= time.Hour {
		return inboxWindow{Open: true, Hours: int(left / time.Hour)}
	}
	return inboxWindow{Open: true, Minutes: max(1, int(left/time.Minute))}
}

func (h *Handler) inboxLoadList(ctx context.Context, f inboxFilter) (inboxListView, error) {
	q := store.ConversationQuery{Q: f.Q, Unread: f.Unread, Channel: f.Channel, Cursor: f.Cursor, Limit: inboxPageSize}
	now := h.now()
	if f.Window {
		q.WindowOpenAt = now
	}
	p, err := h.st.ConversationSearch(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		return inboxListView{}, userError(http.StatusBadRequest, "inbox.bad_cursor")
	}
	if err != nil {
		return inboxListView{}, err
	}
	v := inboxListView{Filter: f, Next: p.Next, More: f.Cursor != ""}
	for _, c := range h.o.Channels.List() {
		v.Channels = append(v.Channels, c.Name)
	}
	for _, c := range p.Items {
		v.Rows = append(v.Rows, inboxRow{Conversation: c, Window: inboxWindowOf(c, now), Open: c.ID == f.Open})
	}
	return v, nil
}

// inboxList is the conversation list alone: searched, filtered, refreshed live, or a following page.
func (h *Handler) inboxList(w http.ResponseWriter, r *http.Request, s *Session) error {
	v, err := h.inboxLoadList(r.Context(), readInboxFilter(r.URL.Query()))
	if err != nil {
		return err
	}
	if v.More {
		return h.renderFragment(w, r, s, http.StatusOK, "inbox-rows", v)
	}
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-list", v)
}

// inboxThreadView is an open conversation: its header, messages and composer.
type inboxThreadView struct {
	Conv     store.Conversation
	Window   inboxWindow
	Messages inboxMessagesView
	Composer inboxComposerView
}

// inboxLoadThread reads conversation id for display, marking it read first when it has unread messages.
func (h *Handler) inboxLoadThread(ctx context.Context, id string) (inboxThreadView, error) {
	c, err := h.st.ConversationGet(ctx, id)
	if err != nil {
		return inboxThreadView{}, err
	}
	if c, err = h.inboxMarkRead(ctx, c); err != nil {
		return inboxThreadView{}, err
	}
	msgs, err := h.inboxLoadMessages(ctx, c, "")
	if err != nil {
		return inboxThreadView{}, err
	}
	comp, err := h.inboxNewComposer(c)
	if err != nil {
		return inboxThreadView{}, err
	}
	return inboxThreadView{Conv: c, Window: inboxWindowOf(c, h.now()), Messages: msgs, Composer: comp}, nil
}

// inboxMarkRead marks c read, and sends the read mark to WhatsApp when its channel does, when it has unread
// messages. A conversation already read is left alone, so that redrawing an open thread changes nothing.
func (h *Handler) inboxMarkRead(ctx context.Context, c store.Conversation) (store.Conversation, error) {
	if c.UnreadCount == 0 {
		return c, nil
	}
	c, _, err := sender.ConversationRead(ctx, h.st, h.o.Sender, h.o.ReadReceipts, c.ID)
	return c, err
}

// inboxMessages is the thread's messages: the newest page (redrawn live, which marks new messages read), or
// with ?before= an earlier page.
func (h *Handler) inboxMessages(w http.ResponseWriter, r *http.Request, s *Session) error {
	c, err := h.st.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	before := r.URL.Query().Get("before")
	if before == "" {
		if c, err = h.inboxMarkRead(r.Context(), c); err != nil {
			return err
		}
	}
	v, err := h.inboxLoadMessages(r.Context(), c, before)
	if err != nil {
		return err
	}
	if before != "" {
		return h.renderFragment(w, r, s, http.StatusOK, "inbox-bubbles", v)
	}
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-messages", v)
}

// inboxComposerView is the form at the bottom of a thread, or the notice that a template is needed.
type inboxComposerView struct {
	ConvID string
	Window inboxWindow
	Never  bool   // the contact never wrote: there has been no window
	Key    string // the idempotency key of this form: submitting it twice sends once
	Files  bool   // wagate keeps files, so the composer takes attachments
}

func (h *Handler) inboxNewComposer(c store.Conversation) (inboxComposerView, error) {
	key, err := randomToken()
	if err != nil {
		return inboxComposerView{}, err
	}
	return inboxComposerView{ConvID: c.ID, Window: inboxWindowOf(c, h.now()), Never: c.LastInboundAt.IsZero(), Key: key, Files: h.o.Media != nil}, nil
}

// inboxComposer is the composer alone. With ?closed=1 (asked live by the closed composer) it answers 204 while
// the window stays closed, so that a template being filled in is not redrawn by every change.
func (h *Handler) inboxComposer(w http.ResponseWriter, r *http.Request, s *Session) error {
	c, err := h.st.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("closed") != "" && !c.WindowOpen(h.now()) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	v, err := h.inboxNewComposer(c)
	if err != nil {
		return err
	}
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-composer", v)
}

// inboxReplySlot is the quoted message above the composer's text, with the hidden field that names it.
type inboxReplySlot struct {
	ConvID string
	Quote  *inboxQuote
	ID     string
}

// inboxReply fills the composer's reply slot with the message ?to= names, or empties it without.
func (h *Handler) inboxReply(w http.ResponseWriter, r *http.Request, s *Session) error {
	v := inboxReplySlot{ConvID: r.PathValue("id")}
	if id := r.URL.Query().Get("to"); id != "" {
		m, err := h.st.MessageGet(r.Context(), id)
		if err != nil {
			return err
		}
		if m.ConversationID != v.ConvID {
			return errNotFound
		}
		q := inboxQuoteOf(m)
		v.Quote, v.ID = &q, m.ID
	}
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-reply-slot", v)
}

// inboxSend sends what the composer holds: text, or a file with its caption, optionally as a reply. The form's
// key makes a repeated submission send once. Refusals are shown with what to do about them.
func (h *Handler) inboxSend(w http.ResponseWriter, r *http.Request, s *Session) error {
	if h.o.Sender == nil {
		return userError(http.StatusServiceUnavailable, "inbox.no_sender")
	}
	// page bounded the body at maxFormBody, the composer's limit.
	if err := r.ParseMultipartForm(formMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return userError(http.StatusRequestEntityTooLarge, "inbox.file_too_large")
		}
		return userError(http.StatusBadRequest, "inbox.bad_form")
	}
	ctx := r.Context()
	c, err := h.st.ConversationGet(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	key := r.FormValue("key")
	if outbound.CheckIdempotencyKey(key) != nil {
		return userError(http.StatusBadRequest, "inbox.form_expired")
	}
	to := c.Contact.Phone
	if to == "" {
		return userError(http.StatusUnprocessableEntity, "inbox.no_number")
	}
	body := strings.TrimSpace(r.FormValue("body"))
	req := map[string]any{"to": to, "channel": c.Channel}
	if id := r.FormValue("reply_to"); id != "" {
		q, err := h.st.MessageGet(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err != nil || q.ConversationID != c.ID {
			return userError(http.StatusUnprocessableEntity, "inbox.reply_gone")
		}
		if q.ProviderID != "" {
			req["reply_to"] = q.ProviderID
		}
	}
	var raw []byte
	file, fh, ferr := r.FormFile("file")
	switch {
	case ferr == nil && fh.Size > 0:
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, media.MaxUpload+1))
		if err != nil {
			return userError(http.StatusBadRequest, "inbox.bad_form")
		}
		if len(data) > media.MaxUpload {
			return userError(http.StatusRequestEntityTooLarge, "inbox.file_too_large")
		}
		declared := fh.Header.Get("Content-Type")
		kind := inboxFileKind(declared)
		obj := map[string]any{}
		if body != "" && kind != "audio" {
			obj["caption"] = body
		}
		if kind == "document" {
			obj["filename"] = fh.Filename
		}
		req["type"], req[kind] = kind, obj
		msg, err := json.Marshal(req)
		if err != nil {
			return err
		}
		f, _, err := outbound.FindInlineFile(msg, true)
		if err != nil {
			return inboxRefused(err)
		}
		if raw, err = httpapi.StoreInlineFile(ctx, h.o.Media, f, data, declared, fh.Filename); err != nil {
			return inboxRefused(err)
		}
	case body == "":
		return userError(http.StatusUnprocessableEntity, "inbox.empty")
	default:
		req["type"], req["text"] = "text", map[string]any{"body": body}
		if raw, err = json.Marshal(req); err != nil {
			return err
		}
	}
	dec, err := outbound.Decode(raw)
	if err != nil {
		return inboxRefused(err)
	}
	if _, _, err := h.o.Sender.Send(ctx, dec.Channel, dec.Message, "ui:"+key); err != nil {
		if e, ok := httpapi.SendRefusal(dec.Message.Type, err); ok {
			return inboxRefused(e)
		}
		return err
	}
	if r.Header.Get("HX-Request") == "" {
		http.Redirect(w, r, "/inbox/"+c.ID, http.StatusSeeOther)
		return nil
	}
	v, err := h.inboxNewComposer(c)
	if err != nil {
		return err
	}
	w.Header().Set("HX-Trigger", "inbox-sent")
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-composer", v)
}

// inboxFileKind is the WhatsApp message type of a file by its declared type, as media.KindOf picks it, but for a
// WebP image, which staff send as an image rather than a sticker; media.Check then checks the bytes.
func inboxFileKind(declared string) string {
	base, _, _ := mime.ParseMediaType(declared)
	if kind := media.KindOf(base); kind != "sticker" {
		return kind
	}
	return "image"
}

// inboxRefused is the user error of a send that was refused: the catalogue's message and what to do.
func inboxRefused(err error) error {
	var e *httpapi.Error
	if errors.As(err, &e) {
		if e.Fix != "" {
			return userError(http.StatusUnprocessableEntity, "inbox.refused_fix", e.Message, e.Fix)
		}
		return userError(http.StatusUnprocessableEntity, "inbox.refused", e.Message)
	}
	var verrs outbound.Errors
	if errors.As(err, &verrs) {
		return userError(http.StatusUnprocessableEntity, "inbox.refused", verrs.Error())
	}
	return err
}

// inboxRetry sends a failed message again and redraws the thread's messages.
func (h *Handler) inboxRetry(w http.ResponseWriter, r *http.Request, s *Session) error {
	if h.o.Sender == nil {
		return userError(http.StatusServiceUnavailable, "inbox.no_sender")
	}
	c, err := h.st.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := h.st.MessageGet(r.Context(), r.PathValue("msg"))
	if err != nil {
		return err
	}
	if m.ConversationID != c.ID {
		return errNotFound
	}
	// One retry per failed message: a second click, or a second agent, gets the retry already made.
	if _, _, err := h.o.Sender.RetryWithKey(r.Context(), m.ID, "ui-retry-"+m.ID); errors.Is(err, sender.ErrNotRetryable) {
		return userError(http.StatusConflict, "inbox.not_retryable")
	} else if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "" {
		http.Redirect(w, r, "/inbox/"+c.ID, http.StatusSeeOther)
		return nil
	}
	v, err := h.inboxLoadMessages(r.Context(), c, "")
	if err != nil {
		return err
	}
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-messages", v)
}

// inboxMediaState is one message's media as its bubble shows it: a pending file polls this until it is fetched
// or failed (fetching raises no live change).
func (h *Handler) inboxMediaState(w http.ResponseWriter, r *http.Request, s *Session) error {
	m, err := h.st.MessageGet(r.Context(), r.PathValue("msg"))
	if err != nil {
		return err
	}
	if m.ConversationID != r.PathValue("id") {
		return errNotFound
	}
	b := inboxBubbleOf(m)
	if b.Media == nil {
		return errNotFound
	}
	return h.renderFragment(w, r, s, http.StatusOK, "inbox-media", b.Media)
}

// inboxFile serves the file of a message of the conversation: an inbound message's fetched media, or the
// stored file an outbound message sent.
func (h *Handler) inboxFile(w http.ResponseWriter, r *http.Request, s *Session) error {
	if h.o.Media == nil {
		return errNotFound
	}
	m, err := h.st.MessageGet(r.Context(), r.PathValue("msg"))
	if err != nil {
		return err
	}
	if m.ConversationID != r.PathValue("id") {
		return errNotFound
	}
	id := m.ID
	if m.Direction == store.DirectionOut {
		if id = inboxStoredFile(m); id == "" {
			return errNotFound
		}
	}
	f, err := h.o.Media.Open(r.Context(), id)
	switch {
	case errors.Is(err, media.ErrNotReady), errors.Is(err, media.ErrNoContent), errors.Is(err, store.ErrNotFound):
		return errNotFound
	case err != nil:
		return err
	}
	media.Serve(w, r, f)
	return nil
}
