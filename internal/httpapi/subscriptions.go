package httpapi

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

// The error catalogue of subscriptions and deliveries.
var (
	ErrBadSubscription = &Error{Status: http.StatusBadRequest, Code: "invalid_subscription", Message: "the subscription is not valid",
		Fix: "correct the fields listed in details"}
	ErrDeliveryNotFailed = &Error{Status: http.StatusConflict, Code: "delivery_not_failed", Message: "only a failed delivery can be replayed",
		Fix: "wait for a pending delivery to finish; a delivered one needs no replay"}
	ErrBadDeliveryState = &Error{Status: http.StatusBadRequest, Code: "invalid_state", Message: "state must be pending, delivered or failed",
		Fix: "omit state to list every delivery"}
)

func (a *API) registerSubscriptions(h route) {
	if a.subs == nil {
		return
	}
	h(ScopeRead, "GET /v1/subscriptions", a.listSubscriptions)
	h(ScopeAdmin, "POST /v1/subscriptions", a.createSubscription)
	h(ScopeRead, "GET /v1/subscriptions/{id}", a.getSubscription)
	h(ScopeAdmin, "PATCH /v1/subscriptions/{id}", a.updateSubscription)
	h(ScopeAdmin, "DELETE /v1/subscriptions/{id}", a.deleteSubscription)
	h(ScopeAdmin, "POST /v1/subscriptions/{id}/test", a.testSubscription)
	h(ScopeRead, "GET /v1/subscriptions/{id}/deliveries", a.subscriptionDeliveries)
	h(ScopeRead, "GET /v1/deliveries", a.listDeliveries)
	h(ScopeRead, "GET /v1/deliveries/{id}", a.getDelivery)
	h(ScopeAdmin, "POST /v1/deliveries/{id}/replay", a.replayDelivery)
	h(ScopeAdmin, "POST /v1/deliveries/replay", a.replayDeliveries)
}

// subscriptionView is a subscription as the API shows it: never with its secret, except once (created) at
// creation.
type subscriptionView struct {
	store.Subscription
	SecretSet bool   `json:"secret_set"`
	Secret    string `json:"secret,omitempty"`
}

// decodeBody reads a small request body and decodes it strictly into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readSmallBody(w, r)
	if err != nil {
		return err
	}
	if e := decodeObject(body, v); e != nil {
		return e
	}
	return nil
}

// subsError maps the subscriber's errors to the catalogue.
func subsError(err error) error {
	var ve *subscriber.ValidationError
	if errors.As(err, &ve) {
		e := *ErrBadSubscription
		for _, f := range ve.Fields {
			e.Details = append(e.Details, FieldError{Field: f.Field, Message: f.Message})
		}
		return &e
	}
	if errors.Is(err, subscriber.ErrNotFailed) {
		return ErrDeliveryNotFailed
	}
	return err
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	list, err := a.subs.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]subscriptionView, 0, len(list))
	for _, s := range list {
		out = append(out, subscriptionView{Subscription: s, SecretSet: s.Secret != ""})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) createSubscription(w http.ResponseWriter, r *http.Request) error {
	var in subscriber.Input
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	sub, err := a.subs.Create(r.Context(), in)
	if err != nil {
		return subsError(err)
	}
	v := subscriptionView{Subscription: sub, SecretSet: true}
	if in.Secret == "" {
		v.Secret = sub.Secret // generated: shown this once so the receiver can be configured
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.subs.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionView{Subscription: sub, SecretSet: sub.Secret != ""})
	return nil
}

func (a *API) updateSubscription(w http.ResponseWriter, r *http.Request) error {
	var p subscriber.Patch
	if err := decodeBody(w, r, &p); err != nil {
		return err
	}
	sub, err := a.subs.Update(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return subsError(err)
	}
	writeJSON(w, http.StatusOK, subscriptionView{Subscription: sub, SecretSet: sub.Secret != ""})
	return nil
}

func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := a.subs.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) testSubscription(w http.ResponseWriter, r *http.Request) error {
	d, err := a.subs.Test(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) deliveries(w http.ResponseWriter, r *http.Request, subscriptionID string) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state := q.Get("state")
	switch state {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return ErrBadDeliveryState
	}
	if subscriptionID == "" {
		subscriptionID = q.Get("subscription")
	}
	page, err := a.subs.Deliveries(r.Context(), store.DeliveryFilter{SubscriptionID: subscriptionID, State: state, Cursor: q.Get("cursor"), Limit: n})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) subscriptionDeliveries(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := a.subs.Get(r.Context(), id); err != nil {
		return err
	}
	return a.deliveries(w, r, id)
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	return a.deliveries(w, r, "")
}

func (a *API) getDelivery(w http.ResponseWriter, r *http.Request) error {
	page, err := a.subs.Delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (a *API) replayDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := a.subs.Replay(r.Context(), r.PathValue("id"))
	if err != nil {
		return subsError(err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) replayDeliveries(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Subscription string `json:"subscription"`
	}
	body, err := readSmallBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if e := decodeObject(body, &in); e != nil {
			return e
		}
	}
	if in.Subscription == "" {
		in.Subscription = r.URL.Query().Get("subscription")
	}
	n, err := a.subs.ReplayFailed(r.Context(), in.Subscription)
	if err != nil {
		return subsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]int{"replayed": n})
	return nil
}
