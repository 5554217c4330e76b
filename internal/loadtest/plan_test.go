package loadtest

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// validPlan is a small plan inside every limit, against url.
func validPlan(url string) Plan {
	return Plan{
		Rates: []float64{5}, StepDuration: time.Second, Timeout: time.Second, MaxWorkers: 8,
		Targets:    []Target{{Method: http.MethodGet, URL: url}},
		Thresholds: Thresholds{MaxErrorRate: NoErrorLimit},
	}
}

func TestValidateRefusesPlansOutsideTheLimits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*Plan)
		want string // in the error
	}{
		{"rate zero (vegeta's unlimited)", func(p *Plan) { p.Rates = []float64{0} }, "not a positive number"},
		{"negative rate", func(p *Plan) { p.Rates = []float64{5, -1} }, "step 2"},
		{"infinite rate", func(p *Plan) { p.Rates = []float64{math.Inf(1)} }, "not a positive number"},
		{"NaN rate", func(p *Plan) { p.Rates = []float64{math.NaN()} }, "not a positive number"},
		{"rate over the limit", func(p *Plan) { p.Rates = []float64{10000} }, "over the limit of 5000"},
		{"rate that sends nothing in a step", func(p *Plan) { p.Rates = []float64{0.5} }, "not send a single request"},
		{"no steps", func(p *Plan) { p.Rates = nil }, "no steps"},
		{"100 steps", func(p *Plan) { p.Rates = Ramp(1, 1, 100) }, "more than the limit of 50"},
		{"step of 1h", func(p *Plan) { p.StepDuration = time.Hour }, "outside 1s..10m0s"},
		{"step of 500ms", func(p *Plan) { p.StepDuration = 500 * time.Millisecond }, "outside 1s..10m0s"},
		{"total over 30m", func(p *Plan) { p.Rates, p.StepDuration = Ramp(1, 1, 40), time.Minute }, "over the limit of 30m0s"},
		{"total over a raised limit", func(p *Plan) {
			p.Rates, p.StepDuration, p.MaxTotal = Ramp(1, 1, 50), 3*time.Minute, time.Hour
		}, "over the limit of 1h0m0s"},
		{"limit raised past 2h", func(p *Plan) { p.MaxTotal = 3 * time.Hour }, "outside 0..2h0m0s"},
		{"zero workers", func(p *Plan) { p.MaxWorkers = 0 }, "max workers 0"},
		{"too many workers", func(p *Plan) { p.MaxWorkers = 5000 }, "max workers 5000"},
		{"timeout too short", func(p *Plan) { p.Timeout = 50 * time.Millisecond }, "request timeout 50ms"},
		{"timeout too long", func(p *Plan) { p.Timeout = 2 * time.Minute }, "request timeout 2m0s"},
		{"no targets", func(p *Plan) { p.Targets = nil }, "no targets"},
		{"ftp target", func(p *Plan) { p.Targets[0].URL = "ftp://127.0.0.1/" }, "not an absolute http(s) URL"},
		{"relative target", func(p *Plan) { p.Targets[0].URL = "/wp-admin/" }, "not an absolute http(s) URL"},
		{"bad method", func(p *Plan) { p.Targets[0].Method = "GET /" }, "not an HTTP method"},
		{"negative p95", func(p *Plan) { p.Thresholds.MaxP95 = -time.Second }, "p95 threshold"},
		{"error rate over 100%", func(p *Plan) { p.Thresholds.MaxErrorRate = 150 }, "percentage up to 100"},
	}
	for _, c := range cases {
		p := validPlan("http://127.0.0.1:1/")
		c.edit(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestValidateAcceptsPlansAtTheLimits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*Plan)
	}{
		{"as is", func(*Plan) {}},
		{"5000 rps", func(p *Plan) { p.Rates = []float64{MaxRate} }},
		{"fractional rate", func(p *Plan) { p.Rates, p.StepDuration = []float64{0.5}, 2*time.Second }},
		{"30m in all", func(p *Plan) { p.Rates, p.StepDuration = Ramp(1, 1, 30), time.Minute }},
		{"2h with a raised limit", func(p *Plan) {
			p.Rates, p.StepDuration, p.MaxTotal = Ramp(1, 1, 12), 10*time.Minute, HardMaxTotal
		}},
		{"1 and 2000 workers", func(p *Plan) { p.MaxWorkers = MaxMaxWorkers }},
		{"timeouts at the bounds", func(p *Plan) { p.Timeout = MinTimeout }},
		{"no error allowed", func(p *Plan) { p.Thresholds.MaxErrorRate = 0 }},
	}
	for _, c := range cases {
		p := validPlan("https://www.example.com/")
		c.edit(&p)
		if err := p.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v, want nil", c.name, err)
		}
	}
}

func TestRunSendsNothingForAnInvalidPlan(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t, http.StatusOK, 0)
	for _, p := range []Plan{
		func() Plan { p := validPlan(srv.URL); p.Rates = []float64{0}; return p }(),
		func() Plan { p := validPlan(srv.URL); p.Rates = []float64{10000}; return p }(),
		func() Plan { p := validPlan(srv.URL); p.Rates = Ramp(5, 0, 100); return p }(),
		func() Plan { p := validPlan(srv.URL); p.StepDuration = time.Hour; return p }(),
		func() Plan { p := validPlan(srv.URL); p.MaxWorkers = 0; return p }(),
	} {
		if _, err := Run(context.Background(), p, nil); err == nil {
			t.Errorf("Run(%v rps, %d steps, %v, %d workers) ran, want it refused", p.Rates[:1], len(p.Rates), p.StepDuration, p.MaxWorkers)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests from refused plans, want 0", n)
	}
}

func TestRampStepsFromStart(t *testing.T) {
	t.Parallel()
	got := Ramp(5, 10, 3)
	want := []float64{5, 15, 25}
	if len(got) != len(want) {
		t.Fatalf("Ramp(5, 10, 3) = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Ramp(5, 10, 3) = %v, want %v", got, want)
		}
	}
	if got := Ramp(5, 5, 0); len(got) != 0 {
		t.Errorf("Ramp(5, 5, 0) = %v, want no step", got)
	}
}

func TestPacerKeepsTheRateAndIsNeverUnlimited(t *testing.T) {
	t.Parallel()
	for _, rps := range []float64{0.002, 0.5, 1, 12.5, 50, MaxRate} {
		p := pacer(rps)
		if p.Freq <= 0 || p.Per <= 0 {
			t.Errorf("pacer(%v) = %v: a zero pacer is vegeta's unlimited rate", rps, p)
		}
		if got := p.Rate(0); math.Abs(got-rps) > rps*0.001 {
			t.Errorf("pacer(%v) paces %v rps", rps, got)
		}
	}
}
