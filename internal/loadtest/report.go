package loadtest

// The report: what was planned, what each step measured and whether it met the
// thresholds, as JSON (stable camelCase field names, durations in ms or s) and as a table.

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of Run.
type Report struct {
	Plan       PlanSummary  `json:"plan"`
	StartedAt  time.Time    `json:"startedAt"`
	FinishedAt time.Time    `json:"finishedAt"`
	Steps      []StepResult `json:"steps"`
	// Interrupted is set when the run was cancelled before its last step ended.
	Interrupted bool `json:"interrupted"`
	// StoppedOnFail is set when Plan.StopOnFail skipped the steps after a failing one.
	StoppedOnFail bool `json:"stoppedOnFail"`
}

// PlanSummary is the plan as the report records it: header names but never their values.
type PlanSummary struct {
	RatesRps        []float64       `json:"ratesRps"`
	StepSeconds     float64         `json:"stepSeconds"`
	PlannedSeconds  float64         `json:"plannedSeconds"`
	MaxTotalSeconds float64         `json:"maxTotalSeconds"`
	TimeoutMs       float64         `json:"timeoutMs"`
	MaxWorkers      uint64          `json:"maxWorkers"`
	Thresholds      ThresholdsJSON  `json:"thresholds"`
	StopOnFail      bool            `json:"stopOnFail"`
	Targets         []TargetSummary `json:"targets"`
}

// ThresholdsJSON are the thresholds in the report.
type ThresholdsJSON struct {
	MaxP95Ms            float64 `json:"maxP95Ms"`            // 0: not checked
	MaxErrorRatePercent float64 `json:"maxErrorRatePercent"` // negative: not checked
}

// TargetSummary is a target in the report.
type TargetSummary struct {
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Headers []string `json:"headers,omitempty"` // names only
}

func summarize(p Plan) PlanSummary {
	s := PlanSummary{
		RatesRps: p.Rates, StepSeconds: p.StepDuration.Seconds(), PlannedSeconds: p.Total().Seconds(),
		MaxTotalSeconds: p.maxTotal().Seconds(), TimeoutMs: ms(p.Timeout), MaxWorkers: p.MaxWorkers,
		Thresholds: ThresholdsJSON{MaxP95Ms: ms(p.Thresholds.MaxP95), MaxErrorRatePercent: p.Thresholds.MaxErrorRate},
		StopOnFail: p.StopOnFail,
	}
	for _, t := range p.Targets {
		s.Targets = append(s.Targets, TargetSummary{Method: t.Method, URL: redactURL(t.URL), Headers: headerNames(t.Header)})
	}
	return s
}

// redactURL hides a password in the URL, if any.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// Passed reports whether every planned step ran and met the thresholds.
func (r Report) Passed() bool {
	if r.Interrupted || r.StoppedOnFail || len(r.Steps) == 0 || len(r.Steps) < len(r.Plan.RatesRps) {
		return false
	}
	for _, s := range r.Steps {
		if !s.Verdict.Pass {
			return false
		}
	}
	return true
}

// Breaches says which steps failed and why, one line each.
func (r Report) Breaches() []string {
	var out []string
	for _, s := range r.Steps {
		if !s.Verdict.Pass {
			out = append(out, fmt.Sprintf("step %d (%g rps): %s", s.Step, s.OfferedRps, strings.Join(s.Verdict.Breaches, "; ")))
		}
	}
	return out
}

// Table writes one row per step, then a line for steps that did not run.
func (r Report) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tOFFERED/s\tREQS\tTOTAL/s\tOK/s\tP50ms\tP95ms\tP99ms\tOK%\tERRORS\tVERDICT")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%d\t%g\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f%%\t%s\t%s\n",
			s.Step, s.OfferedRps, s.Requests, s.TotalRps, s.AchievedRps, s.P50Ms, s.P95Ms, s.P99Ms,
			100*s.SuccessRatio, FormatErrors(s.Errors), verdictText(s))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if note := r.notRun(); note != "" {
		_, err := fmt.Fprintln(w, note)
		return err
	}
	return nil
}

func verdictText(s StepResult) string {
	v := "pass"
	if !s.Verdict.Pass {
		v = "FAIL: " + strings.Join(s.Verdict.Breaches, "; ")
	}
	if s.Interrupted {
		v += " (interrupted)"
	}
	return v
}

// notRun says why the planned steps after the last row did not run, or "".
func (r Report) notRun() string {
	ran, planned := len(r.Steps), len(r.Plan.RatesRps)
	left := planned - ran
	switch {
	case r.Interrupted && ran > 0 && r.Steps[ran-1].Interrupted:
		return fmt.Sprintf("interrupted during step %d of %d: its figures cover the part that ran", ran, planned)
	case r.Interrupted:
		return fmt.Sprintf("interrupted before step %d of %d", ran+1, planned)
	case r.StoppedOnFail && left > 0:
		return fmt.Sprintf("stopped on fail after step %d: %d step(s) not run", len(r.Steps), left)
	}
	return ""
}
