package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

// activityPageSize is the number of rows of one page of either activity list.
const activityPageSize = 50

// activityBodyLimit caps the raw body shown on the page; the API serves the whole of it.
const activityBodyLimit = 64 << 10

// registerActivity mounts the activity pages: the provider webhooks wagate received (with their processing
// state, raw body and replay) and the deliveries of events to applications (with replay of dead letters).
func (h *Handler) registerActivity(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /activity", h.activityWebhooks)
	h.page(mux, RoleAgent, "GET /activity/webhooks", h.activityWebhooks)
	h.page(mux, RoleAgent, "GET /activity/webhooks/{id}/body", h.activityWebhookBody)
	h.page(mux, RoleDirector, "POST /activity/webhooks/{id}/replay", h.activityWebhookReplay)
	h.page(mux, RoleAgent, "GET /activity/deliveries", h.activityDeliveries)
	h.page(mux, RoleDirector, "POST /activity/deliveries/{id}/replay", h.activityDeliveryReplay)
}

// activityFilterOption is one choice of a filter's select.
type activityFilterOption struct {
	Value, Label string
	Count        int
	Selected     bool
}

// activityWebhooksView is what the webhooks tab shows.
type activityWebhooksView struct {
	Tab        string
	States     []activityFilterOption
	Channels   []activityFilterOption
	State      string
	Channel    string
	Rows       []activityWebhookRow
	NextURL    string
	First      bool
	CanReplay  bool
	TotalCount int
}

var eventStates = []string{store.EventPending, store.EventProcessed, store.EventFailed}

func (h *Handler) activityWebhooks(w http.ResponseWriter, r *http.Request, s *Session) error {
	q := r.URL.Query()
	v := activityWebhooksView{Tab: "webhooks", State: q.Get("state"), Channel: q.Get("channel"), First: q.Get("cursor") == "",
		CanReplay: s.Director() && h.o.Replay != nil}
	if v.State != "" && !slices.Contains(eventStates, v.State) {
		return userError(http.StatusBadRequest, "activity.bad_filter")
	}
	counts, err := h.st.EventCounts(r.Context())
	if err != nil {
		return err
	}
	for _, st := range eventStates {
		v.States = append(v.States, activityFilterOption{Value: st, Label: s.L.T("activity.state." + st), Count: counts[st],
			Selected: st == v.State})
		v.TotalCount += counts[st]
	}
	for _, c := range h.o.Channels.List() {
		v.Channels = append(v.Channels, activityFilterOption{Value: c.Name, Label: c.Name, Selected: c.Name == v.Channel})
	}
	page, err := h.st.EventSearch(r.Context(), store.EventQuery{State: v.State, Channel: v.Channel, Cursor: q.Get("cursor"),
		Limit: activityPageSize})
	if err != nil {
		return err
	}
	for _, ev := range page.Items {
		v.Rows = append(v.Rows, activityWebhookRow{L: s.L, Now: h.now(), Event: ev, CanReplay: v.CanReplay})
	}
	if page.Next != "" {
		v.NextURL = "/activity/webhooks?" + pageQuery(map[string]string{"state": v.State, "channel": v.Channel, "cursor": page.Next})
	}
	return h.render(w, r, s, http.StatusOK, "activity_webhooks", "activity", v)
}

// activityBodyView is a raw webhook body as the page shows it.
type activityBodyView struct {
	ID          string
	ContentType string
	Size        int
	Text        string
	JSON        bool
	Truncated   bool
}

func (h *Handler) activityWebhookBody(w http.ResponseWriter, r *http.Request, s *Session) error {
	ev, err := h.st.EventGet(r.Context(), nil, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderFragment(w, r, s, http.StatusOK, "activity_webhook_body", webhookBody(ev))
}

// webhookBody pretty-prints a JSON body, shows other text as it is and binary bytes quoted, cut at
// activityBodyLimit. The template escapes it.
func webhookBody(ev store.Event) activityBodyView {
	v := activityBodyView{ID: ev.ID, ContentType: ev.ContentType, Size: len(ev.Body)}
	body := ev.Body
	var pretty bytes.Buffer
	if json.Valid(body) && json.Indent(&pretty, body, "", "  ") == nil {
		body, v.JSON = pretty.Bytes(), true
	}
	if len(body) > activityBodyLimit {
		body, v.Truncated = body[:activityBodyLimit], true
		for i := 0; i < utf8.UTFMax-1 && !utf8.Valid(body); i++ { // do not cut a character in half
			body = body[:len(body)-1]
		}
	}
	if utf8.Valid(body) {
		v.Text = string(body)
	} else {
		v.Text = strconv.QuoteToASCII(string(body))
	}
	return v
}

func (h *Handler) activityWebhookReplay(w http.ResponseWriter, r *http.Request, s *Session) error {
	if h.o.Replay == nil {
		return errNotFound
	}
	id := r.PathValue("id")
	if _, err := h.st.EventGet(r.Context(), nil, id); err != nil {
		return err
	}
	if _, err := h.o.Replay(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound
		}
		return err
	}
	// The replay returns the event without its body; the row needs only what EventGet gives.
	ev, err := h.st.EventGet(r.Context(), nil, id)
	if err != nil {
		return err
	}
	ev.Body = nil
	return h.renderFragment(w, r, s, http.StatusOK, "activity_webhook_row_alone", activityWebhookRow{L: s.L, Now: h.now(), Event: ev, CanReplay: true, Replayed: true})
}

