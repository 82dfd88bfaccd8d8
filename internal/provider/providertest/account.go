package providertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Business profile limits (Meta's documentation of the profile fields).
const (
	maxAbout       = 139
	maxAddress     = 256
	maxDescription = 512
	maxEmail       = 128
	maxWebsites    = 2
)

// phoneDefaultFields are the fields Graph answers for a phone number when none are asked for (UNCONFIRMED).
var phoneDefaultFields = []string{"verified_name", "code_verification_status", "display_phone_number",
	"quality_rating", "platform_type", "throughput", "id"}

// healthCopy returns the current health state.
func (s *Server) healthCopy() HealthState {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health
	h.Errors = append([]HealthError(nil), h.Errors...)
	return h
}

// healthStatus is the health_status object (docs/provider-api.md §1.1).
func (s *Server) healthStatus(h HealthState) map[string]any {
	entity := func(typ, id, can string) map[string]any {
		return map[string]any{"entity_type": typ, "id": id, "can_send_message": can}
	}
	phone := entity("PHONE_NUMBER", s.opts.PhoneNumberID, h.CanSendMessage)
	if len(h.Errors) > 0 {
		errs := make([]map[string]any, 0, len(h.Errors))
		for _, e := range h.Errors {
			errs = append(errs, map[string]any{"error_code": e.Code, "error_description": e.Description,
				"possible_solution": e.PossibleSolution})
		}
		phone["errors"] = errs
	}
	return map[string]any{
		"can_send_message": h.CanSendMessage,
		"entities": []map[string]any{
			phone,
			entity("WABA", s.opts.WABAID, "AVAILABLE"),
			entity("BUSINESS", "1000000000000001", "AVAILABLE"),
			entity("APP", DefaultAppID, "AVAILABLE"),
		},
	}
}

// handlePhoneNumber answers Meta's GET /{version}/{pnid}?fields=...
func (s *Server) handlePhoneNumber(w http.ResponseWriter, r *http.Request, _ []byte) {
	h := s.healthCopy()
	all := map[string]any{
		"verified_name":            h.VerifiedName,
		"display_phone_number":     h.DisplayPhoneNumber,
		"quality_rating":           h.QualityRating,
		"throughput":               map[string]string{"level": h.Throughput},
		"code_verification_status": "VERIFIED",
		"platform_type":            "CLOUD_API",
		"name_status":              "APPROVED",
		"status":                   "CONNECTED",
		"health_status":            s.healthStatus(h),
		"id":                       s.opts.PhoneNumberID,
	}
	fields := phoneDefaultFields
	if f := r.URL.Query().Get("fields"); f != "" {
		fields = nil
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				fields = append(fields, name)
			}
		}
	}
	out := map[string]any{"id": s.opts.PhoneNumberID}
	for _, name := range fields {
		v, ok := all[name]
		if !ok {
			s.writeError(w, &apiError{status: http.StatusBadRequest, code: 100,
				message: fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type "+
					"(WhatsAppBusinessPhoneNumber)", name)})
			return
		}
		out[name] = v
	}
	writeJSON(w, http.StatusOK, out)
}

// handleHealthStatus answers 360dialog Cloud's GET /health_status.
func (s *Server) handleHealthStatus(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{
		"health_status": s.healthStatus(s.healthCopy()),
		"id":            s.opts.PhoneNumberID,
	})
}

// handleOnPremHealth answers On-Premise's GET /v1/health.
func (s *Server) handleOnPremHealth(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{
		"health": map[string]string{"gateway_status": s.healthCopy().GatewayStatus},
		"meta":   newOnPremMeta(),
	})
}

