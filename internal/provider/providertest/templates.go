package providertest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// defaultTemplatePage is the page size when a template list asks for none (Meta's default is 25).
const defaultTemplatePage = 25

// handleTemplates lists the known templates, paginated: Meta's /{waba}/message_templates with limit and the
// "after" cursor (paging.next present while more follow), or 360dialog's /v1/configs/templates with limit and
// offset (total in the envelope). Meta's filters name (substring), status and language apply.
func (s *Server) handleTemplates(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	ts := append([]Template(nil), s.templates...)
	s.mu.Unlock()
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit, err = defaultTemplatePage, nil
	}
	v := validator{cloud: s.opts.Kind.cloud()}
	if err != nil || limit < 1 || limit > 1000 {
		s.writeError(w, v.invalid("limit", "must be an integer from 1 to 1000."))
		return
	}
	if s.opts.Kind == KindMeta {
		var list []Template
		for _, t := range ts {
			if n := q.Get("name"); n != "" && !strings.Contains(t.Name, n) ||
				q.Get("status") != "" && !strings.EqualFold(q.Get("status"), t.Status) ||
				q.Get("language") != "" && q.Get("language") != t.Language {
				continue
			}
			list = append(list, t)
		}
		start := 0
		if a := q.Get("after"); a != "" {
			b, err := base64.RawURLEncoding.DecodeString(a)
			n, err2 := strconv.Atoi(string(b))
			if err != nil || err2 != nil || n < 0 || n > len(list) {
				s.writeError(w, v.invalid("after", "is not a valid cursor."))
				return
			}
			start = n
		}
		end := min(start+limit, len(list))
		data := []map[string]any{}
		for _, t := range list[start:end] {
			m := map[string]any{"name": t.Name, "language": t.Language, "status": t.Status,
				"category": t.Category, "id": t.ID, "components": templateComponents(t)}
			if t.ParameterFormat != "" {
				m["parameter_format"] = t.ParameterFormat
			}
			data = append(data, m)
		}
		cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
		paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end)}}
		if end < len(list) {
			paging["next"] = s.URL() + r.URL.Path + "?limit=" + strconv.Itoa(limit) + "&after=" + cursor(end)
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "paging": paging})
		return
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if q.Get("offset") == "" {
		offset, err = 0, nil
	}
	if err != nil || offset < 0 {
		s.writeError(w, v.invalid("offset", "must be a non-negative integer."))
		return
	}
	offset = min(offset, len(ts))
	end := min(offset+limit, len(ts))
	list := []map[string]any{}
	for _, t := range ts[offset:end] {
		m := map[string]any{"name": t.Name, "language": t.Language,
			"status": strings.ToLower(t.Status), "category": t.Category, "namespace": "providertest_namespace",
			"id": t.ID, "components": templateComponents(t), "rejected_reason": "NONE"}
		if t.ParameterFormat != "" {
			m["parameter_format"] = strings.ToLower(t.ParameterFormat)
		}
		list = append(list, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "filters": map[string]any{}, "limit": limit,
		"offset": offset, "sort": []string{"id"}, "total": len(ts), "waba_templates": list})
}

func templateComponents(t Template) json.RawMessage {
	if len(t.Components) > 0 {
		return t.Components
	}
	return json.RawMessage(`[{"type":"BODY","text":"` + t.Name + `"}]`)
}
