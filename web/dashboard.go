package web

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"
	"time"

	"regulars"
	"regulars/store"
)

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorFrom(r.Context())
	channels, err := h.app.DB.Channels(ctx, a.PartnerID())
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	users, err := h.app.DB.CountActiveUsers(ctx, a.User.TenantID, a.PartnerID())
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	data := map[string]any{"Channels": channels, "Users": users, "ShowStats": a.Can(regulars.FeatureDashboard, regulars.LevelView)}
	if data["ShowStats"] == true {
		now := time.Now().UTC()
		d, err := h.app.DB.PartnerDashboard(ctx, a.PartnerID(), now.AddDate(0, 0, -29), now)
		if err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		sum := func(s []store.DayCount) (n int64) {
			for _, x := range s {
				n += x.Count
			}
			return n
		}
		followers := int64(0)
		if len(d.Followers) > 0 {
			followers = d.Followers[len(d.Followers)-1].Count
		}
		data["D"] = d
		data["FollowersNow"] = followers
		data["NewFollows"] = sum(d.NewFollows)
		data["Redemptions"] = sum(d.Redemptions)
		data["Points"] = sum(d.Points)
		data["ActiveTotal"] = d.ActiveKinds[regulars.KindMessage] + d.ActiveKinds[regulars.KindCoupon] + d.ActiveKinds[regulars.KindLoyalty]
	}
	h.render(w, r, http.StatusOK, "dashboard", &Page{Title: a.Partner.BrandName, Data: data})
}

// chart draws a series as an inline SVG: a line with its area for levels
// (followers), bars for daily counts. No script, no library: it prints and
// scales with the page, and the figures are in its title for screen readers.
func chart(kind, label, color string, series []store.DayCount) template.HTML {
	// Sizes are in the 600-wide drawing, shown about 400 px wide: labels
	// of 13 are about 9 px.
	const w, ht, pad, bottom = 600.0, 180.0, 18.0, 24.0
	var maxV int64 = 1
	for _, s := range series {
		maxV = max(maxV, s.Count)
	}
	n := len(series)
	if n == 0 {
		return ""
	}
	var b strings.Builder
	last := series[n-1]
	summary := fmt.Sprintf("%s over the last %d days; latest %s: %s; highest: %s", label, n, last.Day.Format("2 Jan"), regulars.Thousands(last.Count), regulars.Thousands(maxV))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" preserveAspectRatio="none"><title>%s</title>`, w, ht, html.EscapeString(summary), html.EscapeString(summary))
	plotH := ht - bottom - pad
	y := func(v int64) float64 { return pad + plotH - float64(v)/float64(maxV)*plotH }
	// Grid: zero, half and top lines with labels.
	for _, g := range []int64{0, maxV / 2, maxV} {
		fmt.Fprintf(&b, `<line x1="0" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#dfe3e8" stroke-width="1"/><text x="2" y="%.1f" font-size="13" fill="#5a6374">%s</text>`, w, y(g), y(g), y(g)-3, regulars.Thousands(g))
	}
	step := w / float64(n)
	switch kind {
	case "line":
		var pts []string
		for i, s := range series {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", step*float64(i)+step/2, y(s.Count)))
		}
		fmt.Fprintf(&b, `<polygon points="%.1f,%.1f %s %.1f,%.1f" fill="%s" fill-opacity="0.12"/>`, step/2, y(0), strings.Join(pts, " "), step*float64(n-1)+step/2, y(0), color)
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round"/>`, strings.Join(pts, " "), color)
	default:
		for i, s := range series {
			if s.Count == 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" rx="2"><title>%s: %s</title></rect>`,
				step*float64(i)+step*0.15, y(s.Count), step*0.7, y(0)-y(s.Count), color, s.Day.Format("2 Jan"), regulars.Thousands(s.Count))
		}
	}
	for i, s := range series {
		if i%7 == 0 && n-1-i >= 3 || i == n-1 {
			// The first and last labels end at the edges, not past them.
			x, anchor := step*float64(i)+step/2, "middle"
			switch {
			case i == 0:
				x, anchor = 0, "start"
			case i == n-1:
				x, anchor = w, "end"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="13" fill="#5a6374" text-anchor="%s">%s</text>`, x, ht-6, anchor, s.Day.Format("2 Jan"))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// kindBars draws the active engagements by kind as horizontal bars.
func kindBars(kinds map[string]int64) template.HTML {
	return bars("Active engagements by kind", []bar{
		{"Messages", kinds[regulars.KindMessage], "#0b62b8"},
		{"Coupons", kinds[regulars.KindCoupon], "#b54708"},
		{"Loyalty programs", kinds[regulars.KindLoyalty], "#5b3fb8"}})
}

// bar is one row of a bar chart.
type bar struct {
	Label string
	Value int64
	Color string
}

// bars draws rows as horizontal bars with their values, as an inline SVG
// whose height follows the number of rows.
func bars(label string, rows []bar) template.HTML {
	var maxV int64 = 1
	for _, r := range rows {
		maxV = max(maxV, r.Value)
	}
	height := 8 + 34*len(rows)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart chart-bars" viewBox="0 0 600 %d" role="img" aria-label="%s">`, height, html.EscapeString(label))
	for i, r := range rows {
		y := 8 + i*34
		w := 400 * float64(r.Value) / float64(maxV)
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="15" fill="#1c2230">%s</text>`, y+17, html.EscapeString(r.Label))
		fmt.Fprintf(&b, `<rect x="140" y="%d" width="%.1f" height="22" rx="4" fill="%s"><title>%s: %s</title></rect>`, y+2, w+2, r.Color, html.EscapeString(r.Label), regulars.Thousands(r.Value))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="15" fill="#1c2230">%s</text>`, 150+w, y+18, regulars.Thousands(r.Value))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
