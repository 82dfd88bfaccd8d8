package web

import "testing"

func TestInbox_FileKindFromDeclaredType(t *testing.T) {
	t.Parallel()
	for declared, want := range map[string]string{
		"image/png": "image", "image/webp": "image", "video/mp4": "video", "audio/ogg; codecs=opus": "audio",
		"application/pdf": "document", "": "document",
	} {
		if got := inboxFileKind(declared); got != want {
			t.Errorf("inboxFileKind(%q) = %q, want %q", declared, got, want)
		}
	}
}
