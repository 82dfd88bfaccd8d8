package demo

import (
	"context"
	"encoding/json"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
)

var _ provider.TemplateLister = (*Provider)(nil)

// Templates returns the demo account's templates: realistic approved ones of each shape (positional body,
// named parameters, an image header with a URL button, a copy code), plus a paused and a rejected one.
func (p *Provider) Templates(ctx context.Context) ([]wa.Template, error) {
	if err := ctx.Err(); err != nil {
		return nil, &provider.Error{Provider: "demo", Op: provider.OpTemplates, Class: provider.ClassRetry, Timeout: true, Message: "The WhatsApp service timed out. Try again.", Err: err}
	}
	out := make([]wa.Template, len(DemoTemplates))
	copy(out, DemoTemplates)
	return out, nil
}

func comps(s string) json.RawMessage { return json.RawMessage(s) }

// DemoTemplates are the templates of every demo channel.
var DemoTemplates = []wa.Template{
	{Name: "hello_world", Language: "en_US", ID: "1000000000000001", Category: "UTILITY", Status: wa.TemplateApproved,
		ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"HEADER","format":"TEXT","text":"Hello World"},
{"type":"BODY","text":"Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta."},
{"type":"FOOTER","text":"WhatsApp Business Platform sample message"}]`)},
	{Name: "order_update", Language: "es", ID: "1000000000000002", Category: "UTILITY", Status: wa.TemplateApproved,
		ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"BODY","text":"Hola {{1}}, tu pedido {{2}} ha salido del almacén y llegará el {{3}}.","example":{"body_text":[["Ana","A-1234","viernes"]]}},
{"type":"FOOTER","text":"Responde STOP para no recibir avisos"},
{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Gracias"},{"type":"QUICK_REPLY","text":"STOP"}]}]`)},
	{Name: "order_update", Language: "en_US", ID: "1000000000000003", Category: "UTILITY", Status: wa.TemplateApproved,
		ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"BODY","text":"Hi {{1}}, your order {{2}} has left the warehouse and arrives on {{3}}.","example":{"body_text":[["Ana","A-1234","Friday"]]}},
{"type":"FOOTER","text":"Reply STOP to opt out"},
{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Thanks"},{"type":"QUICK_REPLY","text":"STOP"}]}]`)},
	{Name: "appointment_reminder", Language: "en_US", ID: "1000000000000004", Category: "UTILITY", Status: wa.TemplateApproved,
		ParameterFormat: wa.ParamsNamed, Components: comps(`[{"type":"HEADER","format":"TEXT","text":"Appointment on {{date}}","example":{"header_text_named_params":[{"param_name":"date","example":"3 March"}]}},
{"type":"BODY","text":"Hi {{first_name}}, this is a reminder of your appointment with {{doctor}} on {{date}} at {{time}}. Reply to this message to change it.","example":{"body_text_named_params":[{"param_name":"first_name","example":"Ana"},{"param_name":"doctor","example":"Dr. Ruiz"},{"param_name":"date","example":"3 March"},{"param_name":"time","example":"10:30"}]}}]`)},
	{Name: "shipment_photo", Language: "en_US", ID: "1000000000000005", Category: "UTILITY", Status: wa.TemplateApproved,
		ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["https://example.com/parcel.jpg"]}},
{"type":"BODY","text":"Your parcel {{1}} was delivered to {{2}}. Tap below to see the tracking history.","example":{"body_text":[["A-1234","the front desk"]]}},
{"type":"BUTTONS","buttons":[{"type":"URL","text":"Track parcel","url":"https://example.com/track/{{1}}","example":["https://example.com/track/A-1234"]},{"type":"PHONE_NUMBER","text":"Call us","phone_number":"+34600000000"}]}]`)},
	{Name: "login_code", Language: "en_US", ID: "1000000000000006", Category: "AUTHENTICATION", Status: wa.TemplateApproved,
		ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"BODY","text":"{{1}} is your verification code. For your security, do not share this code.","example":{"body_text":[["123456"]]}},
{"type":"BUTTONS","buttons":[{"type":"URL","text":"Copy code","url":"https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}","example":["https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp123456"]}]}]`)},
	{Name: "spring_sale", Language: "en_US", ID: "1000000000000007", Category: "MARKETING", Status: wa.TemplatePaused,
		ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"BODY","text":"Spring sale: {{1}} off everything until Sunday!","example":{"body_text":[["20%"]]}}]`)},
	{Name: "winback_offer", Language: "en_US", ID: "1000000000000008", Category: "MARKETING", Status: wa.TemplateRejected,
		RejectedReason: "PROMOTIONAL", ParameterFormat: wa.ParamsPositional, Components: comps(`[{"type":"BODY","text":"We miss you! Come back for {{1}} off."}]`)},
}
