package media

import (
	"mime"
	"net/http"
)

// inlineTypes are served inline; every other type is served as an attachment, so that a browser never renders
// a stored file (HTML, SVG, PDF with scripts) as a page of wagate's origin.
var inlineTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "video/mp4": true,
	"video/3gpp": true, "audio/ogg": true, "audio/mpeg": true, "audio/mp4": true, "audio/aac": true, "audio/amr": true}

// Serve answers r with the opened file f and closes it: its cleaned content type, never sniffed, inline only
// for the image, audio and video types browsers play, as an attachment with its sanitised file name
// otherwise, in a sandbox, with range requests and conditional requests by its digest. The API's
// GET /v1/media/{id} and the web inbox both serve media through it.
func Serve(w http.ResponseWriter, r *http.Request, f Served) {
	defer f.File.Close()
	base, _, _ := mime.ParseMediaType(f.Mime)
	disp := "attachment"
	if inlineTypes[base] {
		disp = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", f.Mime)
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": f.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	h.Set("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(w, r, "", f.ModTime, f.File)
}
