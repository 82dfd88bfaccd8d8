package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// maxContacts bounds the numbers of one On-Premise contacts check (guess).
const maxContacts = 1000

// SetInvalidContacts makes the On-Premise contacts check answer numbers as "invalid" (not on WhatsApp) even
// when they are well-formed. Numbers are matched by their digits, so "+34600111222" and "34600111222" are the
// same number.
func (s *Server) SetInvalidContacts(numbers ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.invalidContacts == nil {
		s.invalidContacts = map[string]bool{}
	}
	for _, n := range numbers {
		s.invalidContacts[contactDigits(n)] = true
	}
}

// contactDigits is n without a leading "+" and surrounding spaces.
func contactDigits(n string) string { return strings.TrimPrefix(strings.TrimSpace(n), "+") }

// handleContacts answers On-Premise's POST /v1/contacts {"blocking":"wait|no_wait","contacts":[...],
// "force_check":bool} with {"contacts":[{"input","status","wa_id"}],"meta"}: a number of 7 to 15 digits after
// an optional "+" is valid with its digits as wa_id, unless SetInvalidContacts named it.
func (s *Server) handleContacts(w http.ResponseWriter, _ *http.Request, body []byte) {
	v := validator{cloud: false}
	o, ok := parseObject(body)
	if !ok {
		s.writeError(w, v.invalid("body", "must be a JSON object."))
		return
	}
	if o.has("blocking") {
		b, ok := o.str("blocking")
		if !ok || (b != "wait" && b != "no_wait") {
			s.writeError(w, v.enum("blocking", "{wait, no_wait}", o["blocking"]))
			return
		}
	}
	if o.has("force_check") {
		var f bool
		if json.Unmarshal(o["force_check"], &f) != nil {
			s.writeError(w, v.invalid("force_check", "must be a boolean."))
			return
		}
	}
	list, e := v.array(o, "contacts", "contacts")
	if e != nil {
		s.writeError(w, e)
		return
	}
	if len(list) == 0 {
		s.writeError(w, v.missing("contacts"))
		return
	}
	if len(list) > maxContacts {
		s.writeError(w, v.tooMany("contacts", maxContacts))
		return
	}
	inputs := make([]string, len(list))
	for i, raw := range list {
		if json.Unmarshal(raw, &inputs[i]) != nil {
			s.writeError(w, v.invalid("contacts", "must be an array of strings."))
			return
		}
	}
	s.mu.Lock()
	invalid := make(map[string]bool, len(s.invalidContacts))
	for k := range s.invalidContacts {
		invalid[k] = true
	}
	s.mu.Unlock()
	out := make([]map[string]string, 0, len(inputs))
	for _, in := range inputs {
		d, ok := recipientDigits(in, false)
		if !ok || invalid[d] {
			out = append(out, map[string]string{"input": in, "status": "invalid"})
			continue
		}
		out = append(out, map[string]string{"input": in, "status": "valid", "wa_id": d})
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": out, "meta": newOnPremMeta()})
}
