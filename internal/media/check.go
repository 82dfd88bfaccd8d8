package media

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagate/wagate/internal/outbound"
)

// ErrRefused is wrapped by every *RefusedError.
var ErrRefused = errors.New("media file refused")

// RefusedError says why a file cannot be sent on WhatsApp and what to do instead.
type RefusedError struct {
	Reason string // what is wrong, for people
	Fix    string // what to do about it
}

func (e *RefusedError) Error() string { return "media file refused: " + e.Reason }

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

func refuse(fix, format string, a ...any) *RefusedError {
	return &RefusedError{Reason: fmt.Sprintf(format, a...), Fix: fix}
}

// Kinds are the WhatsApp media kinds.
var Kinds = []string{"image", "video", "audio", "document", "sticker"}

// MaxSize is the largest file WhatsApp accepts per kind (docs/provider-api.md §5). Stickers: 100 KB static,
// 500 KB animated.
var MaxSize = map[string]int64{
	"image":    5 << 20,
	"video":    16 << 20,
	"audio":    16 << 20,
	"document": 100 << 20,
	"sticker":  500 << 10,
}

// maxStaticSticker bounds a sticker without animation.
const maxStaticSticker = 100 << 10

// MaxUpload is the largest file wagate takes (the largest kind's limit).
const MaxUpload = 100 << 20

// Checked is a file that passed Check.
type Checked struct {
	Kind     string
	Mime     string // what the bytes are (sniffed), not what the sender declared
	Filename string // safe: see SafeFilename; its extension matches Mime
}

// Check decides whether data may be sent as kind ("" picks the kind from the content) and returns what it is.
// The type comes from the bytes, not from the declared MIME type or the name: a name whose extension
// contradicts the bytes is renamed to match them, and a declared type that contradicts them is refused. It
// refuses empty files, files over the kind's limit, types WhatsApp does not take for the kind, and the
// conversions people trip on: voice notes in Ogg must be Opus, videos must be MP4 or 3GPP (H.264/AAC).
func Check(kind string, data []byte, declared, filename string) (Checked, error) {
	if len(data) == 0 {
		return Checked{}, refuse("choose a file that is not empty", "the file is empty (0 bytes)")
	}
	sniffed := Sniff(data)
	if kind == "" {
		kind = KindOf(sniffed)
	}
	allowed := outbound.MediaTypes(kind)
	if allowed == nil {
		return Checked{}, refuse("use one of "+strings.Join(Kinds, ", "), "%q is not a media kind", kind)
	}
	if max := MaxSize[kind]; int64(len(data)) > max {
		return Checked{}, refuse(sizeFix(kind), "the file has %s, more than the %s WhatsApp accepts for %s", human(int64(len(data))), human(max), plural(kind))
	}
	if d := baseType(declared); d != "" && d != "application/octet-stream" && !compatible(d, sniffed) {
		return Checked{}, refuse("send the file with its real type, or convert it",
			"the file was declared as %s but its content is %s", d, describe(sniffed))
	}
	mt := sniffed
	if family := genericOf(sniffed); family != "" {
		// The bytes say only "ZIP", "OLE" or "text": trust the declared or named type within that family.
		mt = ""
		for _, c := range []string{baseType(declared), typeByName(filename)} {
			if c != "" && genericOf(c) == family {
				mt = c
				break
			}
		}
		if mt == "" {
			mt = family
		}
	}
	if err := convertible(kind, mt, data); err != nil {
		return Checked{}, err
	}
	if !slices.Contains(allowed, mt) {
		return Checked{}, refuse("send one of: "+strings.Join(allowed, ", "), "WhatsApp does not accept %s as %s", describe(mt), kind)
	}
	if kind == "sticker" && len(data) > maxStaticSticker && !bytes.Contains(data[:min(len(data), 64)], []byte("ANIM")) {
		return Checked{}, refuse("make the sticker smaller than 100 KB", "a static sticker may have at most 100 KB, this one has %s", human(int64(len(data))))
	}
	return Checked{Kind: kind, Mime: mt, Filename: withExtension(SafeFilename(filename), mt)}, nil
}

