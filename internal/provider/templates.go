package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/wagate/wagate/internal/wa"
)

// OpTemplates names the template listing in Error.Op.
const OpTemplates = "templates"

// TemplatePageSize is how many templates a listing asks for per page.
const TemplatePageSize = 100

// MaxTemplatePages bounds a listing, so that a provider whose paging never ends cannot hold a sync forever
// (100 pages of 100 templates is far more than any account has).
const MaxTemplatePages = 100

// TemplateLister is implemented by providers that can list the channel's message templates: Meta's
// /{waba_id}/message_templates, 360dialog's /v1/configs/templates (Cloud and On-Premise) and the demo.
type TemplateLister interface {
	// Templates returns every template of the channel's account, all pages read.
	Templates(ctx context.Context) ([]wa.Template, error)
}

// placeholder matches {{1}} and {{first_name}} in a template text.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// templateJSON is one template as Meta and 360dialog list it.
type templateJSON struct {
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Status          string          `json:"status"`
	Category        string          `json:"category"`
	ID              json.RawMessage `json:"id"` // a string at Meta, sometimes a number elsewhere
	Namespace       string          `json:"namespace"`
	ParameterFormat string          `json:"parameter_format"`
	RejectedReason  string          `json:"rejected_reason"`
	Components      json.RawMessage `json:"components"`
}

func (t templateJSON) domain() (wa.Template, bool) {
	name, lang := strings.TrimSpace(t.Name), strings.TrimSpace(t.Language)
	if name == "" || lang == "" {
		return wa.Template{}, false
	}
	id := strings.Trim(string(bytes.TrimSpace(t.ID)), `"`)
	if id == "null" {
		id = ""
	}
	comps := bytes.TrimSpace(t.Components)
	if len(comps) == 0 || comps[0] != '[' {
		comps = []byte("[]")
	}
	reason := t.RejectedReason
	if strings.EqualFold(reason, "NONE") {
		reason = ""
	}
	return wa.Template{Name: name, Language: lang, ID: id, Category: strings.ToUpper(t.Category),
		Status: strings.ToUpper(strings.TrimSpace(t.Status)), ParameterFormat: ParameterFormat(t.ParameterFormat, comps),
		Namespace: t.Namespace, RejectedReason: reason, Components: json.RawMessage(comps)}, true
}

// ParameterFormat returns a template's parameter format: the one the provider stated (POSITIONAL or NAMED), or
// else the one its placeholders use ({{1}} positional, {{first_name}} named).
func ParameterFormat(stated string, components json.RawMessage) string {
	switch strings.ToUpper(strings.TrimSpace(stated)) {
	case wa.ParamsNamed:
		return wa.ParamsNamed
	case wa.ParamsPositional:
		return wa.ParamsPositional
	}
	for _, m := range placeholder.FindAllSubmatch(components, -1) {
		if c := m[1][0]; c < '0' || c > '9' {
			return wa.ParamsNamed
		}
	}
	return wa.ParamsPositional
}

// MetaTemplatePage is one page of Meta's GET /{waba_id}/message_templates.
type MetaTemplatePage struct {
	Templates []wa.Template
	// After is the cursor of the next page; "" on the last page (Meta leaves paging.next out there).
	After string
}

// ParseMetaTemplates parses one page of Meta's template list: {"data":[...],"paging":{"cursors":{"after":..},
// "next":...}}. Entries without a name or language are skipped.
func ParseMetaTemplates(body []byte) (MetaTemplatePage, error) {
	var in struct {
		Data   *[]templateJSON `json:"data"`
		Paging struct {
			Cursors struct {
				After string `json:"after"`
			} `json:"cursors"`
			Next string `json:"next"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return MetaTemplatePage{}, fmt.Errorf("template list: %w", err)
	}
	if in.Data == nil {
		return MetaTemplatePage{}, fmt.Errorf("template list: no data array")
	}
	var out MetaTemplatePage
	for _, t := range *in.Data {
		if d, ok := t.domain(); ok {
			out.Templates = append(out.Templates, d)
		}
	}
	if in.Paging.Next != "" && len(*in.Data) > 0 {
		out.After = in.Paging.Cursors.After
	}
	return out, nil
}

// Dialog360TemplatePage is one page of 360dialog's GET /v1/configs/templates.
type Dialog360TemplatePage struct {
	Templates []wa.Template
	Count     int // entries on this page (waba_templates' length when count is absent)
	Total     int // templates in all; 0 when the provider did not say
}

// ParseDialog360Templates parses one page of 360dialog's template list: {"count":..,"total":..,"offset":..,
// "waba_templates":[...]} (the envelope besides waba_templates is UNCONFIRMED for the messaging API, so each
// field is optional).
func ParseDialog360Templates(body []byte) (Dialog360TemplatePage, error) {
	var in struct {
		Count     *int            `json:"count"`
		Total     int             `json:"total"`
		Templates *[]templateJSON `json:"waba_templates"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return Dialog360TemplatePage{}, fmt.Errorf("template list: %w", err)
	}
	if in.Templates == nil {
		return Dialog360TemplatePage{}, fmt.Errorf("template list: no waba_templates array")
	}
	out := Dialog360TemplatePage{Count: len(*in.Templates), Total: in.Total}
	for _, t := range *in.Templates {
		if d, ok := t.domain(); ok {
			out.Templates = append(out.Templates, d)
		}
	}
	return out, nil
}
