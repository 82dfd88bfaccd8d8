package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// registerDashboard mounts the dashboard: charts of the traffic of a period, drawn on the server as SVG.
func (h *Handler) registerDashboard(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /dashboard", h.dashboardPage)
}

// dashboardPeriods are the periods the dashboard offers, in days; the first is the default.
var dashboardPeriods = []int{30, 7, 90}

// SpendRate is the estimated price of one charge in a pricing category.
type SpendRate struct {
	Category string
	USD      float64
}

// SpendRates are the prices the dashboard's spend estimate uses, in US dollars per charge (a billable message
// under per-message pricing, a billable conversation under conversation-based pricing). They are Meta's list
// prices of the order of magnitude of most countries; the real price depends on the recipient's country code,
// the month's volume tier and the provider's margin, so the page calls the figure an estimate and lists these
// rates next to it. A category without a rate counts as free and is shown so.
var SpendRates = []SpendRate{
	{"marketing", 0.0250},
	{"utility", 0.0040},
	{"authentication", 0.0040},
	{"authentication_international", 0.0300},
	{"service", 0},
	{"referral_conversion", 0},
}

// dashboardView is what the dashboard shows.
type dashboardView struct {
	Days    int
	Periods []int
	From    time.Time
	To      time.Time
	Daily   dailyChart
	Funnel  barChart
	Failure barChart
	Spend   spendChart
}

// Geometry of the charts, in SVG user units (the SVG scales to the width of the page).
const (
	chartW     = 960.0
	chartH     = 260.0
	chartLeft  = 48.0 // room for the y axis labels
	chartRight = 8.0
	chartTop   = 12.0
	chartBot   = 36.0 // room for the x axis labels and title
)

// dailyChart is the bar chart of messages per day, inbound and outbound side by side.
type dailyChart struct {
	W, H                   float64
	PlotX, PlotY, PlotW    float64
	PlotH, Baseline        float64
	Bars                   []dailyBar
	Ticks                  []axisTick
	Labels                 []axisLabel
	TotalIn, TotalOut, Max int
	Days                   []store.DayCount
}

type dailyBar struct {
	Day             string
	InX, OutX, W    float64
	InY, InH        float64
	OutY, OutH      float64
	In, Out         int
	TitleIn, TitleO string
}

type axisTick struct {
	Y     float64
	Value int
}

type axisLabel struct {
	X    float64
	Text string
}

// barChart is a list of horizontal bars with a label, a count and a share.
type barChart struct {
	// ID prefixes the ids of the SVG's title and description; Title, Desc and Axis are its text alternative and
	// axis caption.
	ID, Title, Desc, Axis string
	W, H                  float64
	CaptionY              float64
	BarMaxW               float64 // the longest bar's width
	Rows                  []barRow
	Total                 int
	Extra                 int // funnel: outbound messages not sent yet (queued, accepted)
	LabelW                float64
}

type barRow struct {
	Key     string // CSS class suffix and translation key
	Label   string
	Short   string // Label cut to fit the label column
	Y, W    float64
	TextY   float64
	ValueX  float64 // where the value text starts, after the bar
	Count   int
	Percent string
	Value   string // shown after the bar (count and percent, or money)
}

// spendChart is the spend estimate per pricing category.
type spendChart struct {
	Bars     barChart
	Lines    []spendLine
	TotalUSD string
	Rates    []SpendRate
}

type spendLine struct {
	Category string
	Model    string
	Count    int
	Rate     string
	Cost     string
	Known    bool
}

func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	days := dashboardPeriods[0]
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || !slices.Contains(dashboardPeriods, n) {
			return userError(http.StatusBadRequest, "dashboard.bad_period")
		}
		days = n
	}
	now := h.now().UTC()
	// The period is the last days whole UTC days, today included.
	from := now.Truncate(24*time.Hour).AddDate(0, 0, -(days - 1))
	to := now.Add(time.Second)
	ctx := r.Context()
	daily, err := h.st.MessageDaily(ctx, from, to)
	if err != nil {
		return err
	}
	// The outbound messages' statuses come with the daily counts, from the same pass over one index.
	statuses := map[string]int{}
	for _, d := range daily {
		for st, n := range d.OutStatus {
			statuses[st] += n
		}
	}
	failures, err := h.st.MessageFailureReasons(ctx, from, to, 5)
	if err != nil {
		return err
	}
	bills, err := h.st.BillingCounts(ctx, from, to)
	if err != nil {
		return err
	}
	v := dashboardView{Days: days, Periods: slices.Sorted(slices.Values(dashboardPeriods)), From: from, To: now,
		Daily: buildDaily(daily), Funnel: buildFunnel(s.L, statuses), Failure: buildFailures(s.L, failures, statuses),
		Spend: buildSpend(s.L, bills)}
	return h.render(w, r, s, http.StatusOK, "dashboard", "dashboard", v)
}