// convertible refuses the formats people send by mistake, with the conversion that fixes them.
func convertible(kind, mt string, data []byte) error {
	switch {
	case kind == "audio" && mt == "audio/ogg" && !isOpus(data):
		return refuse("convert it to Opus, e.g. ffmpeg -i in.ogg -c:a libopus -b:a 32k out.ogg",
			"the Ogg audio is not encoded with Opus (WhatsApp plays only Opus in Ogg, e.g. voice notes)")
	case kind == "audio" && (mt == "audio/wav" || mt == "audio/webm" || mt == "video/webm"):
		return refuse("convert it, e.g. ffmpeg -i in.wav -c:a libopus out.ogg (voice note) or -c:a aac out.m4a",
			"WhatsApp does not play %s audio", describe(mt))
	case kind == "video" && (mt == "video/quicktime" || mt == "video/webm" || mt == "video/x-msvideo" || mt == "video/x-matroska"):
		return refuse("convert it to MP4 (H.264 video, AAC audio), e.g. ffmpeg -i in.mov -c:v libx264 -c:a aac out.mp4",
			"WhatsApp takes only MP4 or 3GPP video, this is %s", describe(mt))
	case kind == "image" && mt == "image/gif":
		return refuse("convert an animation to MP4 and send it as video, or a still image to PNG or JPEG", "WhatsApp does not accept GIF images")
	case kind == "image" && mt == "image/webp":
		return refuse("send it as a sticker, or convert it to PNG or JPEG", "WhatsApp accepts WebP only as a sticker")
	}
	return nil
}

// isOpus reports whether an Ogg stream starts with an Opus header.
func isOpus(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 512)], []byte("OpusHead"))
}

// Sniff returns the MIME type of data by its first bytes, with the formats WhatsApp uses that the standard
// library does not know (3GPP, M4A, AMR, AAC, Office documents, QuickTime). Office documents are reported as
// their container ("application/zip" or "application/x-ole-storage") and plain text as "text/plain".
func Sniff(data []byte) string {
	head := data[:min(len(data), 512)]
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		brand := string(head[8:12])
		switch {
		case strings.HasPrefix(brand, "3g"):
			return "video/3gpp"
		case brand == "M4A " || brand == "M4B ":
			return "audio/mp4"
		case brand == "qt  ":
			return "video/quicktime"
		}
		return "video/mp4"
	}
	switch {
	case bytes.HasPrefix(head, []byte("#!AMR")):
		return "audio/amr"
	case len(head) >= 2 && head[0] == 0xFF && (head[1]&0xF6) == 0xF0:
		return "audio/aac" // ADTS
	case bytes.HasPrefix(head, []byte("ID3")):
		return "audio/mpeg"
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return "application/x-ole-storage"
	case bytes.HasPrefix(head, []byte("OggS")):
		return "audio/ogg"
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		if bytes.Contains(head, []byte("webm")) {
			return "video/webm"
		}
		return "video/x-matroska"
	}
	mt := baseType(http.DetectContentType(data))
	switch mt {
	case "application/ogg":
		return "audio/ogg"
	case "audio/wave", "audio/x-wav":
		return "audio/wav"
	case "video/avi":
		return "video/x-msvideo"
	}
	if mt == "text/plain" && !utf8.Valid(head[:validPrefix(head)]) {
		return "application/octet-stream"
	}
	return mt
}

// validPrefix cuts head before a UTF-8 sequence the 512-byte window may have split.
func validPrefix(head []byte) int {
	n := len(head)
	for i := 0; i < 3 && n > 0 && !utf8.Valid(head[:n]); i++ {
		n--
	}
	return n
}

// genericOf names the container family of types the bytes cannot tell apart, "" for a specific type.
func genericOf(mt string) string {
	switch mt {
	case "application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return "application/zip"
	case "application/x-ole-storage", "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint":
		return "application/x-ole-storage"
	case "text/plain", "text/csv":
		return "text/plain"
	}
	return ""
}

