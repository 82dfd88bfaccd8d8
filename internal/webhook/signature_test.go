package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestSign_KnownVector(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
	got := Sign([]byte("what do ya want for nothing?"), []byte("Jefe"))
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	secret := []byte("app-secret-0123456789")
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"note":"caf\u00e9 ☕"}`)
	valid := Sign(body, secret)
	digest := valid[len("sha256="):]
	cases := []struct {
		name   string
		body   []byte
		header string
		secret []byte
		want   error
	}{
		{"valid", body, valid, secret, nil},
		{"valid with upper-case hex", body, "sha256=" + strings.ToUpper(digest), secret, nil},
		{"valid with upper-case prefix and spaces", body, "  SHA256=" + digest + " ", secret, nil},
		{"missing", body, "", secret, ErrSignatureMissing},
		{"blank", body, "   ", secret, ErrSignatureMissing},
		{"no prefix", body, digest, secret, ErrSignatureMalformed},
		{"sha1 prefix", body, "sha1=" + digest, secret, ErrSignatureMalformed},
		{"prefix only", body, "sha256=", secret, ErrSignatureMalformed},
		{"not hex", body, "sha256=" + strings.Repeat("zz", 32), secret, ErrSignatureMalformed},
		{"odd length", body, "sha256=" + digest[1:], secret, ErrSignatureMalformed},
		{"too short", body, "sha256=" + digest[:62], secret, ErrSignatureMalformed},
		{"too long", body, valid + "00", secret, ErrSignatureMalformed},
		{"wrong secret", body, Sign(body, []byte("other-secret")), secret, ErrSignatureMismatch},
		{"signature over other bytes", body, Sign([]byte(`{"object":"whatsapp_business_account"}`), secret), secret, ErrSignatureMismatch},
		{"body changed by one byte", append(body[:len(body)-1:len(body)-1], ' '), valid, secret, ErrSignatureMismatch},
		{"re-encoded body", []byte(strings.ReplaceAll(string(body), `\u00e9`, "é")), valid, secret, ErrSignatureMismatch},
		{"empty secret", body, Sign(body, nil), nil, ErrNoAppSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := VerifySignature(c.body, c.header, c.secret)
			if c.want == nil {
				if err != nil {
					t.Fatalf("VerifySignature = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, c.want)
			}
			msg := err.Error()
			expected := hex.EncodeToString(hmacSHA256(c.body, secret))
			if strings.Contains(msg, string(secret)) || strings.Contains(strings.ToLower(msg), expected) {
				t.Errorf("error %q leaks the secret or the expected digest", msg)
			}
		})
	}
}

func TestVerifySignature_DistinctSentinels(t *testing.T) {
	t.Parallel()
	all := []error{ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureMismatch, ErrNoAppSecret}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v is %v", a, b)
			}
		}
	}
}

// hmacSHA256 is an independent HMAC for checking Sign and error messages.
func hmacSHA256(body, secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return h.Sum(nil)
}
