package loadtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func sampleReport() Report {
	p := validPlan("https://user:hunter2@www.example.com/")
	p.Rates = []float64{5, 10, 20}
	p.Targets[0].Header = http.Header{"Cookie": {"wordpress_logged_in=topsecret"}}
	p.Thresholds = Thresholds{MaxP95: 800 * time.Millisecond, MaxErrorRate: 1}
	ok := StepResult{Step: 1, OfferedRps: 5, Requests: 150, Successes: 150, TotalRps: 5, AchievedRps: 5,
		P50Ms: 40, P95Ms: 90, P99Ms: 120, MaxMs: 130, SuccessRatio: 1, StatusCodes: map[string]int{"200": 150}, Errors: map[string]int{}}
	bad := StepResult{Step: 2, OfferedRps: 10, Requests: 300, Successes: 280, TotalRps: 10, AchievedRps: 9.33,
		P50Ms: 300, P95Ms: 912, P99Ms: 2000, MaxMs: 10000, SuccessRatio: 0.9333, ErrorRatePercent: 6.67,
		StatusCodes: map[string]int{"200": 280, "503": 12, "0": 8}, Errors: map[string]int{"503": 12, KindTimeout: 4, KindRefused: 1, KindReset: 3}}
	ok.Verdict, bad.Verdict = p.Thresholds.Check(ok), p.Thresholds.Check(bad)
	return Report{Plan: summarize(p), Steps: []StepResult{ok, bad}, StoppedOnFail: true}
}

func TestReportJSONHasStableFieldNamesAndNoSecrets(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Plan  map[string]any   `json:"plan"`
		Steps []map[string]any `json:"steps"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ratesRps", "stepSeconds", "plannedSeconds", "maxTotalSeconds", "timeoutMs", "maxWorkers", "thresholds", "stopOnFail", "targets"} {
		if _, ok := doc.Plan[k]; !ok {
			t.Errorf("plan has no %q: %v", k, doc.Plan)
		}
	}
	for _, k := range []string{"step", "offeredRps", "plannedSeconds", "durationSeconds", "requests", "successes", "sentRps", "totalRps",
		"achievedRps", "meanMs", "p50Ms", "p95Ms", "p99Ms", "maxMs", "successRatio", "errorRatePercent", "statusCodes", "errors",
		"interrupted", "verdict"} {
		if _, ok := doc.Steps[1][k]; !ok {
			t.Errorf("step has no %q: %v", k, doc.Steps[1])
		}
	}
	if !bytes.Contains(b, []byte(`"stoppedOnFail":true`)) || !bytes.Contains(b, []byte(`"interrupted":false`)) {
		t.Errorf("report has no stoppedOnFail or interrupted: %s", b)
	}
	if v, _ := doc.Steps[1]["verdict"].(map[string]any); v["pass"] != false || len(v["breaches"].([]any)) != 2 {
		t.Errorf("step 2 verdict = %v, want failed with 2 breaches", v)
	}
	if bytes.Contains(b, []byte("topsecret")) || bytes.Contains(b, []byte("hunter2")) || !bytes.Contains(b, []byte(`"headers":["Cookie"]`)) {
		t.Errorf("the report must name headers, never show their values or a URL's password: %s", b)
	}
}

func TestTableHasARowPerStepWithErrorsAndVerdict(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := sampleReport().Table(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want a header, 2 steps and the stop note:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"OFFERED/s", "TOTAL/s", "OK/s", "P50ms", "P95ms", "P99ms", "OK%", "ERRORS"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header %q has no %s", lines[0], want)
		}
	}
	if f := strings.Fields(lines[1]); f[0] != "1" || f[1] != "5" || f[4] != "5.0" || f[6] != "90.0" || f[8] != "100.00%" || f[9] != "-" || f[10] != "pass" {
		t.Errorf("step 1 row = %q", lines[1])
	}
	for _, want := range []string{"9.3", "912.0", "93.33%", "503:12 timeout:4 refused:1 reset:3", "FAIL: p95 912ms > max 800ms; error rate 6.67% > max 1%"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("step 2 row %q has no %q", lines[2], want)
		}
	}
	if !strings.Contains(lines[3], "stopped on fail after step 2: 1 step(s) not run") {
		t.Errorf("last line %q does not say the ramp stopped", lines[3])
	}
}

func TestReportPassesOnlyWhenEveryPlannedStepPassed(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	if r.Passed() || len(r.Breaches()) != 1 || !strings.HasPrefix(r.Breaches()[0], "step 2 (10 rps): p95") {
		t.Errorf("failing report: passed %v, breaches %q", r.Passed(), r.Breaches())
	}
	r.Steps, r.StoppedOnFail = r.Steps[:1], false
	if r.Passed() {
		t.Error("a report with 1 of 3 planned steps passed")
	}
	r.Plan.RatesRps = r.Plan.RatesRps[:1]
	if !r.Passed() || len(r.Breaches()) != 0 {
		t.Errorf("a complete passing report: passed %v, breaches %q", r.Passed(), r.Breaches())
	}
	r.Interrupted = true
	if r.Passed() {
		t.Error("an interrupted report passed")
	}
}