// compatible reports whether a declared type may describe content sniffed as sniffed.
func compatible(declared, sniffed string) bool {
	if declared == sniffed {
		return true
	}
	if g := genericOf(sniffed); g != "" && genericOf(declared) == g {
		return true
	}
	aliases := map[string]string{"video/3gp": "video/3gpp", "audio/mp3": "audio/mpeg", "audio/x-m4a": "audio/mp4",
		"audio/opus": "audio/ogg", "image/jpg": "image/jpeg", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav"}
	if aliases[declared] == sniffed {
		return true
	}
	// An MP4 container holds audio as well as video.
	return (declared == "audio/mp4" && sniffed == "video/mp4") || (declared == "video/mp4" && sniffed == "audio/mp4")
}

// KindOf picks the WhatsApp kind for a MIME type.
func KindOf(mt string) string {
	switch {
	case mt == "image/webp":
		return "sticker"
	case strings.HasPrefix(mt, "image/"):
		return "image"
	case strings.HasPrefix(mt, "video/"):
		return "video"
	case strings.HasPrefix(mt, "audio/"):
		return "audio"
	}
	return "document"
}

func baseType(s string) string {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

func typeByName(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := extTypes[ext]; ok {
		return t
	}
	return baseType(mime.TypeByExtension(ext))
}

// extTypes fixes the extensions whose system MIME mapping varies between machines.
var extTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".mp4": "video/mp4",
	".3gp": "video/3gpp", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
	".aac": "audio/aac", ".amr": "audio/amr", ".pdf": "application/pdf", ".txt": "text/plain", ".csv": "text/plain",
	".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// extension is the usual file extension of a MIME type.
func extension(mt string) string {
	for _, pref := range []string{".jpg", ".png", ".webp", ".mp4", ".3gp", ".ogg", ".mp3", ".m4a", ".aac", ".amr", ".pdf",
		".txt", ".doc", ".xls", ".ppt", ".docx", ".xlsx", ".pptx"} {
		if extTypes[pref] == mt {
			return pref
		}
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// withExtension gives name the extension of mt unless it has it already.
func withExtension(name, mt string) string {
	if name == "" {
		return "file" + extension(mt)
	}
	ext := path.Ext(name)
	if typeByName(name) == mt || (ext != "" && compatible(typeByName(name), mt)) {
		return name
	}
	return strings.TrimSuffix(name, ext) + extension(mt)
}

// maxFilename bounds a file name, in bytes.
const maxFilename = 200

// SafeFilename neutralises a file name from outside: only its last path element is kept (both / and \ count
// as separators), control and format characters (including bidirectional overrides that disguise an
// extension) are dropped, characters that are special in file systems or headers become '_', leading dots and
// surrounding spaces go, and the result is cut to 200 bytes. It may return "".
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		case strings.ContainsRune(`:*?"<>|;%`, r):
			b.WriteByte('_')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimLeft(strings.TrimSpace(b.String()), ". ")
	for len(out) > maxFilename {
		_, size := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-size]
	}
	return strings.TrimSpace(out)
}

func describe(mt string) string {
	switch mt {
	case "application/octet-stream":
		return "unrecognised binary data"
	case "application/x-ole-storage":
		return "an old Office document"
	case "text/html; charset=utf-8", "text/html":
		return "an HTML page"
	}
	return mt
}

func plural(kind string) string {
	if kind == "audio" {
		return kind
	}
	return kind + "s"
}

func sizeFix(kind string) string {
	switch kind {
	case "image":
		return "compress or scale the image below 5 MB, or send it as a document (up to 100 MB)"
	case "video", "audio":
		return "compress the file below 16 MB, or send it as a document (up to 100 MB)"
	case "sticker":
		return "make the sticker smaller (100 KB static, 500 KB animated)"
	}
	return "WhatsApp takes no file over 100 MB: share a link instead"
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
