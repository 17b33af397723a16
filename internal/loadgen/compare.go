package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Comparison is the outcome of running a subject (for example an
// authenticated page) and a baseline (for example a bare handler serving
// the same bytes) under the same load.
type Comparison struct {
	BaselineURL string `json:"baseline_url"`
	SubjectURL  string `json:"subject_url"`
	Baseline    Result `json:"baseline"`
	Subject     Result `json:"subject"`
	// Ratio is Subject.RPS / Baseline.RPS: 1 means the subject keeps up
	// with the baseline, 0.25 means it serves a quarter of its throughput.
	// It is 0 when the baseline completed no requests.
	Ratio float64 `json:"ratio"`
}

// Compare runs baseline and then subject, one after the other, and
// reports both results and their throughput ratio. The two configs are
// normally identical apart from URL (and perhaps Header, to log in).
//
// An error from either run is returned as is. Otherwise, if either run
// fails Result.Check (transport errors, non-2xx statuses such as a
// redirect to a login page, or no requests at all), Compare returns the
// complete Comparison together with an error saying so, because a ratio
// over failed requests measures the wrong thing.
func Compare(ctx context.Context, baseline, subject HTTPConfig) (Comparison, error) {
	c := Comparison{BaselineURL: baseline.URL, SubjectURL: subject.URL}
	var err error
	if c.Baseline, err = RunHTTP(ctx, baseline); err != nil {
		return c, fmt.Errorf("baseline %s: %w", baseline.URL, err)
	}
	if c.Subject, err = RunHTTP(ctx, subject); err != nil {
		return c, fmt.Errorf("subject %s: %w", subject.URL, err)
	}
	if c.Baseline.RPS > 0 {
		c.Ratio = c.Subject.RPS / c.Baseline.RPS
	}
	var errs []error
	if err := c.Baseline.Check(); err != nil {
		errs = append(errs, fmt.Errorf("baseline %s: %w", baseline.URL, err))
	}
	if err := c.Subject.Check(); err != nil {
		errs = append(errs, fmt.Errorf("subject %s: %w", subject.URL, err))
	}
	return c, errors.Join(errs...)
}

// String returns a one-line human-readable summary.
func (c Comparison) String() string {
	return fmt.Sprintf("subject %.1f req/s vs baseline %.1f req/s: ratio %.2f; p50 %s vs %s; p99 %s vs %s",
		c.Subject.RPS, c.Baseline.RPS, c.Ratio,
		formatDuration(c.Subject.P50), formatDuration(c.Baseline.P50),
		formatDuration(c.Subject.P99), formatDuration(c.Baseline.P99))
}

// MarkdownHeader returns the two header lines (titles and alignment) of
// the Markdown table whose rows MarkdownRow formats, without a trailing
// newline.
func MarkdownHeader() string {
	return "| Case | Baseline req/s | Subject req/s | Ratio | Baseline p50 | Subject p50 | Baseline p99 | Subject p99 |\n" +
		"|---|--:|--:|--:|--:|--:|--:|--:|"
}

// MarkdownRow formats c as one row of the table headed by MarkdownHeader,
// labelled name, without a trailing newline. A run that fails
// Result.Check is flagged in the row so it cannot pass for a valid
// measurement.
func (c Comparison) MarkdownRow(name string) string {
	label := strings.NewReplacer("|", `\|`, "\n", " ").Replace(name)
	if c.Baseline.Check() != nil || c.Subject.Check() != nil {
		label += " (INVALID: errors or non-2xx responses)"
	}
	return fmt.Sprintf("| %s | %.0f | %.0f | %.2f× | %s | %s | %s | %s |",
		label, c.Baseline.RPS, c.Subject.RPS, c.Ratio,
		formatDuration(c.Baseline.P50), formatDuration(c.Subject.P50),
		formatDuration(c.Baseline.P99), formatDuration(c.Subject.P99))
}
