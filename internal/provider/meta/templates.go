package meta

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

// templateFields are the fields asked of each template.
const templateFields = "id,name,language,status,category,components,parameter_format,rejected_reason"

// Templates lists the account's message templates from /{version}/{waba_id}/message_templates, following the
// "after" cursor until Meta gives no next page.
func (c *Client) Templates(ctx context.Context) ([]wa.Template, error) {
	const op = provider.OpTemplates
	if err := c.ready(op, false); err != nil {
		return nil, err
	}
	if c.cfg.WABAID == "" {
		return nil, &provider.Error{Provider: provider.KindMeta, Op: op, Class: provider.ClassAuth,
			Message: "Templates cannot be listed: the channel has no WhatsApp Business Account id. Set WAGATE_WABA_ID (waba_id in the config file)."}
	}
	var all []wa.Template
	after := ""
	for page := 0; page < provider.MaxTemplatePages; page++ {
		q := url.Values{"fields": {templateFields}, "limit": {strconv.Itoa(provider.TemplatePageSize)}}
		if after != "" {
			q.Set("after", after)
		}
		resp, err := c.call.Do(ctx, op, http.MethodGet, c.endpoint(c.cfg.WABAID, "message_templates")+"?"+q.Encode(), "", nil, 0)
		if err != nil {
			return nil, err
		}
		p, err := provider.ParseMetaTemplates(resp.Body)
		if err != nil {
			return nil, c.call.BadResponse(op, resp.Status, fmt.Errorf("meta templates: %w", err))
		}
		all = append(all, p.Templates...)
		if p.After == "" || p.After == after {
			return all, nil
		}
		after = p.After
	}
	return all, nil
}
