package loadtest

// Thresholds turn a step's measurements into pass or fail, so that a load test can gate a
// change (exit code) and find the capacity (StopOnFail) without a human reading tables.

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// NoErrorLimit as Thresholds.MaxErrorRate leaves the error rate unchecked.
const NoErrorLimit = -1.0

// Thresholds are what every step must meet.
type Thresholds struct {
	// MaxP95 is the slowest the 95th percentile latency may be (0: not checked).
	MaxP95 time.Duration
	// MaxErrorRate is the percentage of requests allowed to fail, by a transport error or a
	// status outside 2xx/3xx. 0 allows none; negative (NoErrorLimit) does not check.
	MaxErrorRate float64
}

// Verdict is a step's outcome against the thresholds.
type Verdict struct {
	Pass bool `json:"pass"`
	// Breaches say which threshold the step broke and by how much.
	Breaches []string `json:"breaches,omitempty"`
}

func (t Thresholds) validate() error {
	switch {
	case t.MaxP95 < 0:
		return fmt.Errorf("p95 threshold %v is negative", t.MaxP95)
	case math.IsNaN(t.MaxErrorRate) || t.MaxErrorRate > 100:
		return errors.New("error-rate threshold must be a percentage up to 100 (negative: not checked)")
	}
	return nil
}

// Check judges one step. A step that got no response at all fails: nothing shows it met
// anything.
func (t Thresholds) Check(s StepResult) Verdict {
	if s.Requests == 0 {
		return Verdict{Breaches: []string{"no responses"}}
	}
	var breaches []string
	if p95 := msDuration(s.P95Ms); t.MaxP95 > 0 && p95 > t.MaxP95 {
		breaches = append(breaches, fmt.Sprintf("p95 %v > max %v", p95.Round(time.Millisecond), t.MaxP95))
	}
	if rate := errorRate(s); t.MaxErrorRate >= 0 && rate > t.MaxErrorRate {
		breaches = append(breaches, fmt.Sprintf("error rate %.2f%% > max %g%%", rate, t.MaxErrorRate))
	}
	return Verdict{Pass: len(breaches) == 0, Breaches: breaches}
}

func msDuration(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}
