package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// docsPage serves /docs: the OpenAPI document rendered once into a plain, self-contained HTML page (no script,
// nothing fetched from elsewhere).
func (a *API) docsPage(w http.ResponseWriter, r *http.Request) {
	page, err := renderDocs()
	if err != nil {
		a.log.Error("docs: render", "err", err)
		http.Error(w, "the API documentation could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}

var renderDocs = sync.OnceValues(func() ([]byte, error) {
	doc, err := LoadOpenAPI(context.Background())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, docsView(doc)); err != nil {
		return nil, fmt.Errorf("docs: %w", err)
	}
	return buf.Bytes(), nil
})

// LoadOpenAPI parses and validates the embedded OpenAPI document.
func LoadOpenAPI(ctx context.Context) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi: validate: %w", err)
	}
	return doc, nil
}

type docsPageView struct {
	Title, Version string
	Description    string
	Tags           []docsTag
	Schemas        []docsSchema
}

type docsTag struct {
	Name, Description string
	Ops               []docsOp
}

type docsOp struct {
	Method, Path, Summary, Description, Scope, Anchor string
	Params                                            []docsField
	Body                                              string // schema reference or description of the body
	Responses                                         []docsResponse
}

type docsResponse struct{ Status, Description, Schema string }

type docsField struct {
	Name, In, Type, Description string
	Required                    bool
}

type docsSchema struct {
	Name, Description string
	Fields            []docsField
	Type              string // for schemas that are not plain objects
}

func docsView(doc *openapi3.T) docsPageView {
	v := docsPageView{Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description}
	byTag := map[string]*docsTag{}
	for _, t := range doc.Tags {
		v.Tags = append(v.Tags, docsTag{Name: t.Name, Description: t.Description})
	}
	for i := range v.Tags {
		byTag[v.Tags[i].Name] = &v.Tags[i]
	}
	paths := doc.Paths.Keys()
	slices.Sort(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			o := docsOp{Method: method, Path: path, Summary: op.Summary, Description: op.Description,
				Anchor: op.OperationID}
			if s, ok := op.Extensions["x-scope"].(string); ok {
				o.Scope = s
			}
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if p.Value == nil {
					continue
				}
				o.Params = append(o.Params, docsField{Name: p.Value.Name, In: p.Value.In, Required: p.Value.Required,
					Type: schemaType(p.Value.Schema), Description: p.Value.Description})
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					o.Body = ct + ": " + schemaType(mt.Schema)
				}
			}
			codes := op.Responses.Keys()
			slices.Sort(codes)
			for _, code := range codes {
				r := op.Responses.Value(code)
				if r == nil || r.Value == nil {
					continue
				}
				resp := docsResponse{Status: code}
				if r.Value.Description != nil {
					resp.Description = *r.Value.Description
				}
				for ct, mt := range r.Value.Content {
					resp.Schema = ct + ": " + schemaType(mt.Schema)
				}
				o.Responses = append(o.Responses, resp)
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			t, ok := byTag[tag]
			if !ok {
				v.Tags = append(v.Tags, docsTag{Name: tag})
				for i := range v.Tags {
					byTag[v.Tags[i].Name] = &v.Tags[i]
				}
				t = byTag[tag]
			}
			t.Ops = append(t.Ops, o)
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := doc.Components.Schemas[name].Value
		ds := docsSchema{Name: name, Description: s.Description}
		props := s.Properties
		required := s.Required
		if len(s.AllOf) > 0 {
			var parts []string
			for _, sub := range s.AllOf {
				if sub.Ref != "" {
					parts = append(parts, schemaType(sub))
					continue
				}
				for k, p := range sub.Value.Properties {
					ds.Fields = append(ds.Fields, docsField{Name: k, Type: schemaType(p), Description: p.Value.Description,
						Required: slices.Contains(sub.Value.Required, k)})
				}
			}
			ds.Type = strings.Join(parts, " + ") + " with"
		}
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := props[k]
			ds.Fields = append(ds.Fields, docsField{Name: k, Type: schemaType(p), Description: p.Value.Description,
				Required: slices.Contains(required, k)})
		}
		if len(ds.Fields) == 0 && ds.Type == "" {
			ds.Type = schemaType(&openapi3.SchemaRef{Value: s})
		}
		v.Schemas = append(v.Schemas, ds)
	}
	return v
}

