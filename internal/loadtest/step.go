package loadtest

// One step's measurements: vegeta's Metrics for the latencies and rates, plus the counts
// vegeta does not keep (successes, errors by kind), and the live progress line.

import (
	"fmt"
	"io"
	"maps"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// StepResult is what one step of the ramp measured. Latencies count every response,
// failures included (a timeout counts as the time it took to give up), as vegeta does.
type StepResult struct {
	Step           int     `json:"step"` // 1-based
	OfferedRps     float64 `json:"offeredRps"`
	PlannedSeconds float64 `json:"plannedSeconds"`
	// DurationSeconds runs from the first request sent to the last response received.
	DurationSeconds float64 `json:"durationSeconds"`
	Requests        uint64  `json:"requests"`
	Successes       uint64  `json:"successes"` // 2xx and 3xx
	// SentRps is the rate requests actually went out at: below OfferedRps when MaxWorkers
	// were all waiting on a slow site.
	SentRps float64 `json:"sentRps"`
	// TotalRps is responses of any kind per second, AchievedRps successful ones (vegeta's
	// "throughput"), both over DurationSeconds.
	TotalRps         float64        `json:"totalRps"`
	AchievedRps      float64        `json:"achievedRps"`
	MeanMs           float64        `json:"meanMs"`
	P50Ms            float64        `json:"p50Ms"`
	P95Ms            float64        `json:"p95Ms"`
	P99Ms            float64        `json:"p99Ms"`
	MaxMs            float64        `json:"maxMs"`
	SuccessRatio     float64        `json:"successRatio"` // 0..1
	ErrorRatePercent float64        `json:"errorRatePercent"`
	StatusCodes      map[string]int `json:"statusCodes"` // "0" is a transport error
	Errors           map[string]int `json:"errors"`      // by ErrorKind
	// Interrupted is set when the run was cancelled during this step: its figures cover the
	// part that ran.
	Interrupted bool    `json:"interrupted"`
	Verdict     Verdict `json:"verdict"`
}

// stepStats accumulates one step's results as they arrive, on the collecting goroutine only.
type stepStats struct {
	step, steps int
	offered     float64
	planned     time.Duration
	started     time.Time
	metrics     vegeta.Metrics
	successes   uint64
	errors      map[string]int
}

func newStepStats(step, steps int, offered float64, planned time.Duration) *stepStats {
	return &stepStats{step: step, steps: steps, offered: offered, planned: planned,
		started: time.Now(), errors: map[string]int{}}
}

func (s *stepStats) add(r *vegeta.Result) {
	s.metrics.Add(r)
	if kind := ErrorKind(r.Code, r.Error); kind != "" {
		s.errors[kind]++
	} else {
		s.successes++
	}
}

func (s *stepStats) failures() int {
	n := 0
	for _, c := range s.errors {
		n += c
	}
	return n
}

// progress prints one line about the step so far.
func (s *stepStats) progress(w io.Writer) {
	elapsed := time.Since(s.started)
	fmt.Fprintf(w, "step %d/%d  %3.0fs/%.0fs  offered %g/s  achieved %.1f/s  p95 %s  errors %d of %d\n",
		s.step, s.steps, elapsed.Seconds(), s.planned.Seconds(), s.offered,
		perSecond(s.successes, elapsed), formatMs(s.metrics.Latencies.Quantile(0.95)),
		s.failures(), s.metrics.Requests)
}

// result closes the metrics and returns the step's figures.
func (s *stepStats) result(interrupted bool) StepResult {
	m := &s.metrics
	m.Close()
	window := m.Duration + m.Wait
	r := StepResult{
		Step: s.step, OfferedRps: s.offered, PlannedSeconds: s.planned.Seconds(),
		DurationSeconds: round(window.Seconds(), 3),
		Requests:        m.Requests, Successes: s.successes,
		SentRps:     perSecond(m.Requests, m.Duration),
		TotalRps:    perSecond(m.Requests, window),
		AchievedRps: perSecond(s.successes, window),
		MeanMs:      ms(m.Latencies.Mean), P50Ms: ms(m.Latencies.P50), P95Ms: ms(m.Latencies.P95),
		P99Ms: ms(m.Latencies.P99), MaxMs: ms(m.Latencies.Max),
		StatusCodes: maps.Clone(m.StatusCodes), Errors: maps.Clone(s.errors),
		Interrupted: interrupted,
	}
	if r.StatusCodes == nil {
		r.StatusCodes = map[string]int{}
	}
	if m.Requests > 0 {
		r.SuccessRatio = round(float64(s.successes)/float64(m.Requests), 4)
		r.ErrorRatePercent = round(errorRate(r), 2)
	}
	return r
}

// errorRate is the percentage of the step's requests that failed, unrounded.
func errorRate(s StepResult) float64 {
	if s.Requests == 0 {
		return 0
	}
	return 100 * float64(s.Requests-s.Successes) / float64(s.Requests)
}

// perSecond is n per second over d (to 0.01), or 0 when d is not positive (one request alone).
func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n)/d.Seconds(), 2)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return round(float64(d)/float64(time.Millisecond), 3)
}

// round keeps the report's numbers readable: digits past the measurement's precision are noise.
func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

func formatMs(d time.Duration) string {
	return fmt.Sprintf("%.1fms", ms(d))
}
