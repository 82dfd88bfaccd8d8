package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/wa"
)

const simulateUsage = `Usage:
  wagate simulate message [flags]   post an inbound message webhook, as the provider would
  wagate simulate receipt [flags]   post a status webhook (receipt) for a message wagate sent

Examples:
  wagate simulate message --from +34696247355 --type text --text "Hola"
  wagate simulate message --type image --caption "Receipt" --mime image/png
  wagate simulate message --type reaction --emoji 👍 --react-to wamid.HBgL...
  wagate simulate receipt --id wamid.HBgL... --status failed --error-code 131047
  wagate simulate message --count 500          quick load: 500 distinct messages, one after another

Message flags:
  --type TYPE        text (default), image, video, audio, voice, document, sticker, location, contacts,
                     button_reply, list_reply, nfm_reply (alias flow), button, reaction, order, system,
                     unsupported
  --from NUMBER      sender, E.164 or digits (default: WAGATE_DEFAULT_RECIPIENT, else +15550001234)
  --name NAME        sender's profile name (default "Demo User")
  --user-id BSUID    sender's business-scoped user id; with --from "" the number is withheld
  --text TEXT        the text; for other types the caption, reply title, location or contact name, ...
  --id WAMID         message id (default: a random wamid)
  --reply-to WAMID   quote this message (context)
  --emoji EMOJI      reaction emoji (none removes the reaction)
  --react-to WAMID   the message a reaction is about
  --media-id ID, --mime TYPE, --caption TEXT, --filename NAME
                     media attachment (defaults: random id, a usual MIME type for the type)
  --lat DEG, --long DEG
                     location (default: Puerta del Sol, Madrid)

Receipt flags:
  --id WAMID         the message wagate sent (required)
  --status STATUS    sent, delivered (default), read, played, failed, deleted, warning
  --recipient NUMBER the user the message went to (default: WAGATE_DEFAULT_RECIPIENT, else +15550001234)
  --error-code N, --error-title TEXT, --error-detail TEXT
                     errors[] (failed defaults to 131026 "Message undeliverable")
  --pricing          add conversation and pricing (sent always has them)

Common flags (before or after message or receipt):
  --url URL          webhook URL (default: the configuration's public URL + /webhooks/whatsapp/CHANNEL)
  --channel NAME     channel whose settings and secrets to use (default: the default channel)
  --shape SHAPE      cloud or onpremise (default: onpremise for a 360dialog-onpremise channel, else cloud)
  --secret S         shared webhook secret, sent in X-Wagate-Webhook-Secret (default: the channel's)
  --app-secret S     Meta app secret: sign the body in X-Hub-Signature-256 (default: the channel's)
  --print            print the bodies instead of posting them
  --count N          post N distinct messages or receipts (default 1); with --id, later ones get -2, -3, ...
  --timeout D        timeout of each post (default 10s)

The configuration (WAGATE_* variables and the file named by WAGATE_CONFIG) is read as 'wagate serve' reads
it, so against a server started with the same environment no flag is needed. Each post prints one line: the
HTTP status and wagate's answer. Exit status: 0 when every post got 200, 1 otherwise, 2 for a usage error.
`

// simCommon holds the flags both simulate subcommands take.
type simCommon struct {
	url, channel, shape, secret, appSecret string
	print                                  bool
	count                                  int
	timeout                                time.Duration
}

// simRegisterCommon defines the common flags on fs with the current values of c as defaults, so that values
// given before the subcommand survive the second parse.
func simRegisterCommon(fs *flag.FlagSet, c *simCommon) {
	fs.StringVar(&c.url, "url", c.url, "webhook URL")
	fs.StringVar(&c.channel, "channel", c.channel, "channel name")
	fs.StringVar(&c.shape, "shape", c.shape, "cloud or onpremise")
	fs.StringVar(&c.secret, "secret", c.secret, "shared webhook secret")
	fs.StringVar(&c.appSecret, "app-secret", c.appSecret, "Meta app secret")
	fs.BoolVar(&c.print, "print", c.print, "print the bodies, do not post")
	fs.IntVar(&c.count, "count", c.count, "number of posts")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "timeout of each post")
}

