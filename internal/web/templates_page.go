package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// tplPageSize bounds the templates one page shows; the rest follow with "more".
const tplPageSize = 200

// tplSyncTimeout bounds a sync started from the UI (every channel, one after the other).
const tplSyncTimeout = 2 * time.Minute

// registerTemplates mounts the templates page, the sync button and the template picker of the inbox.
func (h *Handler) registerTemplates(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /templates", h.templatesPage)
	h.page(mux, RoleDirector, "POST /templates/sync", h.templatesSync)
	h.registerTemplatePicker(mux)
}

// tplFilter is the page's filter: channel, status and a piece of the name.
type tplFilter struct {
	Channel, Status, Q string
	Offset             int
}

// query is the filter as a query string, for links.
func (f tplFilter) query(offset int) string {
	v := url.Values{}
	for k, s := range map[string]string{"channel": f.Channel, "status": f.Status, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return v.Encode()
}

// tplPageView is what the templates page shows.
type tplPageView struct {
	Filter   tplFilter
	Channels []tplChannelView
	// ChannelNames and Statuses fill the filter's choices.
	ChannelNames []string
	Statuses     []tplOption
	// CanSync says the user may sync (a director, with templates in use); Syncable says templates are in use.
	CanSync, Syncable bool
	// Results are the outcomes of the sync just run.
	Results []tplSyncNote
	// Total is how many templates match; Shown how many this page shows; More the link to the next ones.
	Total, Shown int
	More         string
}

// tplOption is one choice of a select.
type tplOption struct{ Value, Label string }

// tplChannelView is one channel's section of the page.
type tplChannelView struct {
	Name     string
	Synced   bool
	SyncedAt time.Time
	Count    int
	Rows     []tplRow
}

// tplRow is one template on the page.
type tplRow struct {
	T                                 wa.Template
	Form                              templates.Form
	Badge, StatusLabel, CategoryLabel string
	FormatLabel, HeaderLabel          string
}

// tplSyncNote is the outcome of one channel's sync, in the user's language.
type tplSyncNote struct {
	OK           bool
	Message, Fix string
}

func (h *Handler) templatesPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	v, err := h.templatesView(r, s)
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "templates_page", "templates", v)
}

// templatesSync reads the templates of one channel (form field channel) or of every channel from the
// providers, then shows the page with the outcome.
func (h *Handler) templatesSync(w http.ResponseWriter, r *http.Request, s *Session) error {
	cat := h.catalogue()
	if cat == nil {
		return userError(http.StatusConflict, "templates.unavailable")
	}
	ch := r.PostFormValue("channel")
	if ch != "" && !slices.Contains(cat.Channels(), ch) {
		return userError(http.StatusUnprocessableEntity, "templates.unknown_channel", ch)
	}
	notes := h.syncTemplates(r.Context(), s, ch)
	v, err := h.templatesView(r, s)
	if err != nil {
		return err
	}
	v.Results = notes
	return h.render(w, r, s, http.StatusOK, "templates_page", "templates", v)
}

// catalogue is the send path's template catalogue; nil when templates are not in use.
func (h *Handler) catalogue() *templates.Catalogue {
	if h.o.Sender == nil {
		return nil
	}
	return h.o.Sender.Templates()
}

// syncTemplates syncs channel ("" for every channel) and says how it went in the user's language.
func (h *Handler) syncTemplates(ctx context.Context, s *Session, channel string) []tplSyncNote {
	cat := h.catalogue()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tplSyncTimeout)
	defer cancel()
	var results []templates.SyncResult
	if channel == "" {
		results = cat.SyncAll(ctx)
	} else {
		res, err := cat.Sync(ctx, channel)
		if err != nil {
			res.Error = err.Error()
			if errors.Is(err, templates.ErrCannotList) {
				res.Error = templates.ErrCannotList.Error()
			}
		}
		results = []templates.SyncResult{res}
	}
	if len(results) == 0 {
		return []tplSyncNote{{Message: s.L.T("templates.sync_none"), Fix: s.L.T("templates.sync_none_fix")}}
	}
	notes := make([]tplSyncNote, 0, len(results))
	for _, res := range results {
		switch {
		case res.Error == templates.ErrCannotList.Error():
			notes = append(notes, tplSyncNote{Message: s.L.T("templates.sync_cannot_list", res.Channel), Fix: s.L.T("templates.sync_cannot_list_fix")})
		case res.Error != "":
			h.log.Warn("template sync from the ui failed", "channel", res.Channel, "err", res.Error)
			notes = append(notes, tplSyncNote{Message: s.L.T("templates.sync_failed", res.Channel, res.Error), Fix: s.L.T("templates.sync_failed_fix")})
		default:
			notes = append(notes, tplSyncNote{OK: true, Message: s.L.T("templates.sync_ok", res.Channel, res.Count, res.Approved)})
		}
	}
	return notes
}