// handleProfile answers GET and POST of the business profile.
func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request, body []byte) {
	v := validator{cloud: s.opts.Kind.cloud()}
	if r.Method == http.MethodGet {
		p := s.Profile()
		fields := map[string]any{
			"about": p.About, "address": p.Address, "description": p.Description, "email": p.Email,
			"profile_picture_url": p.ProfilePictureURL, "websites": p.Websites, "vertical": p.Vertical,
		}
		if p.Websites == nil {
			fields["websites"] = []string{}
		}
		if !v.cloud {
			delete(fields, "about")
			delete(fields, "profile_picture_url")
			writeJSON(w, http.StatusOK, map[string]any{
				"settings": map[string]any{"business": map[string]any{"profile": fields}},
				"meta":     newOnPremMeta(),
			})
			return
		}
		if f := r.URL.Query().Get("fields"); f != "" {
			keep := map[string]any{}
			for _, name := range strings.Split(f, ",") {
				name = strings.TrimSpace(name)
				if val, ok := fields[name]; ok {
					keep[name] = val
				}
			}
			fields = keep
		}
		fields["messaging_product"] = "whatsapp"
		writeJSON(w, http.StatusOK, map[string]any{"data": []map[string]any{fields}})
		return
	}
	o, ok := parseObject(body)
	if !ok {
		s.writeError(w, v.invalid("body", "must be a JSON object."))
		return
	}
	if e := checkMessagingProduct(v, o); e != nil {
		s.writeError(w, e)
		return
	}
	p := s.Profile()
	for _, f := range []struct {
		key string
		max int
		dst *string
	}{
		{"about", maxAbout, &p.About}, {"address", maxAddress, &p.Address},
		{"description", maxDescription, &p.Description}, {"email", maxEmail, &p.Email},
		{"vertical", 0, &p.Vertical},
	} {
		if !o.has(f.key) {
			continue
		}
		if e := v.optStr(o, f.key, f.key, f.max); e != nil {
			s.writeError(w, e)
			return
		}
		*f.dst, _ = o.str(f.key)
	}
	if o.has("websites") {
		var sites []string
		if json.Unmarshal(o["websites"], &sites) != nil {
			s.writeError(w, v.invalid("websites", "must be an array of strings."))
			return
		}
		if len(sites) > maxWebsites {
			s.writeError(w, v.tooMany("websites", maxWebsites))
			return
		}
		p.Websites = sites
	}
	s.SetProfile(p)
	if v.cloud {
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"meta": newOnPremMeta()})
}

// handleWebhookConfig answers the 360dialog kinds' GET and POST /v1/configs/webhook.
func (s *Server) handleWebhookConfig(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method == http.MethodGet {
		u, h := s.WebhookConfig()
		out := map[string]any{"url": u}
		if len(h) > 0 {
			out["headers"] = h
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	var req struct {
		URL     *string           `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeGateway(w, http.StatusBadRequest, "request body must be a JSON object with url and headers")
		return
	}
	if req.URL == nil || *req.URL == "" {
		writeGateway(w, http.StatusBadRequest, "url is required")
		return
	}
	if err := checkWebhookURL(*req.URL); err != nil {
		writeGateway(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	s.hookURL = *req.URL
	s.hookHdr = req.Headers
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"url": *req.URL})
}

// checkWebhookURL applies 360dialog's rules to a webhook URL (docs/provider-api.md §1.2 item 7), relaxed for loopback
// hosts so that tests can register their receivers.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("url must be an absolute URL")
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	switch {
	case strings.Contains(host, "_"):
		return errors.New("url host must not contain an underscore")
	case u.Port() != "" && !loopback:
		return errors.New("url must not carry an explicit port")
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback):
		return errors.New("url must use https")
	}
	return nil
}

// handleSubscribedApps answers Meta's GET, POST and DELETE /{version}/{waba}/subscribed_apps.
func (s *Server) handleSubscribedApps(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		subscribed, override, u := s.subscribed, s.override, s.hookURL
		s.mu.Unlock()
		data := []map[string]any{}
		if subscribed {
			app := map[string]any{"whatsapp_business_api_data": map[string]string{
				"id": DefaultAppID, "link": "https://www.facebook.com/games/?app_id=" + DefaultAppID,
				"name": DefaultAppName}}
			if override {
				app["override_callback_uri"] = u
			}
			data = append(data, app)
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": data})
	case http.MethodDelete:
		s.mu.Lock()
		s.subscribed = false
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	default:
		params := r.URL.Query()
		if o, ok := parseObject(body); ok {
			for _, k := range []string{"override_callback_uri", "verify_token"} {
				if v, ok := o.str(k); ok {
					params.Set(k, v)
				}
			}
		} else if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				params[k] = vs
			}
		}
		v := validator{cloud: true}
		override := params.Get("override_callback_uri")
		if override != "" {
			if params.Get("verify_token") == "" {
				s.writeError(w, v.missing("verify_token"))
				return
			}
			if err := checkWebhookURL(override); err != nil {
				s.writeError(w, v.invalid("override_callback_uri", "must be a valid https URL."))
				return
			}
		}
		s.mu.Lock()
		s.subscribed = true
		if override != "" {
			s.hookURL, s.override = override, true
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	}
}
