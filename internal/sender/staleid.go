package sender

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

// staleMediaCodes are the provider error codes a send by a media id answers when the provider may no longer
// know the id (docs/provider-api.md §4): 131053 media upload error, 100 invalid parameter and 131009 parameter
// value not valid on the Cloud APIs; 1006 resource not found and 1009 parameter value invalid On-Premise.
// The codes are not specific to the id, so a send that gets one is tried again only once, with a fresh upload.
var staleMediaCodes = map[int]bool{131053: true, 100: true, 131009: true, 1006: true, 1009: true}

// forgetter drops the cached provider id of a stored file on a channel (media.Service.ForgetProviderID).
type forgetter interface {
	ForgetProviderID(ctx context.Context, channel, fileID string) error
}

// sendResolved sends out through p, resolving a stored file to the provider's media id first. When the
// provider refuses the id as unknown or invalid (it may have expired or been deleted before wagate's cache says),
// the cached id is forgotten and the send is tried once more with a fresh upload. It returns the outbound as
// sent.
func (w *Worker) sendResolved(ctx context.Context, channel string, p provider.Provider, out wa.Outbound) (provider.SendResult, wa.Outbound, error) {
	orig := out
	res, sent, err := w.sendOnce(ctx, channel, p, out)
	var pe *provider.Error
	if err == nil || !errors.As(err, &pe) || pe.Op == provider.OpUploadMedia || !staleMediaCodes[pe.Code] || w.files == nil || !namesStoredFile(orig) {
		return res, sent, err
	}
	f, ok := w.files.(forgetter)
	if !ok {
		return res, sent, err
	}
	var c struct {
		File string `json:"file"`
	}
	if json.Unmarshal(orig.Content, &c) != nil || c.File == "" {
		return res, sent, err
	}
	if ferr := f.ForgetProviderID(ctx, channel, c.File); ferr != nil {
		w.log.Warn("could not forget a refused media id", "channel", channel, "file", c.File, "err", ferr)
		return res, sent, err
	}
	w.log.Info("provider refused a cached media id; uploading the file again", "channel", channel, "file", c.File, "code", pe.Code)
	return w.sendOnce(ctx, channel, p, orig)
}

// sendOnce resolves a stored file and makes one provider call.
func (w *Worker) sendOnce(ctx context.Context, channel string, p provider.Provider, out wa.Outbound) (provider.SendResult, wa.Outbound, error) {
	out, err := w.withFile(ctx, channel, p, out)
	if err != nil {
		return provider.SendResult{}, out, err
	}
	cctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	res, err := p.Send(cctx, out)
	return res, out, err
}