// templateStatuses are the statuses the filter offers, in the order of a template's life.
var templateStatuses = []string{wa.TemplateApproved, wa.TemplatePending, wa.TemplateRejected, wa.TemplatePaused, wa.TemplateDisabled}

func (h *Handler) templatesView(r *http.Request, s *Session) (*tplPageView, error) {
	q := r.URL.Query()
	f := tplFilter{Channel: q.Get("channel"), Status: strings.ToUpper(q.Get("status")), Q: strings.TrimSpace(q.Get("q"))}
	if len(f.Q) > 100 {
		f.Q = f.Q[:100]
	}
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	f.Offset = max(f.Offset, 0)
	list, err := h.st.TemplateList(r.Context(), f.Channel)
	if err != nil {
		return nil, err
	}
	syncs, err := h.st.TemplateSyncs(r.Context())
	if err != nil {
		return nil, err
	}
	v := &tplPageView{Filter: f, Syncable: h.catalogue() != nil}
	v.CanSync = v.Syncable && s.Director()
	for _, c := range h.o.Channels.List() {
		v.ChannelNames = append(v.ChannelNames, c.Name)
	}
	v.Statuses = append(v.Statuses, tplOption{"", s.L.T("templates.status_any")})
	for _, st := range templateStatuses {
		v.Statuses = append(v.Statuses, tplOption{st, statusLabel(s.L, st)})
	}
	// One section per configured channel (and per channel that has templates but is no longer configured).
	sections := map[string]*tplChannelView{}
	var order []string
	section := func(name string) *tplChannelView {
		if c := sections[name]; c != nil {
			return c
		}
		sections[name] = &tplChannelView{Name: name}
		order = append(order, name)
		return sections[name]
	}
	for _, name := range v.ChannelNames {
		if f.Channel == "" || f.Channel == name {
			section(name)
		}
	}
	for _, si := range syncs {
		if f.Channel == "" || f.Channel == si.Channel {
			c := section(si.Channel)
			c.Synced, c.SyncedAt, c.Count = true, si.SyncedAt, si.Count
		}
	}
	needle := strings.ToLower(f.Q)
	for _, t := range list {
		if f.Status != "" && !strings.EqualFold(t.Status, f.Status) || needle != "" && !strings.Contains(strings.ToLower(t.Name), needle) {
			continue
		}
		v.Total++
		if v.Total <= f.Offset || v.Shown >= tplPageSize {
			continue
		}
		v.Shown++
		section(t.Channel).Rows = append(section(t.Channel).Rows, h.templateRow(s.L, t.Template))
	}
	if f.Offset+v.Shown < v.Total {
		v.More = "/templates?" + f.query(f.Offset+v.Shown)
	}
	for _, name := range order {
		v.Channels = append(v.Channels, *sections[name])
	}
	return v, nil
}

func (h *Handler) templateRow(L *Lang, t wa.Template) tplRow {
	row := tplRow{T: t, Form: templates.Describe(t), Badge: statusBadge(t.Status), StatusLabel: statusLabel(L, t.Status),
		CategoryLabel: translated(L, "templates.category."+strings.ToUpper(t.Category), t.Category)}
	switch {
	case len(row.Form.Fields) == 0:
		row.FormatLabel = L.T("templates.format_none")
	case t.ParameterFormat == wa.ParamsNamed:
		row.FormatLabel = L.T("templates.format_named")
	default:
		row.FormatLabel = L.T("templates.format_positional")
	}
	if f := row.Form.HeaderFormat; f != "" && f != "TEXT" {
		row.HeaderLabel = translated(L, "templates.header_"+strings.ToLower(f), f)
	}
	return row
}

// statusBadge is the colour of a template status's badge.
func statusBadge(status string) string {
	switch strings.ToUpper(status) {
	case wa.TemplateApproved:
		return "green"
	case wa.TemplatePending, "IN_APPEAL":
		return "amber"
	case wa.TemplateRejected, wa.TemplatePaused, wa.TemplateDisabled:
		return "red"
	}
	return ""
}

func statusLabel(L *Lang, status string) string {
	return translated(L, "templates.status."+strings.ToUpper(status), status)
}

// translated is the text of key, or fallback when no language defines it (values the provider names that
// wagate has no words for are shown as they come).
func translated(L *Lang, key, fallback string) string {
	if L.Has(key) || L.fallback != nil && L.fallback.Has(key) {
		return L.T(key)
	}
	return fallback
}
