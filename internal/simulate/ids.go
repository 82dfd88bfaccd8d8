package simulate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"

	"github.com/wagate/wagate/internal/wa"
)

// NewWAMID returns a random message id shaped like the ones WhatsApp gives: "wamid." and the standard base64
// of a small binary record that holds the user's wa_id (digits) and a random 20-character hex key, e.g.
// "wamid.HBgLMzQ2OTYyNDczNTUVAgASGBQzQUI0RjM1QzY3MDk4RjJFNDgxQQA=" for 34696247355.
func NewWAMID(waID string) string {
	digits := wa.Digits(waID)
	if len(digits) > 100 {
		digits = digits[:100]
	}
	key := "3A" + strings.ToUpper(randomHex(9)) // 20 characters, like the ids of messages sent from phones
	b := []byte{0x1c, 0x18, byte(len(digits))}
	b = append(b, digits...)
	b = append(b, 0x15, 0x02, 0x00, 0x12, 0x18, byte(len(key)))
	b = append(b, key...)
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// randomDigits returns n random decimal digits, the first one not zero.
func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		lo := int64(0)
		if i == 0 {
			lo = 1
		}
		d, _ := rand.Int(rand.Reader, big.NewInt(10-lo))
		b.WriteByte(byte('0' + lo + d.Int64()))
	}
	return b.String()
}

// randomUUID returns a random version-4 UUID, the form On-Premise media ids take.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// sha256Of returns the SHA-256 of s: standard base64 for the Cloud API, lowercase hex for On-Premise, as each
// writes the sha256 of a media file.
func sha256Of(s string, base64Form bool) string {
	sum := sha256.Sum256([]byte(s))
	if base64Form {
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	return hex.EncodeToString(sum[:])
}
