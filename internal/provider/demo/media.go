package demo

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
)

// demoImage draws a small PNG for a media id: a 64×64 square in a colour derived from the id, with a darker
// diagonal, so that different media look different in the inbox.
func demoImage(mediaID string) []byte {
	sum := sha256.Sum256([]byte(mediaID))
	c := color.NRGBA{R: sum[0]/2 + 96, G: sum[1]/2 + 96, B: sum[2]/2 + 96, A: 255}
	dark := color.NRGBA{R: c.R / 2, G: c.G / 2, B: c.B / 2, A: 255}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			if x == y || x == y+1 {
				img.SetNRGBA(x, y, dark)
			} else {
				img.SetNRGBA(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}
