package loadgen

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	base, baseHits := countingServer(t, "same bytes")
	subj, subjHits := countingServer(t, "same bytes")
	cfg := HTTPConfig{URL: base.URL, Concurrency: 4, MaxRequests: 200}
	scfg := cfg
	scfg.URL = subj.URL
	c, err := Compare(t.Context(), cfg, scfg)
	if err != nil {
		t.Fatal(err)
	}
	if baseHits.Load() != 200 || subjHits.Load() != 200 {
		t.Fatalf("servers saw %d and %d requests, want 200 each", baseHits.Load(), subjHits.Load())
	}
	if c.Ratio <= 0 || c.Ratio != c.Subject.RPS/c.Baseline.RPS {
		t.Fatalf("Ratio = %v, RPS %v / %v", c.Ratio, c.Subject.RPS, c.Baseline.RPS)
	}
	header := MarkdownHeader()
	row := c.MarkdownRow("bare | page")
	lines := strings.Split(header, "\n")
	if len(lines) != 2 {
		t.Fatalf("header has %d lines", len(lines))
	}
	cols := func(s string) int { return strings.Count(strings.ReplaceAll(s, `\|`, ""), "|") }
	if cols(row) != cols(lines[0]) || cols(row) != cols(lines[1]) {
		t.Fatalf("row and header column counts differ:\n%s\n%s", header, row)
	}
	if !strings.HasPrefix(row, `| bare \| page |`) || strings.Contains(row, "INVALID") {
		t.Fatalf("row = %q", row)
	}
	t.Log("\n" + header + "\n" + row + "\n" + c.String())
}

func TestCompareFlagsBadSubject(t *testing.T) {
	base, _ := countingServer(t, "ok")
	login := http.NewServeMux()
	login.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	subj := httptest.NewServer(login)
	defer subj.Close()
	cfg := HTTPConfig{URL: base.URL, MaxRequests: 20}
	scfg := cfg
	scfg.URL = subj.URL
	c, err := Compare(t.Context(), cfg, scfg)
	if err == nil || !strings.Contains(err.Error(), "subject") || !strings.Contains(err.Error(), "303") {
		t.Fatalf("err = %v, want a complaint about the subject's 303s", err)
	}
	if c.Subject.Status[303] != 20 || c.Baseline.Requests != 20 {
		t.Fatalf("Comparison not filled in: %+v", c)
	}
	if row := c.MarkdownRow("page"); !strings.Contains(row, "INVALID") {
		t.Fatalf("row for an invalid run not flagged: %s", row)
	}
}
