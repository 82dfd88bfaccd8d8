package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const templatesUsage = `Usage:
  wagate templates list [--channel NAME] [--status APPROVED] [--json]
  wagate templates sync [--channel NAME]

list shows the templates wagate has synced from the providers; sync reads them from the provider now (every
channel, or one). Both talk to a running wagate (its API at --url, token from --token or WAGATE_API_TOKEN).
`

// templates runs `wagate templates list|sync`.
func (e Env) templates(ctx context.Context, args []string) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "sync") {
		fmt.Fprint(e.Stderr, templatesUsage)
		return 2
	}
	sub := args[0]
	var channel, status, base, token string
	var asJSON bool
	cfg, rest := e.loadArgs(args[1:], func(fs *flagSet) {
		fs.StringVar(&channel, "channel", "", "only this channel")
		fs.StringVar(&base, "url", "", "wagate's base URL")
		fs.StringVar(&token, "token", "", "API token")
		if sub == "list" {
			fs.StringVar(&status, "status", "", "only templates in this status")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		}
	})
	if cfg == nil || len(rest) > 0 {
		fmt.Fprint(e.Stderr, templatesUsage)
		return 2
	}
	if base == "" {
		base = cfg.ExternalURL()
	}
	if token == "" {
		token = e.Getenv("WAGATE_API_TOKEN")
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	q := url.Values{}
	if channel != "" {
		q.Set("channel", channel)
	}
	method, path := http.MethodGet, "/v1/templates"
	if sub == "sync" {
		method, path = http.MethodPost, "/v1/templates/sync"
	} else if status != "" {
		q.Set("status", status)
	}
	u := strings.TrimRight(base, "/") + path + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate templates: %v\n", err)
		return 2
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate templates: cannot reach wagate at %s: is `wagate serve` running? (%v)\n", base, err)
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate templates: %v\n", err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		var apiErr struct {
			Error struct {
				Code, Message, Fix string
			} `json:"error"`
		}
		if json.Unmarshal(body, &apiErr) == nil && apiErr.Error.Code != "" {
			fmt.Fprintf(e.Stderr, "wagate templates %s: %s: %s\n", sub, apiErr.Error.Code, apiErr.Error.Message)
			if apiErr.Error.Fix != "" {
				fmt.Fprintf(e.Stderr, "  fix: %s\n", apiErr.Error.Fix)
			}
		} else {
			fmt.Fprintf(e.Stderr, "wagate templates %s: HTTP %d\n", sub, resp.StatusCode)
		}
		return 1
	}
	if sub == "sync" {
		return e.printSync(body)
	}
	if asJSON {
		_, _ = e.Stdout.Write(body)
		return 0
	}
	return e.printTemplates(body)
}

func (e Env) printSync(body []byte) int {
	var out struct {
		Results []struct {
			Channel  string `json:"channel"`
			Count    int    `json:"count"`
			Approved int    `json:"approved"`
			Error    string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		fmt.Fprintf(e.Stderr, "wagate templates sync: unreadable answer: %v\n", err)
		return 1
	}
	code := 0
	for _, r := range out.Results {
		if r.Error != "" {
			fmt.Fprintf(e.Stdout, "%s: sync failed: %s\n", r.Channel, r.Error)
			code = 1
			continue
		}
		fmt.Fprintf(e.Stdout, "%s: %d templates, %d approved\n", r.Channel, r.Count, r.Approved)
	}
	if len(out.Results) == 0 {
		fmt.Fprintln(e.Stdout, "no channel can list templates")
	}
	return code
}

func (e Env) printTemplates(body []byte) int {
	var out struct {
		Items []struct {
			Channel         string          `json:"channel"`
			Name            string          `json:"name"`
			Language        string          `json:"language"`
			Category        string          `json:"category"`
			Status          string          `json:"status"`
			ParameterFormat string          `json:"parameter_format"`
			Components      json.RawMessage `json:"components"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		fmt.Fprintf(e.Stderr, "wagate templates list: unreadable answer: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tNAME\tLANGUAGE\tCATEGORY\tSTATUS\tPARAMETERS\tBODY")
	for _, t := range out.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Channel, t.Name, t.Language, t.Category, t.Status,
			strings.ToLower(t.ParameterFormat), bodyText(t.Components))
	}
	_ = tw.Flush()
	return 0
}

// bodyText is a template's body, shortened for a table.
func bodyText(comps json.RawMessage) string {
	var cs []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(comps, &cs)
	for _, c := range cs {
		if strings.EqualFold(c.Type, "BODY") {
			t := strings.Join(strings.Fields(c.Text), " ")
			if r := []rune(t); len(r) > 60 {
				t = string(r[:60]) + "…"
			}
			return t
		}
	}
	return ""
}
