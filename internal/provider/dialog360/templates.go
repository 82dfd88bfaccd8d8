package dialog360

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

var _ provider.TemplateLister = (*Client)(nil)

// Templates lists the channel's message templates from /v1/configs/templates (the path is the same for Cloud
// and On-Premise numbers), page by page with limit and offset until a page is short or the total is reached.
// On-Premise templates carry their namespace; when the list gives none, the configured one is filled in.
func (c *Client) Templates(ctx context.Context) ([]wa.Template, error) {
	const op = provider.OpTemplates
	if err := c.ready(op); err != nil {
		return nil, err
	}
	var all []wa.Template
	offset := 0
	for page := 0; page < provider.MaxTemplatePages; page++ {
		q := url.Values{"limit": {strconv.Itoa(provider.TemplatePageSize)}, "offset": {strconv.Itoa(offset)}}
		resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint("/v1/configs/templates")+"?"+q.Encode(), "", nil, 0)
		if err != nil {
			return nil, err
		}
		p, err := provider.ParseDialog360Templates(resp.Body)
		if err != nil {
			return nil, c.call.BadResponse(op, resp.Status, fmt.Errorf("%s templates: %w", c.kind, err))
		}
		for _, t := range p.Templates {
			if t.Namespace == "" {
				t.Namespace = c.cfg.Namespace
			}
			all = append(all, t)
		}
		offset += p.Count
		if p.Count == 0 || p.Count < provider.TemplatePageSize && p.Total == 0 || p.Total > 0 && offset >= p.Total {
			return all, nil
		}
	}
	return all, nil
}
