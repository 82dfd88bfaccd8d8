package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	jpegBytes = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{7}, 100)...)
	pngBytes  = append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, bytes.Repeat([]byte{1}, 100)...)
	opusOgg   = append([]byte("OggS\x00\x02"), append(bytes.Repeat([]byte{0}, 22), []byte("OpusHead\x01\x02")...)...)
	vorbisOgg = append([]byte("OggS\x00\x02"), append(bytes.Repeat([]byte{0}, 22), []byte("\x01vorbis")...)...)
	mp4Bytes  = append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'}, bytes.Repeat([]byte{0}, 64)...)
	movBytes  = append([]byte{0, 0, 0, 0x14, 'f', 't', 'y', 'p', 'q', 't', ' ', ' '}, bytes.Repeat([]byte{0}, 64)...)
	pdfBytes  = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")
	htmlBytes = []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	docxBytes = append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0}, 64)...)
)

func TestCheck_AcceptsWhatWhatsAppTakes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind, declared, name string
		data                 []byte
		wantKind, wantMime   string
		wantName             string
	}{
		{"", "", "photo.jpg", jpegBytes, "image", "image/jpeg", "photo.jpg"},
		{"image", "image/png", "x.png", pngBytes, "image", "image/png", "x.png"},
		{"audio", "audio/ogg", "voice.ogg", opusOgg, "audio", "audio/ogg", "voice.ogg"},
		{"video", "", "clip.mp4", mp4Bytes, "video", "video/mp4", "clip.mp4"},
		{"document", "application/pdf", "invoice.pdf", pdfBytes, "document", "application/pdf", "invoice.pdf"},
		{"document", "", "report.docx", docxBytes, "document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "report.docx"},
		{"document", "text/plain", "notes.txt", []byte("hello\n"), "document", "text/plain", "notes.txt"},
		// Wrong extension for the content: renamed to match the bytes.
		{"image", "", "photo.jpg", pngBytes, "image", "image/png", "photo.png"},
		// Path separators and control characters: neutralised.
		{"image", "", "../../etc/\x1b[31mevil\u202egpj.png", pngBytes, "image", "image/png", "[31mevilgpj.png"},
		{"image", "", `C:\Users\x\photo.png`, pngBytes, "image", "image/png", "photo.png"},
		{"image", "", "", pngBytes, "image", "image/png", "file.png"},
	} {
		got, err := Check(c.kind, c.data, c.declared, c.name)
		if err != nil {
			t.Errorf("Check(%q, %q, %q): %v", c.kind, c.declared, c.name, err)
			continue
		}
		if got.Kind != c.wantKind || got.Mime != c.wantMime || got.Filename != c.wantName {
			t.Errorf("Check(%q, %q, %q) = %+v, want %s %s %q", c.kind, c.declared, c.name, got, c.wantKind, c.wantMime, c.wantName)
		}
	}
}

func TestCheck_RefusesHostileAndUnsendableFiles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, kind, declared, filename string
		data                           []byte
		want                           string // in the reason
	}{
		{"empty", "image", "image/jpeg", "a.jpg", nil, "empty"},
		{"oversized image", "image", "", "a.jpg", append(jpegBytes, make([]byte, 5<<20)...), "more than the 5.0 MB"},
		{"oversized sticker", "sticker", "", "a.webp", append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), make([]byte, 200<<10)...), "100 KB"},
		{"html as pdf", "document", "application/pdf", "invoice.pdf", htmlBytes, "declared as application/pdf"},
		{"html document", "document", "", "invoice.pdf", htmlBytes, "does not accept"},
		{"vorbis voice note", "audio", "audio/ogg", "v.ogg", vorbisOgg, "Opus"},
		{"quicktime video", "video", "", "clip.mov", movBytes, "MP4 or 3GPP"},
		{"gif image", "image", "", "a.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00"), "GIF"},
		{"jpeg as video", "video", "", "a.mp4", jpegBytes, "does not accept"},
		{"unknown kind", "hologram", "", "a.jpg", jpegBytes, "not a media kind"},
	} {
		_, err := Check(c.kind, c.data, c.declared, c.filename)
		var re *RefusedError
		if !errors.As(err, &re) || !errors.Is(err, ErrRefused) || re.Fix == "" {
			t.Errorf("%s: err = %v, want a *RefusedError with a fix", c.name, err)
			continue
		}
		if !strings.Contains(re.Reason, c.want) {
			t.Errorf("%s: reason %q does not say %q", c.name, re.Reason, c.want)
		}
	}
}

func TestSafeFilename_NeverKeepsSeparatorsOrControls(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"../../../etc/passwd": "passwd", `..\..\boot.ini`: "boot.ini", "...hidden": "hidden", "a\r\nSet-Cookie: x": "aSet-Cookie_ x",
		"doc\u202etxt.exe": "doctxt.exe", "ok name.pdf": "ok name.pdf", "quote\"d.pdf": "quote_d.pdf", "/": "", "año.pdf": "año.pdf",
	} {
		if got := SafeFilename(in); got != want {
			t.Errorf("SafeFilename(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SafeFilename(strings.Repeat("é", 300)); len(got) > maxFilename || !utf8.ValidString(got) {
		t.Errorf("long name not cut on a character boundary: %d bytes", len(got))
	}
}

func FuzzCheck(f *testing.F) {
	for _, d := range [][]byte{jpegBytes, pngBytes, opusOgg, vorbisOgg, mp4Bytes, movBytes, pdfBytes, htmlBytes, docxBytes, nil} {
		f.Add("", "", "file.bin", d)
	}
	f.Add("document", "application/pdf", "../a\x00b.pdf", pdfBytes)
	f.Fuzz(func(t *testing.T, kind, declared, name string, data []byte) {
		c, err := Check(kind, data, declared, name)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("error %v is not a refusal", err)
			}
			return
		}
		if strings.ContainsAny(c.Filename, "/\\\x00\r\n") || c.Filename == "" || c.Mime == "" {
			t.Fatalf("unsafe result %+v", c)
		}
		if CleanType(c.Mime) == "application/octet-stream" && c.Mime != "application/octet-stream" {
			t.Fatalf("mime %q does not survive CleanType", c.Mime)
		}
	})
}

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"a.jpg", "../../x", `C:\a\b`, "\u202egnp.exe", "..", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeFilename(s)
		if strings.ContainsAny(got, "/\\\x00\r\n\"") || strings.HasPrefix(got, ".") || len(got) > maxFilename {
			t.Fatalf("SafeFilename(%q) = %q", s, got)
		}
	})
}

func TestBlobs_PutIsContentAddressedAndIdempotent(t *testing.T) {
	t.Parallel()
	b, err := NewBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sha, err := b.Put(pngBytes)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.Put(pngBytes)
	if err != nil || again != sha || sha != Digest(pngBytes) {
		t.Fatalf("second put = %s, %v", again, err)
	}
	path, _ := b.Path(sha)
	if !strings.HasSuffix(path, sha[:2]+"/"+sha[2:4]+"/"+sha) {
		t.Fatalf("path %s is not <dir>/ab/cd/<sha>", path)
	}
	got, err := b.Read(sha)
	if err != nil || !bytes.Equal(got, pngBytes) {
		t.Fatalf("read = %v", err)
	}
	if _, err := b.Path("../../etc/passwd"); err == nil {
		t.Fatal("a non-digest named a path")
	}
	if err := b.Remove(sha); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(sha); !errors.Is(err, ErrNoContent) {
		t.Fatalf("open after remove = %v", err)
	}
}
