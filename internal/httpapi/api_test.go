package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/httpapi"
	"github.com/wagate/wagate/internal/httpapi/contract"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/sqlite"
)

type bundle struct {
	st  *store.Store
	url string
}

func setup(t *testing.T, token string) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, nil)
	replay := func(ctx context.Context, id string) (store.Event, error) { return st.EventGet(ctx, nil, id) }
	mux := http.NewServeMux()
	httpapi.New(httpapi.Options{Store: st, Token: token, Replay: replay, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(mux)
	srv := httptest.NewServer(contract.Wrap(t, mux))
	t.Cleanup(srv.Close)
	return &bundle{st: st, url: srv.URL}
}

func (b *bundle) do(t *testing.T, method, path, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, b.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

type apiErr struct {
	Error struct{ Code, Message, Fix string } `json:"error"`
}

func seed(t *testing.T, st *store.Store, n int) (convID string) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34696247355", Name: "Ana"})
		if err != nil {
			return err
		}
		if convID, err = st.ConversationEnsure(ctx, tx, "default", c.ID); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			m := store.Message{Channel: "default", ConversationID: convID, ContactID: c.ID, Direction: store.DirectionIn,
				ProviderID: fmt.Sprintf("wamid.%d", i), Type: "text", Text: fmt.Sprintf("m%d", i), ProviderTime: time.Now().Add(time.Duration(i) * time.Second)}
			if _, err := st.MessageInsert(ctx, tx, &m); err != nil {
				return err
			}
		}
		return st.EventInsert(ctx, tx, &store.Event{Body: []byte(`{"entry":[]}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return convID
}

func TestAPI_TokenRequiredWhenSet(t *testing.T) {
	t.Parallel()
	b := setup(t, "tok-123")
	var e apiErr
	for _, tok := range []string{"", "tok-12", "tok-1234", "TOK-123"} {
		if code := b.do(t, "GET", "/v1/conversations", tok, &e); code != 401 || e.Error.Code != "unauthorized" || e.Error.Fix == "" {
			t.Fatalf("token %q: %d %+v", tok, code, e)
		}
	}
	if code := b.do(t, "GET", "/v1/conversations", "tok-123", nil); code != 200 {
		t.Fatalf("right token: %d", code)
	}
}

func TestAPI_OpenWithoutToken(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	if code := b.do(t, "GET", "/v1/events", "", nil); code != 200 {
		t.Fatalf("open API: %d", code)
	}
}

func TestAPI_ConversationsAndMessagesPaginate(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	conv := seed(t, b.st, 5)
	var convs struct {
		Items []struct {
			ID         string `json:"id"`
			WindowOpen bool   `json:"window_open"`
			Contact    struct{ Phone, Name string }
		} `json:"items"`
	}
	if code := b.do(t, "GET", "/v1/conversations", "", &convs); code != 200 || len(convs.Items) != 1 || !convs.Items[0].WindowOpen || convs.Items[0].Contact.Phone != "+34696247355" {
		t.Fatalf("conversations: %d %+v", code, convs)
	}
	var texts []string
	path := "/v1/conversations/" + conv + "/messages?limit=2"
	for path != "" {
		var page struct {
			Items []struct{ ID, Text string } `json:"items"`
			Next  string                      `json:"next_cursor"`
		}
		if code := b.do(t, "GET", path, "", &page); code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, m := range page.Items {
			texts = append(texts, m.Text)
		}
		path = ""
		if page.Next != "" {
			path = "/v1/conversations/" + conv + "/messages?limit=2&cursor=" + page.Next
		}
	}
	if strings.Join(texts, ",") != "m4,m3,m2,m1,m0" {
		t.Fatalf("messages = %v", texts)
	}
	var one struct{ ID, Status string }
	m, _ := b.st.MessageGetByProviderID(context.Background(), "default", "wamid.0")
	if code := b.do(t, "GET", "/v1/messages/"+m.ID, "", &one); code != 200 || one.Status != "received" {
		t.Fatalf("message: %d %+v", code, one)
	}
}

func TestAPI_Errors(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	seed(t, b.st, 1)
	cases := []struct {
		path string
		code int
		want string
	}{
		{"/v1/messages/nope", 404, "not_found"},
		{"/v1/conversations/nope/messages", 404, "not_found"},
		{"/v1/conversations?cursor=garbage!", 400, "invalid_cursor"},
		{"/v1/conversations?limit=0", 400, "invalid_limit"},
		{"/v1/events?limit=abc", 400, "invalid_limit"},
		{"/v1/events?state=weird", 400, "invalid_state"},
		{"/v1/events/nope", 404, "not_found"},
	}
	for _, c := range cases {
		var e apiErr
		if code := b.do(t, "GET", c.path, "", &e); code != c.code || e.Error.Code != c.want || e.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", c.path, code, e, c.code, c.want)
		}
	}
}

func TestAPI_EventShowsBody(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	seed(t, b.st, 0)
	var list struct {
		Items []struct{ ID, State string } `json:"items"`
	}
	if code := b.do(t, "GET", "/v1/events?state=pending", "", &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("events: %d %+v", code, list)
	}
	var ev struct {
		ID   string          `json:"id"`
		Body json.RawMessage `json:"body"`
	}
	if code := b.do(t, "GET", "/v1/events/"+list.Items[0].ID, "", &ev); code != 200 || string(ev.Body) != `{"entry":[]}` {
		t.Fatalf("event: %d %s", code, ev.Body)
	}
	if code := b.do(t, "POST", "/v1/events/"+list.Items[0].ID+"/replay", "", nil); code != 200 {
		t.Fatalf("replay: %d", code)
	}
}

// TestAPI_DatabaseGoneIs503 checks that a request the database cannot serve is answered 503 unavailable with
// Retry-After, which clients retry, and not 500, which reads as a bug.
func TestAPI_DatabaseGoneIs503(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	seed(t, b.st, 1)
	if err := b.st.Close(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", b.url+"/v1/conversations", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apiErr
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "unavailable" || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("with the database closed: %d %+v, Retry-After %q; want 503 unavailable, Retry-After 5",
			resp.StatusCode, e, resp.Header.Get("Retry-After"))
	}
}
