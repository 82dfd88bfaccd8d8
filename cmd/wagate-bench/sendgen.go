package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/loadgen"
	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/wa"
)

// What the send scenarios share: the fake provider's credentials, wagate's API token and the messages.
const (
	// sendAPIKey is the fake 360dialog account's D360-API-KEY, and wagate's WHATSAPP_API_KEY.
	sendAPIKey = "bench-d360-api-key-0123456789"
	// sendAPIToken is wagate's WAGATE_API_TOKEN: the API clients send it as a bearer token.
	sendAPIToken = "bench-api-token-7b1f0c9e4a2d4e8f9c3b5a6d7e8f9012"
	// sendWebhookSecret is set so that wagate does not warn about an open webhook endpoint.
	sendWebhookSecret = "bench-webhook-secret-0123456789"
	// sendWorkers is wagate's number of queue workers (its default, WAGATE_QUEUE_WORKERS), and the number of
	// workers of the baseline's direct loop.
	sendWorkers = config.DefaultQueueWorkers
	// sendRecipients is how many distinct recipients the messages cycle through: every message of a run goes
	// to a recipient of its own.
	sendRecipients = 1_000_000
)

// startFake starts a fake 360dialog Cloud provider on 127.0.0.1 that posts no receipts. history caps the
// records it keeps (0 keeps all): the throughput rounds only need its counter, and its history costs a copy
// of every kept record per send once full (see the report's notes).
func startFake(history int) (*providertest.Server, error) {
	return providertest.Start(providertest.Options{Kind: providertest.Kind360Dialog, APIKey: sendAPIKey,
		Receipts: []string{}, History: history})
}

// sendGen produces the messages of a run: message i is a text of a realistic length to a recipient of its
// own, carrying a marker that names i, so that the send the fake records can be matched with its request.
type sendGen struct {
	run string // random per run: markers of two runs never match
}

func newSendGen() *sendGen {
	return &sendGen{run: loadgen.RunID()}
}

// to is message i's recipient, a Spanish mobile number in E.164.
func (g *sendGen) to(i int) string {
	return fmt.Sprintf("+34696%06d", i%sendRecipients)
}

func (g *sendGen) marker() string { return "wgb-" + g.run + "-" }

// text is message i's text.
func (g *sendGen) text(i int) string {
	return fmt.Sprintf("Hola, tu pedido %d ha salido del almacén y llegará mañana entre las 9:00 y las 14:00. Ref. %s%d",
		100000+i%900000, g.marker(), i)
}

// apiBody is message i as an application posts it to wagate's POST /v1/messages (a Cloud API body).
func (g *sendGen) apiBody(i int) []byte {
	text, _ := json.Marshal(g.text(i))
	return fmt.Appendf(nil, `{"messaging_product":"whatsapp","to":"%s","type":"text","text":{"body":%s}}`, g.to(i), text)
}

// cloudBody is message i as wagate posts it to the provider: the Cloud API body of the same message.
func (g *sendGen) cloudBody(i int) []byte {
	content, _ := json.Marshal(map[string]string{"body": g.text(i)})
	b, err := wa.Outbound{To: g.to(i), Type: "text", Content: content}.CloudBody()
	if err != nil {
		panic(err) // a text message always has a body
	}
	return b
}

// index returns the message index a body's marker names.
func (g *sendGen) index(body []byte) (int, bool) {
	return loadgen.MarkerIndex(body, g.marker())
}

// apiHeader is what the API clients send besides the body.
func apiHeader() http.Header {
	return http.Header{"Authorization": {"Bearer " + sendAPIToken}}
}

// queuedAnswer is the part of wagate's 202 answer the clients check.
type queuedAnswer struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// checkQueued accepts wagate's answer to a send: 202 with the new message's id and "status":"queued".
func checkQueued(status int, body []byte) (string, error) {
	if status != http.StatusAccepted {
		return "", fmt.Errorf("HTTP %d, want 202", status)
	}
	var a queuedAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return "", fmt.Errorf("answer is not JSON: %w", err)
	}
	if a.ID == "" || a.Status != string(wa.StatusQueued) {
		return "", fmt.Errorf("id %q status %q, want an id and status queued", a.ID, a.Status)
	}
	return a.ID, nil
}

