package outbound

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// mediaKinds are the message types that carry a file.
var mediaKinds = []string{"image", "video", "audio", "document", "sticker"}

// InlineFile is a file given with a send request instead of by id, link or wagate file id: as a multipart part
// beside the request, or base64 in the media object's "data" field. The HTTP layer stores the file and calls
// Attach with the stored file's id; the request then goes through Decode like any other.
type InlineFile struct {
	// Kind is the message type: image, video, audio, document or sticker.
	Kind string
	// Filename and MimeType are the media object's filename and mime_type ("" when absent).
	Filename, MimeType string
	// Data is the decoded "data" field (nil for a file given beside the request).
	Data []byte

	top   map[string]json.RawMessage
	media map[string]json.RawMessage
}

// FindInlineFile looks in a send request body for the media object a file fills. With beside (a file part
// next to the request) the request must be a media message whose object, which may be left out, names no id,
// link, file or data. Without beside it reports whether the media object has a base64 "data" field, and
// decodes it. ok is false when the body has no inline file (only without beside); problems are Errors.
// The body's structure (one object, no duplicate keys, bounded nesting) is checked as Decode checks it.
func FindInlineFile(body []byte, beside bool) (f InlineFile, ok bool, err error) {
	var c checker
	top, valid := c.document(body)
	if !valid {
		return InlineFile{}, false, c.errs
	}
	typ := ""
	if s, isString := asString(top.m["type"]); isString {
		typ = s
	} else if !top.has("type") {
		for _, k := range mediaKinds {
			if top.has(k) {
				if typ != "" {
					typ = ""
					break
				}
				typ = k
			}
		}
	}
	if !slices.Contains(mediaKinds, typ) {
		if !beside {
			return InlineFile{}, false, nil
		}
		c.add("type", "a request sent with a file must be a media message: set type to one of %s", strings.Join(mediaKinds, ", "))
		return InlineFile{}, false, c.errs
	}
	media := obj{path: typ, m: map[string]json.RawMessage{}}
	if top.has(typ) {
		if media, valid = c.object(typ, top.m[typ]); !valid {
			if !beside {
				return InlineFile{}, false, nil // Decode reports it
			}
			return InlineFile{}, false, c.errs
		}
	}
	if !beside && !media.has("data") {
		return InlineFile{}, false, nil
	}
	for _, k := range []string{"id", "link", "file", "data"} {
		if beside && media.has(k) {
			c.add(media.at(k), "must be left out: the file part of the request is the file")
		} else if !beside && k != "data" && media.has(k) {
			c.add(media.at(k), "must be left out: data is the file")
		}
	}
	f = InlineFile{Kind: typ, top: top.m, media: media.m}
	if s, isString := asString(media.m["filename"]); isString {
		f.Filename = s
	}
	if s, isString := asString(media.m["mime_type"]); isString {
		f.MimeType = s
	}
	if !beside {
		s, isString := asString(media.m["data"])
		if !isString {
			c.add(media.at("data"), "must be a string of base64, not %s", kind(media.m["data"]))
		} else if f.Data, err = decodeBase64(s); err != nil {
			c.add(media.at("data"), "is not valid base64 (standard alphabet, padding optional)")
		} else if len(f.Data) == 0 {
			c.add(media.at("data"), "is empty")
		}
	}
	if len(c.errs) > 0 {
		return InlineFile{}, false, c.errs
	}
	return f, true, nil
}

// decodeBase64 decodes standard base64 with or without padding, ignoring line breaks (as MIME encoders
// write them).
func decodeBase64(s string) ([]byte, error) {
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	s = strings.TrimRight(s, "=")
	return base64.RawStdEncoding.DecodeString(s)
}

// Attach returns the request body with the media object naming the stored file fileID instead of the inline
// file: data is removed, and so is filename for kinds other than document (it named the stored file).
func (f InlineFile) Attach(fileID string) []byte {
	media := make(map[string]json.RawMessage, len(f.media)+1)
	for k, v := range f.media {
		media[k] = v
	}
	delete(media, "data")
	if f.Kind != "document" {
		delete(media, "filename")
	}
	media["file"], _ = json.Marshal(fileID)
	top := make(map[string]json.RawMessage, len(f.top)+1)
	for k, v := range f.top {
		top[k] = v
	}
	top[f.Kind], _ = json.Marshal(media)
	out, _ := json.Marshal(top)
	return out
}
