package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/config"
)

const sendUsage = `Usage: wagate send --to +34696247355 (--text "Hola" | --image PATH|URL | --template NAME ...) [flags]

Sends one message through a running wagate (its API at --url) and waits for the provider's answer.

  --to NUMBER         recipient in E.164 (default: WAGATE_DEFAULT_RECIPIENT)
  --channel NAME      channel (default: the default channel)
  --text TEXT         a text message (links get a preview with --preview)
  --image, --video, --audio, --document, --sticker PATH|URL|ID
                      a media message: a local file (uploaded first), an https URL, or a provider media id
  --caption TEXT      caption of an image, video or document
  --filename NAME     file name shown for a document
  --template NAME     an approved template, with --lang CODE (default en_US) and --param VALUE (repeat, in order)
  --reply-to WAMID    quote this message
  --wait DURATION     how long to wait for the provider (default 15s, at most 30s; 0 only queues)
  --url URL           wagate's base URL (default: from the configuration, e.g. http://localhost:8080)
  --token TOKEN       API token (default: WAGATE_API_TOKEN)

Exit status: 0 when the provider accepted the message (or it was queued with --wait 0), 1 when it failed or did
not leave the queue in time, 2 for a usage error.
`

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (e Env) send(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("wagate send", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var to, channel, text, caption, filename, tmpl, lang, replyTo, base, token string
	var media = map[string]*string{"image": new(string), "video": new(string), "audio": new(string), "document": new(string), "sticker": new(string)}
	var params stringList
	var preview bool
	var wait time.Duration
	fs.StringVar(&to, "to", "", "")
	fs.StringVar(&channel, "channel", "", "")
	fs.StringVar(&text, "text", "", "")
	fs.BoolVar(&preview, "preview", false, "")
	for k, p := range media {
		fs.StringVar(p, k, "", "")
	}
	fs.StringVar(&caption, "caption", "", "")
	fs.StringVar(&filename, "filename", "", "")
	fs.StringVar(&tmpl, "template", "", "")
	fs.StringVar(&lang, "lang", "en_US", "")
	fs.Var(&params, "param", "")
	fs.StringVar(&replyTo, "reply-to", "", "")
	fs.DurationVar(&wait, "wait", 15*time.Second, "")
	fs.StringVar(&base, "url", "", "")
	fs.StringVar(&token, "token", "", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(e.Stdout, sendUsage)
			return 0
		}
		fmt.Fprintf(e.Stderr, "wagate send: %v\n\n%s", err, sendUsage)
		return 2
	}
	cfg, _ := config.Load(nil, e.Getenv, e.ReadFile)
	if base == "" && cfg != nil {
		base = cfg.ExternalURL()
	}
	if token == "" {
		token = e.Getenv("WAGATE_API_TOKEN")
	}
	if to == "" && cfg != nil {
		to = cfg.DefaultRecipient
	}
	if to == "" || base == "" || wait < 0 || wait > 30*time.Second {
		fmt.Fprintf(e.Stderr, "wagate send: --to (or WAGATE_DEFAULT_RECIPIENT) is required, and --wait is 0 to 30s\n\n%s", sendUsage)
		return 2
	}
	body := map[string]any{"to": to}
	if channel != "" {
		body["channel"] = channel
	}
	if replyTo != "" {
		body["reply_to"] = replyTo
	}
	kinds := 0
	if text != "" {
		kinds++
		body["type"], body["text"] = "text", map[string]any{"body": text, "preview_url": preview}
	}
	if tmpl != "" {
		kinds++
		t := map[string]any{"name": tmpl, "language": map[string]string{"code": lang}}
		if len(params) > 0 {
			ps := make([]map[string]string, 0, len(params))
			for _, p := range params {
				ps = append(ps, map[string]string{"type": "text", "text": p})
			}
			t["components"] = []map[string]any{{"type": "body", "parameters": ps}}
		}
		body["type"], body["template"] = "template", t
	}
	client := &http.Client{Timeout: wait + 15*time.Second}
	for kind, p := range media {
		if *p == "" {
			continue
		}
		kinds++
		obj := map[string]any{}
		switch {
		case strings.HasPrefix(*p, "https://") || strings.HasPrefix(*p, "http://"):
			obj["link"] = *p
		case fileExists(*p):
			id, err := uploadMedia(ctx, client, base, token, channel, *p)
			if err != nil {
				fmt.Fprintf(e.Stderr, "wagate send: upload %s: %v\n", *p, err)
				return 1
			}
			obj["id"] = id
			if kind == "document" && filename == "" {
				filename = filepath.Base(*p)
			}
		default:
			obj["id"] = *p
		}
		if caption != "" {
			obj["caption"] = caption
		}
		if kind == "document" && filename != "" {
			obj["filename"] = filename
		}
		body["type"], body[kind] = kind, obj
	}
	if kinds != 1 {
		fmt.Fprintf(e.Stderr, "wagate send: give exactly one of --text, --template or a media flag\n\n%s", sendUsage)
		return 2
	}
	raw, _ := json.Marshal(body)
	u := strings.TrimRight(base, "/") + "/v1/messages?wait=" + url.QueryEscape(wait.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(raw))
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate send: %v\n", err)
		return 2
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate send: cannot reach wagate at %s: is `wagate serve` running? (%v)\n", base, err)
		return 1
	}
	defer resp.Body.Close()
	return printSendOutcome(e, resp, wait)
}

