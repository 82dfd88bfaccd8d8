package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTranslations_Complete checks that every language has every English key, and that every key named
// literally in the templates and the Go code exists.
func TestTranslations_Complete(t *testing.T) {
	t.Parallel()
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	en := c.get("en")
	for _, code := range Languages[1:] {
		l := c.get(code)
		for k := range en.msgs {
			if !l.Has(k) {
				t.Errorf("%s lacks %q", code, k)
			}
		}
		for k := range l.msgs {
			if !en.Has(k) {
				t.Errorf("%s has %q, which English lacks", code, k)
			}
		}
	}
	used := map[string]string{}
	tmplKey := regexp.MustCompile(`\.L\.T "([a-z0-9_.]+)"|\.L\.Plural "([a-z0-9_.]+)"`)
	_ = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			if m[1] != "" {
				used[m[1]] = p
			} else {
				used[m[2]+".one"], used[m[2]+".other"] = p, p
			}
		}
		return nil
	})
	goKey := regexp.MustCompile(`L\.T\("([a-z0-9_.]+)"|userError\([^,]+, "([a-z0-9_.]+)"|Key: "([a-z0-9_]+\.[a-z0-9_.]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			for _, k := range m[1:] {
				if k != "" {
					used[k] = f
				}
			}
		}
	}
	if len(used) < 10 {
		t.Fatalf("found only %d keys in use: the patterns are wrong", len(used))
	}
	for k, where := range used {
		if strings.HasSuffix(k, ".") {
			continue // a prefix the code completes
		}
		for _, code := range Languages {
			if !c.get(code).Has(k) {
				t.Errorf("%s uses %q, which %s lacks", where, k, code)
			}
		}
	}
}