// runSimulate is `wagate simulate`: it builds provider webhook bodies and posts them to a running wagate.
// args are the arguments after "simulate". It returns 0 when every post got 200 (or --print), 1 otherwise and
// 2 for a usage error. Secrets are never printed.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "wagate simulate: "+format+"\n\n%s", append(a, simulateUsage)...)
		return 2
	}
	common := simCommon{count: 1, timeout: 10 * time.Second}
	given := map[string]bool{}
	pre := flag.NewFlagSet("wagate simulate", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	simRegisterCommon(pre, &common)
	if err := pre.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, simulateUsage)
			return 0
		}
		return usageErr("%v", err)
	}
	pre.Visit(func(f *flag.Flag) { given[f.Name] = true })
	rest := pre.Args()
	if len(rest) == 0 {
		return usageErr("say what to simulate: message or receipt")
	}
	sub := rest[0]
	switch sub {
	case "message", "receipt":
	case "help":
		fmt.Fprint(stdout, simulateUsage)
		return 0
	default:
		return usageErr("unknown subcommand %q: use message or receipt", sub)
	}

	fs := flag.NewFlagSet("wagate simulate "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	simRegisterCommon(fs, &common)
	var msg simulate.MessageOptions
	var rcpt simulate.ReceiptOptions
	if sub == "message" {
		fs.StringVar(&msg.Type, "type", "text", "message type")
		fs.StringVar(&msg.From, "from", "", "sender number")
		fs.StringVar(&msg.Name, "name", "", "sender profile name")
		fs.StringVar(&msg.UserID, "user-id", "", "sender BSUID")
		fs.StringVar(&msg.Text, "text", "", "text")
		fs.StringVar(&msg.ID, "id", "", "message id")
		fs.StringVar(&msg.ReplyTo, "reply-to", "", "quoted message id")
		fs.StringVar(&msg.Emoji, "emoji", "", "reaction emoji")
		fs.StringVar(&msg.ReactTo, "react-to", "", "reacted message id")
		fs.StringVar(&msg.MediaID, "media-id", "", "media id")
		fs.StringVar(&msg.MimeType, "mime", "", "media MIME type")
		fs.StringVar(&msg.Caption, "caption", "", "media caption")
		fs.StringVar(&msg.Filename, "filename", "", "document file name")
		fs.Float64Var(&msg.Latitude, "lat", 0, "latitude")
		fs.Float64Var(&msg.Longitude, "long", 0, "longitude")
	} else {
		fs.StringVar(&rcpt.MessageID, "id", "", "message id")
		fs.StringVar(&rcpt.Status, "status", "delivered", "status")
		fs.StringVar(&rcpt.RecipientID, "recipient", "", "recipient number")
		fs.IntVar(&rcpt.ErrorCode, "error-code", 0, "error code")
		fs.StringVar(&rcpt.ErrorTitle, "error-title", "", "error title")
		fs.StringVar(&rcpt.ErrorDetail, "error-detail", "", "error details")
		fs.BoolVar(&rcpt.Pricing, "pricing", false, "add conversation and pricing")
	}
	if err := fs.Parse(rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, simulateUsage)
			return 0
		}
		return usageErr("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (quote values that contain spaces)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	// Checks that need no configuration come first, so that a typo is reported as such.
	if common.count < 1 {
		return usageErr("--count must be at least 1, got %d", common.count)
	}
	if common.timeout <= 0 {
		return usageErr("--timeout must be positive, got %v", common.timeout)
	}
	var shape wa.Shape
	switch strings.ToLower(common.shape) {
	case "":
	case "cloud":
		shape = wa.ShapeCloud
	case "onpremise", "on-premise", "onprem":
		shape = wa.ShapeOnPremise
	default:
		return usageErr("--shape %q: use cloud or onpremise", common.shape)
	}
	if sub == "receipt" && rcpt.MessageID == "" {
		return usageErr("receipt needs --id: the wamid of the message wagate sent")
	}
	if sub == "message" && given["from"] && msg.From == "" && msg.UserID == "" {
		return usageErr("--from is empty: give the sender's number, or --user-id for a user who hides it")
	}

	// The configuration gives the defaults: URL, shape, secrets, metadata and the demo user's number.
	cfg, err := config.Load(nil, getenv, os.ReadFile)
	if err != nil {
		lines := strings.Split(err.Error(), "\n")
		if cfg == nil && common.url == "" && !common.print {
			fmt.Fprintln(stderr, "wagate simulate: the configuration could not be loaded (give --url to post without it):")
			simIndent(stderr, lines)
			return 1
		}
		fmt.Fprintln(stderr, "wagate simulate: warning: the configuration has problems; using what could be read:")
		simIndent(stderr, lines)
	}
	var ch *config.Channel
	if cfg != nil {
		if common.channel == "" {
			ch = cfg.DefaultChannel()
		} else if c, ok := cfg.Channel(common.channel); ok {
			ch = c
		} else if common.url == "" {
			var names []string
			for _, c := range cfg.Channels {
				names = append(names, c.Name)
			}
			return usageErr("no channel named %q is configured (configured: %s); give --url to post anyway",
				common.channel, strings.Join(names, ", "))
		}
	}
	target := simulate.Target{URL: common.url, Secret: common.secret, AppSecret: common.appSecret}
	if ch != nil {
		if target.URL == "" {
			target.URL = cfg.WebhookURL(ch)
		}
		if !given["secret"] {
			target.Secret = ch.WebhookSecret.Reveal()
		}
		if !given["app-secret"] {
			target.AppSecret = ch.AppSecret.Reveal()
		}
		if shape == "" && ch.Provider == config.Provider360DialogOnPremise {
			shape = wa.ShapeOnPremise
		}
	}
	if shape == "" {
		shape = wa.ShapeCloud
	}
	if target.URL == "" && !common.print {
		return usageErr("no webhook URL: give --url")
	}
	if shape == wa.ShapeCloud && ch != nil {
		msg.PhoneNumberID, msg.DisplayPhoneNumber = ch.PhoneNumberID, ch.PhoneNumber
		rcpt.PhoneNumberID, rcpt.DisplayPhoneNumber = ch.PhoneNumberID, ch.PhoneNumber
	}
	if cfg != nil && cfg.DefaultRecipient != "" {
		if !given["from"] && msg.UserID == "" {
			msg.From = cfg.DefaultRecipient
		}
		if !given["recipient"] {
			rcpt.RecipientID = cfg.DefaultRecipient
		}
	}

	// build returns the i-th body (from 0); a bad --type or --status fails already for the first one, before
	// anything is posted.
	build := func(i int) ([]byte, error) {
		if sub == "message" {
			o := msg
			if o.ID != "" && i > 0 {
				o.ID = fmt.Sprintf("%s-%d", o.ID, i+1)
			}
			return simulate.Message(shape, o)
		}
		o := rcpt
		if i > 0 {
			o.MessageID = fmt.Sprintf("%s-%d", o.MessageID, i+1)
		}
		return simulate.Receipt(shape, o)
	}
	first, err := build(0)
	if err != nil {
		return usageErr("%s", strings.TrimPrefix(err.Error(), "simulate: "))
	}
	next := func(i int) ([]byte, error) {
		if i == 0 {
			return first, nil
		}
		return build(i)
	}
	if common.print {
		for i := range common.count {
			body, err := next(i)
			if err != nil {
				fmt.Fprintf(stderr, "wagate simulate: %s\n", strings.TrimPrefix(err.Error(), "simulate: "))
				return 1
			}
			fmt.Fprintf(stdout, "%s\n", body)
		}
		return 0
	}

	client := &http.Client{
		Timeout: common.timeout,
		// A redirect would turn the POST into a GET (or carry the secret elsewhere): report it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	code := 0
	for i := range common.count {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "wagate simulate: interrupted")
			return 1
		}
		body, err := next(i)
		if err != nil {
			fmt.Fprintf(stderr, "wagate simulate: %s\n", strings.TrimPrefix(err.Error(), "simulate: "))
			return 1
		}
		status, resp, err := simulate.Post(ctx, client, target, body)
		if err != nil {
			fmt.Fprintf(stderr, "wagate simulate: %s\n", strings.TrimPrefix(err.Error(), "simulate: "))
			fmt.Fprintln(stderr, "  is wagate running there ('wagate serve')? give --url if it listens elsewhere")
			return 1
		}
		fmt.Fprintf(stdout, "%d %s\n", status, simOneLine(resp))
		if status != http.StatusOK {
			code = 1
		}
	}
	return code
}

// simIndent writes each line as a list item.
func simIndent(w io.Writer, lines []string) {
	for _, l := range lines {
		fmt.Fprintf(w, "  - %s\n", l)
	}
}

// simOneLine returns a response body as one line of at most 1000 bytes.
func simOneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 1000 {
		s = strings.ToValidUTF8(s[:1000], "") + "..."
	}
	return s
}