// checkProviderAnswer accepts the fake's answer to a direct send: 200 with the message id.
func checkProviderAnswer(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d, want 200", status)
	}
	var a struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &a); err != nil || len(a.Messages) != 1 || a.Messages[0].ID == "" {
		return errors.New("answer has no message id")
	}
	return nil
}

// errorTally counts failed requests by kind, with the first example of each.
type errorTally struct {
	mu    sync.Mutex
	n     int
	kinds map[string]*loadgen.ErrorCount
}

func (t *errorTally) add(kind, example string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	if t.kinds == nil {
		t.kinds = map[string]*loadgen.ErrorCount{}
	}
	if e := t.kinds[kind]; e != nil {
		e.Count++
		return
	}
	if len(example) > 200 {
		example = example[:200] + "…"
	}
	t.kinds[kind] = &loadgen.ErrorCount{Kind: kind, Count: 1, Example: example}
}

func (t *errorTally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

func (t *errorTally) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for _, e := range t.kinds {
		lines = append(lines, fmt.Sprintf("%d × %s: %s", e.Count, e.Kind, e.Example))
	}
	return strings.Join(lines, "\n")
}

// post sends one request and returns the answer's status and body (up to 1 MiB).
func post(ctx context.Context, client *http.Client, url string, header http.Header, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the answer: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, answer, nil
}

// sendLoopCommand is the hidden subcommand that runs the send scenario's baseline: a direct loop of provider
// calls without wagate, in a process of its own like wagate.
const sendLoopCommand = "sendloop"

// runSendLoop posts Cloud send bodies straight to a provider's /messages with a number of workers, each
// sending its next message as soon as the last is answered, until SIGTERM or SIGINT. It prints "ready" when
// its workers start and, when stopped, "sendloop ok N errors E" and the first error of each kind.
//
//	wagate-bench sendloop <messages-url> <workers> <run> <first-index>
func runSendLoop(args []string, stdout, stderr io.Writer) int {
	if len(args) != 4 {
		fmt.Fprintln(stderr, "usage: wagate-bench sendloop <messages-url> <workers> <run> <first-index>")
		return 2
	}
	url := args[0]
	workers, err1 := strconv.Atoi(args[1])
	first, err2 := strconv.Atoi(args[3])
	if err := errors.Join(err1, err2); err != nil || workers < 1 {
		fmt.Fprintf(stderr, "sendloop: bad arguments %q: %v\n", args, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gen := &sendGen{run: args[2]}
	client := loadgen.NewClient(workers)
	header := http.Header{"D360-API-KEY": {sendAPIKey}}
	var next, ok atomic.Int64
	next.Store(int64(first))
	var errs errorTally
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				// Requests run to their end after the signal: an interrupted one would count as an error.
				status, body, err := post(context.WithoutCancel(ctx), client, url, header, gen.cloudBody(i))
				switch {
				case err != nil:
					errs.add("transport", err.Error())
				case checkProviderAnswer(status, body) != nil:
					errs.add(fmt.Sprintf("HTTP %d", status), checkProviderAnswer(status, body).Error()+": "+string(body))
				default:
					ok.Add(1)
				}
			}
		}()
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	wg.Wait()
	client.CloseIdleConnections()
	fmt.Fprintf(stdout, "sendloop ok %d errors %d\n", ok.Load(), errs.count())
	if s := errs.summary(); s != "" {
		fmt.Fprintln(stdout, indent(s, "  "))
	}
	return 0
}

// parseSendLoopSummary reads the "sendloop ok N errors E" line of the child's output.
func parseSendLoopSummary(out string) (ok, errs int, found bool) {
	for _, l := range strings.Split(out, "\n") {
		if _, err := fmt.Sscanf(strings.TrimSpace(l), "sendloop ok %d errors %d", &ok, &errs); err == nil {
			return ok, errs, true
		}
	}
	return 0, 0, false
}
