package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSetupCode_WritesOwnerOnlyAndReportsFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	path, err := writeSetupCode(dir, "123456")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	fi, serr := os.Stat(path)
	if err != nil || serr != nil || string(b) != "123456\n" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("setup code file: %q %v, %v %v", b, err, fi.Mode(), serr)
	}
	// A directory where the file should be: the code cannot be written, and the caller must hear of it.
	blocked := t.TempDir()
	if err := os.Mkdir(filepath.Join(blocked, SetupCodeFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := writeSetupCode(blocked, "123456"); err == nil {
		t.Fatal("writing over a directory reported success")
	}
}