// activityWebhookRow is one row of the webhooks list, with the language and time it is shown in (a row is also
// rendered alone, after a replay).
type activityWebhookRow struct {
	L         *Lang
	Now       time.Time
	Event     store.Event
	CanReplay bool
	Replayed  bool
}

// activityDeliveriesView is what the deliveries tab shows.
type activityDeliveriesView struct {
	Tab        string
	States     []activityFilterOption
	State      string
	Rows       []activityDeliveryRow
	NextURL    string
	First      bool
	Enabled    bool
	TotalCount int
}

// activityDeliveryRow is one row of the deliveries list: the delivery with its subscription.
type activityDeliveryRow struct {
	L         *Lang
	Now       time.Time
	D         store.Delivery
	Sub       store.Subscription
	CanReplay bool
	Replayed  bool
}

var deliveryStates = []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed}

func (h *Handler) activityDeliveries(w http.ResponseWriter, r *http.Request, s *Session) error {
	q := r.URL.Query()
	v := activityDeliveriesView{Tab: "deliveries", State: q.Get("state"), First: q.Get("cursor") == "", Enabled: h.o.Subscriptions != nil}
	if v.State != "" && !slices.Contains(deliveryStates, v.State) {
		return userError(http.StatusBadRequest, "activity.bad_filter")
	}
	counts, err := h.st.DeliveryCounts(r.Context())
	if err != nil {
		return err
	}
	for _, st := range deliveryStates {
		v.States = append(v.States, activityFilterOption{Value: st, Label: s.L.T("activity.delivery." + st), Count: counts[st],
			Selected: st == v.State})
		v.TotalCount += counts[st]
	}
	page, err := h.st.DeliveryList(r.Context(), store.DeliveryFilter{State: v.State, Cursor: q.Get("cursor"), Limit: activityPageSize})
	if err != nil {
		return err
	}
	subs, err := h.subscriptionsByID(r)
	if err != nil {
		return err
	}
	canReplay := s.Director() && h.o.Subscriptions != nil
	for _, d := range page.Items {
		v.Rows = append(v.Rows, activityDeliveryRow{L: s.L, Now: h.now(), D: d, Sub: subs[d.SubscriptionID], CanReplay: canReplay})
	}
	if page.Next != "" {
		v.NextURL = "/activity/deliveries?" + pageQuery(map[string]string{"state": v.State, "cursor": page.Next})
	}
	return h.render(w, r, s, http.StatusOK, "activity_deliveries", "activity", v)
}

// subscriptionsByID returns every subscription by id (they are few).
func (h *Handler) subscriptionsByID(r *http.Request) (map[string]store.Subscription, error) {
	list, err := h.st.SubscriptionList(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Subscription, len(list))
	for _, sub := range list {
		out[sub.ID] = sub
	}
	return out, nil
}

func (h *Handler) activityDeliveryReplay(w http.ResponseWriter, r *http.Request, s *Session) error {
	if h.o.Subscriptions == nil {
		return errNotFound
	}
	d, err := h.o.Subscriptions.Replay(r.Context(), r.PathValue("id"))
	if errors.Is(err, subscriber.ErrNotFailed) {
		return userError(http.StatusConflict, "activity.replay_not_failed")
	}
	if err != nil {
		return err
	}
	subs, err := h.subscriptionsByID(r)
	if err != nil {
		return err
	}
	return h.renderFragment(w, r, s, http.StatusOK, "activity_delivery_row_alone",
		activityDeliveryRow{L: s.L, Now: h.now(), D: d, Sub: subs[d.SubscriptionID], CanReplay: true, Replayed: true})
}

// pageQuery encodes the non-empty values of m as a query string.
func pageQuery(m map[string]string) string {
	q := url.Values{}
	for k, v := range m {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}