func printSendOutcome(e Env, resp *http.Response, wait time.Duration) int {
	var ans struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		ProviderID string `json:"provider_id"`
		Error      *struct {
			Code, Message, Fix, Detail string
			ProviderCode               int `json:"provider_code"`
			Details                    []struct{ Field, Message string }
		} `json:"error"`
		Message *struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(raw, &ans); err != nil {
		fmt.Fprintf(e.Stderr, "wagate send: unexpected answer %d: %.200s\n", resp.StatusCode, raw)
		return 1
	}
	if ans.Error != nil {
		fmt.Fprintf(e.Stderr, "failed: %s\n", ans.Error.Message)
		for _, d := range ans.Error.Details {
			fmt.Fprintf(e.Stderr, "  %s: %s\n", d.Field, d.Message)
		}
		if ans.Error.ProviderCode != 0 {
			fmt.Fprintf(e.Stderr, "  provider code: %d\n", ans.Error.ProviderCode)
		}
		if ans.Error.Detail != "" {
			fmt.Fprintf(e.Stderr, "  provider says: %s\n", ans.Error.Detail)
		}
		if ans.Error.Fix != "" {
			fmt.Fprintf(e.Stderr, "  fix: %s\n", ans.Error.Fix)
		}
		if ans.Message != nil {
			fmt.Fprintf(e.Stderr, "  message: %s\n", ans.Message.ID)
		}
		return 1
	}
	switch {
	case ans.Status == "queued" && wait > 0:
		fmt.Fprintf(e.Stdout, "queued: message %s has not left the queue after %s (the provider may be throttling or down); follow it with GET /v1/messages/%s\n", ans.ID, wait, ans.ID)
		return 1
	case ans.Status == "queued":
		fmt.Fprintf(e.Stdout, "queued: message %s\n", ans.ID)
	default:
		fmt.Fprintf(e.Stdout, "%s: message %s, provider id %s\n", ans.Status, ans.ID, ans.ProviderID)
	}
	return 0
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// uploadMedia posts a local file to wagate's POST /v1/media and returns the provider's media id.
func uploadMedia(ctx context.Context, client *http.Client, base, token, channel, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if channel != "" {
		if err := mw.WriteField("channel", channel); err != nil {
			return "", err
		}
	}
	part, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(part, f); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/v1/media", &buf)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach wagate at %s: %w", base, err)
	}
	defer resp.Body.Close()
	var ans struct {
		ID    string `json:"id"`
		Error *struct{ Message, Fix string }
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans); err != nil {
		return "", fmt.Errorf("unexpected answer %d", resp.StatusCode)
	}
	if ans.Error != nil {
		return "", fmt.Errorf("%s (%s)", ans.Error.Message, ans.Error.Fix)
	}
	return ans.ID, nil
}
