package outbound

import "slices"

// MediaTypes returns the MIME types WhatsApp accepts for a media kind (image, video, audio, document,
// sticker); nil for other kinds.
func MediaTypes(kind string) []string { return slices.Clone(mimeTypes[kind]) }
