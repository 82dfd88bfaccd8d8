package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/store"
)

// contactsPageSize is how many contacts one page of the list shows.
const contactsPageSize = 50

// registerContacts mounts the contacts pages.
func (h *Handler) registerContacts(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /contacts", h.contactsPage)
	h.page(mux, RoleAgent, "GET /contacts/{id}", h.contactPage)
	h.page(mux, RoleAgent, "POST /contacts/{id}", h.contactSave)
}

// windowState is one of a contact's conversations as the contacts pages show it: its channel and whether its
// 24-hour window is open, in words.
type windowState struct {
	ConversationID string
	Channel        string
	Open           bool
	Text           string
	ExpiresAt      time.Time
	LastMessageAt  time.Time
	UnreadCount    int
}

// contactRow is a contact with the state of its conversations.
type contactRow struct {
	store.Contact
	Windows      []windowState
	LastActivity time.Time
}

// contactsView is what the contacts list shows.
type contactsView struct {
	Q        string
	Rows     []contactRow
	Next     string // the query string of the next page, "" on the last
	Paged    bool   // this is not the first page
	Searched bool
}

func (h *Handler) contactsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	cursor := r.URL.Query().Get("cursor")
	page, err := h.st.ContactSearch(r.Context(), store.ContactQuery{Q: q, Cursor: cursor, Limit: contactsPageSize})
	if errors.Is(err, store.ErrBadCursor) {
		return userError(http.StatusBadRequest, "contacts.bad_cursor")
	}
	if err != nil {
		return err
	}
	contacts := page.Items
	// An application's reference is matched exactly, on the first page, ahead of the name matches.
	if q != "" && cursor == "" {
		if c, err := h.st.ContactGetByRef(r.Context(), q); err == nil {
			contacts = append([]store.Contact{c}, removeContact(contacts, c.ID)...)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	rows, err := h.contactRows(r, s, contacts)
	if err != nil {
		return err
	}
	v := contactsView{Q: q, Rows: rows, Paged: cursor != "", Searched: q != ""}
	if page.Next != "" {
		next := url.Values{"cursor": {page.Next}}
		if q != "" {
			next.Set("q", q)
		}
		v.Next = next.Encode()
	}
	return h.render(w, r, s, http.StatusOK, "contacts", "contacts", v)
}

func removeContact(cs []store.Contact, id string) []store.Contact {
	out := cs[:0:0]
	for _, c := range cs {
		if c.ID != id {
			out = append(out, c)
		}
	}
	return out
}

// contactRows adds the conversations of each contact, read in one query for the whole page.
func (h *Handler) contactRows(r *http.Request, s *Session, cs []store.Contact) ([]contactRow, error) {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	ws, err := h.st.ContactWindows(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	now := h.now()
	rows := make([]contactRow, len(cs))
	for i, c := range cs {
		rows[i] = contactRow{Contact: c}
		for _, cw := range ws[c.ID] {
			st := windowOf(s.L, now, cw)
			rows[i].Windows = append(rows[i].Windows, st)
			if st.LastMessageAt.After(rows[i].LastActivity) {
				rows[i].LastActivity = st.LastMessageAt
			}
		}
	}
	return rows, nil
}

// windowOf describes a conversation's 24-hour window at now: "open, 13 h left", "closed at ...", or never
// opened (the contact has not written on that channel).
func windowOf(L *Lang, now time.Time, cw store.ContactWindow) windowState {
	st := windowState{ConversationID: cw.ConversationID, Channel: cw.Channel, ExpiresAt: cw.WindowExpiresAt,
		LastMessageAt: cw.LastMessageAt, UnreadCount: cw.UnreadCount}
	exp := cw.WindowExpiresAt
	switch {
	case exp.IsZero():
		st.Text = L.T("contacts.window_never")
	case now.Before(exp):
		st.Open = true
		if left := exp.Sub(now); left >= time.Hour {
			st.Text = L.T("contacts.window_open_hours", int(left.Hours()))
		} else {
			st.Text = L.T("contacts.window_open_minutes", max(1, int(left.Minutes())))
		}
	default:
		st.Text = L.T("contacts.window_closed", exp.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return st
}

// contactView is what a contact's page shows.
type contactView struct {
	Contact store.Contact
	Windows []windowState
	Name    string // the form's values: the stored ones, or what was sent when it was refused
	Ref     string
	Error   string
	Saved   bool
}

func (h *Handler) contactPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	c, err := h.st.ContactGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// The name field holds a name given here; empty, the contact goes by their WhatsApp profile name.
	name := ""
	if c.NameSet {
		name = c.Name
	}
	return h.renderContact(w, r, s, http.StatusOK, contactView{Contact: c, Name: name, Ref: c.ExternalRef,
		Saved: r.URL.Query().Get("saved") == "1"})
}

func (h *Handler) renderContact(w http.ResponseWriter, r *http.Request, s *Session, status int, v contactView) error {
	ws, err := h.st.ContactWindows(r.Context(), []string{v.Contact.ID})
	if err != nil {
		return err
	}
	now := h.now()
	for _, cw := range ws[v.Contact.ID] {
		v.Windows = append(v.Windows, windowOf(s.L, now, cw))
	}
	return h.render(w, r, s, status, "contact", "contacts", v)
}

// contactSave changes a contact's name and external reference (agents may).
func (h *Handler) contactSave(w http.ResponseWriter, r *http.Request, s *Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := h.st.ContactGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	name, ref := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("external_ref"))
	v := contactView{Contact: c, Name: name, Ref: ref}
	if httpapi.CheckContactText(name, httpapi.MaxContactName) != "" {
		v.Error = s.L.T("contacts.bad_name", httpapi.MaxContactName)
	} else if httpapi.CheckContactText(ref, httpapi.MaxContactRef) != "" {
		v.Error = s.L.T("contacts.bad_ref", httpapi.MaxContactRef)
	}
	if v.Error != "" {
		return h.renderContact(w, r, s, http.StatusUnprocessableEntity, v)
	}
	_, err = h.st.ContactUpdate(r.Context(), c.ID, store.ContactPatch{Name: &name, ExternalRef: &ref})
	if errors.Is(err, store.ErrExternalRefTaken) {
		v.Error = s.L.T("contacts.ref_taken")
		return h.renderContact(w, r, s, http.StatusConflict, v)
	}
	if err != nil {
		return err
	}
	h.log.Info("contact edited", "contact", c.ID, "user", s.User.Email)
	http.Redirect(w, r, "/contacts/"+url.PathEscape(c.ID)+"?saved=1", http.StatusSeeOther)
	return nil
}