// schemaType describes a schema in a few words: a component's name, "array of X", or its type with its enum.
func schemaType(s *openapi3.SchemaRef) string {
	if s == nil {
		return ""
	}
	if s.Ref != "" {
		return s.Ref[strings.LastIndex(s.Ref, "/")+1:]
	}
	v := s.Value
	if v == nil {
		return ""
	}
	if len(v.AllOf) > 0 {
		var parts []string
		for _, sub := range v.AllOf {
			parts = append(parts, schemaType(sub))
		}
		return strings.Join(parts, " + ")
	}
	var types []string
	if v.Type != nil {
		types = v.Type.Slice()
	}
	t := strings.Join(types, " or ")
	switch {
	case slices.Contains(types, "array") && v.Items != nil:
		t = "array of " + schemaType(v.Items)
	case t == "":
		t = "any"
	}
	if v.Format != "" {
		t += " (" + v.Format + ")"
	}
	if len(v.Enum) > 0 {
		var e []string
		for _, x := range v.Enum {
			e = append(e, fmt.Sprint(x))
		}
		t += ": " + strings.Join(e, ", ")
	}
	if slices.Contains(types, "object") && len(v.Properties) > 0 {
		keys := make([]string, 0, len(v.Properties))
		for k := range v.Properties {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		t += " {" + strings.Join(keys, ", ") + "}"
	}
	return t
}

var docsTemplate = template.Must(template.New("docs").Funcs(template.FuncMap{
	"isRef": func(s string) bool {
		return s != "" && !strings.ContainsAny(s, " {:") && s[0] >= 'A' && s[0] <= 'Z'
	},
	"refOf": func(s string) string {
		if i := strings.LastIndex(s, ": "); i >= 0 {
			s = s[i+2:]
		}
		return s
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f23;background:#fafbfc}
main{max-width:980px;margin:0 auto;padding:24px}
h1{margin:0 0 4px}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:40px}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
.op{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:14px 0}
.m{display:inline-block;min-width:56px;font-weight:700;border-radius:4px;padding:1px 6px;color:#fff;text-align:center}
.GET{background:#0969da}.POST{background:#1a7f37}.PATCH{background:#9a6700}.PUT{background:#8250df}.DELETE{background:#cf222e}
.scope{float:right;font-size:12px;border:1px solid #d0d7de;border-radius:10px;padding:0 8px;color:#57606a}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;border-top:1px solid #eaeef2;vertical-align:top}
th{font-size:12px;color:#57606a;font-weight:600}.req{color:#cf222e}
nav a{margin-right:12px}p.desc{white-space:pre-line}
</style>
</head>
<body><main>
<h1>{{.Title}}</h1>
<p>Version {{.Version}} · <a href="/openapi.yaml">openapi.yaml</a></p>
<p class="desc">{{.Description}}</p>
<nav>{{range .Tags}}<a href="#tag-{{.Name}}">{{.Name}}</a>{{end}}<a href="#schemas">schemas</a></nav>
{{range .Tags}}
<h2 id="tag-{{.Name}}">{{.Name}}</h2>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{range .Ops}}
<section class="op" id="{{.Anchor}}">
{{if .Scope}}<span class="scope">scope: {{.Scope}}</span>{{end}}
<div><span class="m {{.Method}}">{{.Method}}</span> <code>{{.Path}}</code> {{.Summary}}</div>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}
</table>{{end}}
{{if .Body}}<p>Body: {{with refOf .Body}}{{if isRef .}}<a href="#schema-{{.}}">{{.}}</a>{{else}}{{.}}{{end}}{{end}}</p>{{end}}
<table><tr><th>status</th><th>answer</th><th>body</th></tr>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}</td><td>{{with refOf .Schema}}{{if isRef .}}<a href="#schema-{{.}}">{{.}}</a>{{else}}{{.}}{{end}}{{end}}</td></tr>{{end}}
</table>
</section>
{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}
<section class="op" id="schema-{{.Name}}">
<div><strong>{{.Name}}</strong> {{.Type}}</div>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Fields}}<table><tr><th>field</th><th>type</th><th>description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}
</table>{{end}}
</section>
{{end}}
</main></body></html>
`))
