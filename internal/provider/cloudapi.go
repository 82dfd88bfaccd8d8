package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// This file holds the Cloud API shapes that Meta and 360dialog's waba-v2 share (and the On-Premise send answer,
// which is a subset), so that both clients read them the same way.

// ErrMediaChecksum is wrapped by the *Error of a media download whose bytes do not match the provider's SHA-256.
var ErrMediaChecksum = errors.New("provider: media checksum mismatch")

// ParseSendResponse reads a send's success answer: the Cloud shape {"contacts":[{"input","wa_id"}],
// "messages":[{"id","message_status"}]} or the On-Premise {"messages":[{"id"}],"meta":{...}}. An answer without
// a message id is an error.
func ParseSendResponse(body []byte) (SendResult, error) {
	var r struct {
		Contacts []struct {
			WAID flexText `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID            flexText `json:"id"`
			MessageStatus flexText `json:"message_status"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return SendResult{}, fmt.Errorf("decode send answer: %w", err)
	}
	if len(r.Messages) == 0 || r.Messages[0].ID == "" {
		return SendResult{}, errors.New("send answer has no messages[0].id")
	}
	res := SendResult{ProviderID: string(r.Messages[0].ID), Status: string(r.Messages[0].MessageStatus)}
	if len(r.Contacts) > 0 {
		res.WAID = string(r.Contacts[0].WAID)
	}
	return res, nil
}

// MediaInfo is the Cloud API's answer to GET /{media-id}: a download URL valid for 5 minutes and what is known of
// the file.
type MediaInfo struct {
	ID       string
	URL      string
	MimeType string
	SHA256   string // as the provider wrote it (hex or base64)
	FileSize int64  // 0 when not given
}

// ParseMediaInfo reads a media lookup answer; file_size may be a number or a string. An answer without a url is
// an error.
func ParseMediaInfo(body []byte) (MediaInfo, error) {
	var r struct {
		ID       flexText `json:"id"`
		URL      flexText `json:"url"`
		MimeType flexText `json:"mime_type"`
		SHA256   flexText `json:"sha256"`
		FileSize flexInt  `json:"file_size"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return MediaInfo{}, fmt.Errorf("decode media answer: %w", err)
	}
	if r.URL == "" {
		return MediaInfo{}, errors.New("media answer has no url")
	}
	mi := MediaInfo{ID: string(r.ID), URL: string(r.URL), MimeType: string(r.MimeType), SHA256: string(r.SHA256)}
	if r.FileSize.ok && r.FileSize.v > 0 {
		mi.FileSize = int64(r.FileSize.v)
	}
	return mi, nil
}

// CheckSHA256 compares data with the provider's digest want (hex or base64, as Meta writes either) and returns
// data's hex digest. A want that is empty or not a SHA-256 in either encoding is not checked; a mismatch is an
// error wrapping ErrMediaChecksum.
func CheckSHA256(data []byte, want string) (string, error) {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	w := decodeDigest(strings.TrimSpace(want))
	if w == nil {
		return got, nil
	}
	if !bytes.Equal(w, sum[:]) {
		return got, fmt.Errorf("%w: got %s", ErrMediaChecksum, got)
	}
	return got, nil
}

func decodeDigest(s string) []byte {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b
		}
	}
	return nil
}

// MediaChecksumError is the *Error of a download whose bytes do not match the provider's digest: ClassRetry,
// since a second download usually succeeds.
func MediaChecksumError(kind string, err error) *Error {
	return &Error{Provider: kind, Op: OpDownloadMedia, Class: ClassRetry, Err: err,
		Message: "The media file arrived damaged (its SHA-256 does not match). wagate will retry the download."}
}

// MediaMultipart builds the Cloud API upload body: form fields messaging_product=whatsapp and type=<mime>, and
// the file part with its own Content-Type. A missing MIME type is sniffed from the bytes.
func MediaMultipart(f MediaFile) (body []byte, contentType string, err error) {
	mt := MediaType(f)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("messaging_product", "whatsapp"); err != nil {
		return nil, "", fmt.Errorf("multipart: %w", err)
	}
	base, _, _ := mime.ParseMediaType(mt)
	if err := w.WriteField("type", base); err != nil {
		return nil, "", fmt.Errorf("multipart: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": mediaFilename(f, mt)}))
	h.Set("Content-Type", mt)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", fmt.Errorf("multipart: %w", err)
	}
	if _, err := part.Write(f.Data); err != nil {
		return nil, "", fmt.Errorf("multipart: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("multipart: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// MediaType is f's MIME type without parameters, sniffed from the bytes when f does not say.
func MediaType(f MediaFile) string {
	if mt, _, err := mime.ParseMediaType(f.MimeType); err == nil && mt != "" {
		// Keep the parameters the provider needs (audio/ogg; codecs=opus) but drop anything unparsable.
		return strings.TrimSpace(f.MimeType)
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(f.Data))
	return mt
}

// mediaFilename is f's base name in printable ASCII (what every provider parses), or file.<ext> by MIME type.
func mediaFilename(f MediaFile, mt string) string {
	name := strings.TrimSpace(f.Filename)
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' {
			return '_'
		}
		return r
	}, name)
	if name != "" {
		return name
	}
	base, _, _ := mime.ParseMediaType(mt)
	if exts, _ := mime.ExtensionsByType(base); len(exts) > 0 {
		return "file" + exts[0]
	}
	return "file"
}

// ParseHealthStatus reads the Cloud API health_status object ({"can_send_message", "entities":[{entity_type, id,
// can_send_message, errors:[{error_code, error_description, possible_solution}], additional_info}]}) into h:
// CanSend, and one Details line per reported problem. can_send_message may be AVAILABLE, LIMITED or BLOCKED (or
// a boolean); LIMITED can still send. It reports whether raw held a health_status at all.
func ParseHealthStatus(raw json.RawMessage, h *Health) bool {
	var hs struct {
		CanSend  json.RawMessage `json:"can_send_message"`
		Entities []struct {
			Type    flexText        `json:"entity_type"`
			ID      flexText        `json:"id"`
			CanSend json.RawMessage `json:"can_send_message"`
			Errors  []struct {
				Code        flexInt  `json:"error_code"`
				Description flexText `json:"error_description"`
				Solution    flexText `json:"possible_solution"`
			} `json:"errors"`
			AdditionalInfo []flexText `json:"additional_info"`
		} `json:"entities"`
	}
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &hs) != nil {
		return false
	}
	if len(hs.CanSend) == 0 && hs.Entities == nil {
		return false
	}
	canSend, known := canSendValue(hs.CanSend)
	allOK := true
	for _, e := range hs.Entities {
		label := strings.TrimSpace(clean(string(e.Type)) + " " + clean(string(e.ID)))
		if ok, k := canSendValue(e.CanSend); k && !ok {
			allOK = false
		}
		for _, er := range e.Errors {
			line := clean(string(er.Description))
			if s := clean(string(er.Solution)); s != "" {
				line = strings.TrimSpace(line + " " + s)
			}
			if er.Code.ok {
				line += fmt.Sprintf(" (code %d)", er.Code.v)
			}
			h.Details = append(h.Details, strings.TrimSpace(label+": "+line))
		}
		for _, info := range e.AdditionalInfo {
			if s := clean(string(info)); s != "" {
				h.Details = append(h.Details, label+": "+s)
			}
		}
	}
	if known {
		h.CanSend = canSend
	} else {
		h.CanSend = allOK
	}
	if v := canSendText(hs.CanSend); v == "LIMITED" {
		h.Details = append(h.Details, "WhatsApp reports sending from this number as LIMITED.")
	}
	return true
}

// canSendValue reads can_send_message: AVAILABLE and LIMITED can send, BLOCKED cannot; booleans as they are.
func canSendValue(raw json.RawMessage) (canSend, known bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	switch canSendText(raw) {
	case "AVAILABLE", "LIMITED":
		return true, true
	case "BLOCKED":
		return false, true
	}
	return false, false
}

func canSendText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(s))
}

// ParsePhoneInfo reads a Graph phone-number node into h: verified_name, display_phone_number, quality_rating,
// throughput ({"level":"STANDARD"} or a string) and health_status (see ParseHealthStatus). 360dialog's
// GET /health_status answers the same node with only health_status (and a bare health_status object is read
// too). Every field is optional; without a health_status the number counts as able to send, since the call
// itself succeeded. Only an answer that is not a JSON object is an error.
func ParsePhoneInfo(body []byte, h *Health) error {
	var node map[string]json.RawMessage
	if err := json.Unmarshal(body, &node); err != nil {
		return fmt.Errorf("decode phone number answer: %w", err)
	}
	if node == nil {
		return errors.New("phone number answer is not an object")
	}
	h.VerifiedName = jsonText(node["verified_name"])
	h.DisplayPhone = jsonText(node["display_phone_number"])
	h.QualityRating = strings.ToUpper(jsonText(node["quality_rating"]))
	h.Throughput = jsonText(node["throughput"])
	if h.Throughput == "" {
		var tp struct {
			Level flexText `json:"level"`
		}
		if json.Unmarshal(node["throughput"], &tp) == nil {
			h.Throughput = clean(string(tp.Level))
		}
	}
	h.CanSend = true
	if !ParseHealthStatus(node["health_status"], h) {
		ParseHealthStatus(body, h)
	}
	return nil
}

// jsonText is raw as a cleaned string when it is a JSON string, else "".
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return clean(s)
}

// ParseProfile reads a business profile answer. It accepts the Cloud API's {"data":[{...}]} (Meta's shape is
// UNCONFIRMED, so {"data":{...}} and a bare profile object are read too), and the On-Premise
// {"settings":{"business":{"profile":{...}}}}. An empty data array is an empty profile; websites may be an array
// or a single string. Unknown fields (messaging_product, id) are ignored; only an answer that is not a JSON
// object, or whose profile is not one, is an error.
func ParseProfile(body []byte) (Profile, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return Profile{}, fmt.Errorf("decode profile answer: %w", err)
	}
	if top == nil {
		return Profile{}, errors.New("profile answer is not an object")
	}
	node := json.RawMessage(body)
	if data, ok := top["data"]; ok {
		var list []json.RawMessage
		if json.Unmarshal(data, &list) == nil {
			if len(list) == 0 {
				return Profile{}, nil
			}
			node = list[0]
		} else {
			node = data
		}
	} else if settings, ok := top["settings"]; ok {
		var s struct {
			Business struct {
				Profile json.RawMessage `json:"profile"`
			} `json:"business"`
		}
		if err := json.Unmarshal(settings, &s); err != nil || len(s.Business.Profile) == 0 {
			return Profile{}, errors.New("profile answer has no settings.business.profile")
		}
		node = s.Business.Profile
	}
	var f struct {
		About             flexText `json:"about"`
		Address           flexText `json:"address"`
		Description       flexText `json:"description"`
		Email             flexText `json:"email"`
		Vertical          flexText `json:"vertical"`
		ProfilePictureURL flexText `json:"profile_picture_url"`
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(node, &obj); err != nil || obj == nil {
		return Profile{}, errors.New("profile answer's profile is not an object")
	}
	if err := json.Unmarshal(node, &f); err != nil {
		return Profile{}, fmt.Errorf("decode profile: %w", err)
	}
	p := Profile{About: string(f.About), Address: string(f.Address), Description: string(f.Description),
		Email: string(f.Email), Vertical: string(f.Vertical), ProfilePictureURL: string(f.ProfilePictureURL)}
	var sites []flexText
	if raw, ok := obj["websites"]; ok && json.Unmarshal(raw, &sites) != nil {
		var one flexText
		_ = json.Unmarshal(raw, &one)
		sites = []flexText{one}
	}
	for _, s := range sites {
		if s != "" {
			p.Websites = append(p.Websites, string(s))
		}
	}
	return p, nil
}