// niceStep returns the step of an axis of four steps that reaches n: 1, 2 or 5 times a power of ten, so that
// every tick is a round whole number.
func niceStep(n int) int {
	need := max(1, (n+3)/4)
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= need {
				return m * p
			}
		}
	}
}

func buildDaily(days []store.DayCount) dailyChart {
	c := dailyChart{W: chartW, H: chartH, PlotX: chartLeft, PlotY: chartTop, PlotW: chartW - chartLeft - chartRight,
		PlotH: chartH - chartTop - chartBot, Days: days}
	c.Baseline = c.PlotY + c.PlotH
	peak := 0
	for _, d := range days {
		c.TotalIn += d.In
		c.TotalOut += d.Out
		peak = max(peak, d.In, d.Out)
	}
	step := niceStep(peak)
	c.Max = 4 * step
	for i := 0; i <= 4; i++ {
		val := step * i
		c.Ticks = append(c.Ticks, axisTick{Y: round1(c.Baseline - c.PlotH*float64(val)/float64(c.Max)), Value: val})
	}
	if len(days) == 0 {
		return c
	}
	slot := c.PlotW / float64(len(days))
	bar := math.Max(slot*0.4, 0.5)
	gap := (slot - 2*bar) / 2
	// About seven date labels whatever the period.
	every := max(1, (len(days)+6)/7)
	for i, d := range days {
		x := c.PlotX + float64(i)*slot
		b := dailyBar{Day: d.Day.Format("2006-01-02"), In: d.In, Out: d.Out, W: round1(bar),
			InX: round1(x + gap), OutX: round1(x + gap + bar)}
		b.InH = round1(c.PlotH * float64(d.In) / float64(c.Max))
		b.OutH = round1(c.PlotH * float64(d.Out) / float64(c.Max))
		b.InY, b.OutY = round1(c.Baseline-b.InH), round1(c.Baseline-b.OutH)
		c.Bars = append(c.Bars, b)
		if (len(days)-1-i)%every == 0 {
			c.Labels = append(c.Labels, axisLabel{X: round1(x + slot/2), Text: d.Day.Format("01-02")})
		}
	}
	return c
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// Geometry of the horizontal bar charts: narrow ones share a row of the page, wide ones have it to themselves.
const (
	barNarrowW = 520.0
	barWideW   = 720.0
	barLabelW  = 200.0
	barValueW  = 110.0 // room after the longest bar for its value
	barRowH    = 30.0
	// barLabelRunes is the longest label the label column holds at 12 px.
	barLabelRunes = 30
	barH          = 20.0
	// barCaptionH is the room under the bars for the axis caption.
	barCaptionH = 22.0
)

func layoutBars(c *barChart, max int, width float64) {
	c.W, c.LabelW = width, barLabelW
	c.BarMaxW = width - barLabelW - barValueW
	c.H = barRowH*float64(len(c.Rows)) + 4 + barCaptionH
	c.CaptionY = c.H - 6
	for i := range c.Rows {
		row := &c.Rows[i]
		row.Y = float64(i)*barRowH + 4
		row.TextY = row.Y + barH*0.72
		if max > 0 {
			row.W = round1(c.BarMaxW * float64(row.Count) / float64(max))
		}
		if row.Count > 0 && row.W < 1 {
			row.W = 1
		}
		row.ValueX = round1(c.LabelW + row.W + 6)
		row.Short = row.Label
		if r := []rune(row.Label); len(r) > barLabelRunes {
			row.Short = string(r[:barLabelRunes-1]) + "…"
		}
	}
}

func percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	p := 100 * float64(n) / float64(total)
	if p > 0 && p < 1 {
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}

// buildFunnel turns the outbound messages' current statuses into the funnel: every message that reached a step
// counts in it (a read message was sent and delivered too); failed ones stop.
func buildFunnel(L *Lang, statuses map[string]int) barChart {
	var total, sent, delivered, read, failed int
	for st, n := range statuses {
		total += n
		s := wa.Status(st)
		switch {
		case s == wa.StatusFailed:
			failed += n
		case s.Rank() >= wa.StatusSent.Rank():
			sent += n
			if s.Rank() >= wa.StatusDelivered.Rank() {
				delivered += n
			}
			if s.Rank() >= wa.StatusRead.Rank() {
				read += n
			}
		}
	}
	c := barChart{Total: total, Extra: total - sent - failed}
	for _, step := range []struct {
		key string
		n   int
	}{{"sent", sent}, {"delivered", delivered}, {"read", read}, {"failed", failed}} {
		p := percent(step.n, total)
		c.Rows = append(c.Rows, barRow{Key: step.key, Label: L.T("dashboard.funnel." + step.key), Count: step.n, Percent: p,
			Value: fmt.Sprintf("%d · %s", step.n, p)})
	}
	layoutBars(&c, total, barNarrowW)
	c.ID, c.Title = "funnel", L.T("dashboard.funnel.title")
	c.Desc, c.Axis = L.T("dashboard.funnel.desc", total, sent, delivered, read, failed), L.T("dashboard.funnel.axis")
	return c
}

func buildFailures(L *Lang, reasons []store.FailureReason, statuses map[string]int) barChart {
	c := barChart{Total: statuses[string(wa.StatusFailed)]}
	peak := 0
	for _, f := range reasons {
		label := f.Title
		if f.Code != 0 {
			label = fmt.Sprintf("%d %s", f.Code, f.Title)
		}
		if label == "" {
			label = "–"
		}
		p := percent(f.Count, c.Total)
		c.Rows = append(c.Rows, barRow{Key: "failed", Label: label, Count: f.Count, Percent: p, Value: fmt.Sprintf("%d · %s", f.Count, p)})
		peak = max(peak, f.Count)
	}
	layoutBars(&c, peak, barNarrowW)
	c.ID, c.Title = "failures", L.T("dashboard.failures.title")
	c.Desc, c.Axis = L.T("dashboard.failures.desc", c.Total, len(reasons)), L.T("dashboard.failures.axis")
	return c
}

func spendRate(category string) (float64, bool) {
	for _, r := range SpendRates {
		if r.Category == category {
			return r.USD, true
		}
	}
	return 0, false
}

// usd writes an amount of US dollars, with a tenth of a cent below one dollar.
func usd(f float64) string {
	if f < 1 {
		return fmt.Sprintf("$%.3f", f)
	}
	return fmt.Sprintf("$%.2f", f)
}

func buildSpend(L *Lang, bills []store.BillingCount) spendChart {
	c := spendChart{Rates: SpendRates}
	type cat struct {
		count int
		cost  float64
	}
	byCat := map[string]*cat{}
	var order []string
	var total float64
	for _, b := range bills {
		rate, known := spendRate(b.Category)
		cost := rate * float64(b.Count)
		total += cost
		model := b.Model
		if model == "" {
			model = "–"
		}
		c.Lines = append(c.Lines, spendLine{Category: b.Category, Model: model, Count: b.Count, Rate: usd4(rate), Cost: usd(cost), Known: known})
		if byCat[b.Category] == nil {
			byCat[b.Category] = &cat{}
			order = append(order, b.Category)
		}
		byCat[b.Category].count += b.Count
		byCat[b.Category].cost += cost
	}
	slices.SortFunc(c.Lines, func(a, b spendLine) int {
		if a.Category != b.Category {
			if a.Category < b.Category {
				return -1
			}
			return 1
		}
		if a.Model < b.Model {
			return -1
		}
		return 0
	})
	slices.Sort(order)
	peak := 0.0
	for _, k := range order {
		peak = math.Max(peak, byCat[k].cost)
	}
	for _, k := range order {
		x := byCat[k]
		label := k
		if label == "" {
			label = L.T("dashboard.spend.no_category")
		}
		row := barRow{Key: "spend", Label: label, Count: x.count, Value: fmt.Sprintf("%s · %s", usd(x.cost), L.T("dashboard.spend.charges", x.count))}
		if total > 0 {
			row.Percent = percent(int(math.Round(x.cost*1e4)), int(math.Round(total*1e4)))
		}
		c.Bars.Rows = append(c.Bars.Rows, row)
	}
	layoutBars(&c.Bars, 0, barWideW)
	for i, k := range order { // bars by cost, not by count
		if peak > 0 {
			c.Bars.Rows[i].W = round1(c.Bars.BarMaxW * byCat[k].cost / peak)
		}
		c.Bars.Rows[i].ValueX = round1(c.Bars.LabelW + c.Bars.Rows[i].W + 6)
		c.Bars.Total += byCat[k].count
	}
	c.TotalUSD = usd(total)
	c.Bars.ID, c.Bars.Title = "spend", L.T("dashboard.spend.title")
	c.Bars.Desc, c.Bars.Axis = L.T("dashboard.spend.desc", c.TotalUSD, c.Bars.Total), L.T("dashboard.spend.axis")
	return c
}

func usd4(f float64) string { return fmt.Sprintf("$%.4f", f) }
