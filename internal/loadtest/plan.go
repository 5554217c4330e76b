// Package loadtest drives a bounded, stepped HTTP load against the WordPress site and
// measures what each step achieved, on vegeta's attacker.
//
// It is bounded by construction: Run refuses a plan whose rate, step count, step length,
// total length, concurrency or timeout is outside the limits below, because a load test
// that runs away is an outage of our own making (and a bill). It never uses vegeta's
// "infinite rate" (a zero pacer). Where it may aim is the caller's business: CheckHost is
// the guard the command runs before anything is sent; a benchmark aiming at a local server
// does not need it.
package loadtest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Hard limits of a plan. They are far above what the site should be asked to take in a
// hands-on, and low enough that a typo (10000 for 100, 1h for 1m) is refused, not obeyed.
const (
	MaxRate         = 5000.0 // requests per second, per step
	MaxSteps        = 50
	MinStepDuration = time.Second
	MaxStepDuration = 10 * time.Minute
	DefaultMaxTotal = 30 * time.Minute // the planned total allowed when Plan.MaxTotal is 0
	HardMaxTotal    = 2 * time.Hour    // the most Plan.MaxTotal may raise it to
	MinWorkers      = 1
	MaxMaxWorkers   = 2000
	MinTimeout      = 100 * time.Millisecond
	MaxTimeout      = 60 * time.Second
)

// Target is one request the attack sends, in turn with the others.
type Target struct {
	Method string
	URL    string
	// Header is sent with every request to this target (for example a logged-in Cookie).
	// It is never written to the report: only its names are.
	Header http.Header
}

// Plan is a ramp of steps, each a constant rate for StepDuration, against Targets taken
// round-robin.
type Plan struct {
	Rates        []float64 // offered requests per second, one per step
	StepDuration time.Duration
	Timeout      time.Duration // per request, until the body is read
	// MaxWorkers caps the requests in flight: when the site slows down, the attack sends
	// fewer requests than offered rather than piling up connections.
	MaxWorkers uint64
	// MaxTotal is the longest the plan may last in all (0: DefaultMaxTotal, at most HardMaxTotal).
	MaxTotal   time.Duration
	Targets    []Target
	Thresholds Thresholds
	// StopOnFail ends the ramp after the first step that breaches the thresholds: the next
	// steps would only push harder on a site that is already past its capacity.
	StopOnFail bool
}

// Ramp returns the rates start, start+step, ... for steps steps.
func Ramp(start, step float64, steps int) []float64 {
	rates := make([]float64, 0, max(steps, 0))
	for i := range steps {
		rates = append(rates, start+float64(i)*step)
	}
	return rates
}

// Total is the planned length of the attack, without the wait for the last responses.
func (p Plan) Total() time.Duration {
	return time.Duration(len(p.Rates)) * p.StepDuration
}

// maxTotal is the total the plan is allowed.
func (p Plan) maxTotal() time.Duration {
	if p.MaxTotal == 0 {
		return DefaultMaxTotal
	}
	return p.MaxTotal
}

// Validate says why the plan is out of bounds, or returns nil. Run calls it first, so a
// plan it refuses sends nothing.
func (p Plan) Validate() error {
	return errors.Join(p.validateSteps(), p.validateRates(), p.validateClient(), p.validateTargets(), p.Thresholds.validate())
}

func (p Plan) validateSteps() error {
	switch {
	case len(p.Rates) == 0:
		return errors.New("the plan has no steps")
	case len(p.Rates) > MaxSteps:
		return fmt.Errorf("%d steps is more than the limit of %d", len(p.Rates), MaxSteps)
	case p.StepDuration < MinStepDuration || p.StepDuration > MaxStepDuration:
		return fmt.Errorf("step duration %v is outside %v..%v", p.StepDuration, MinStepDuration, MaxStepDuration)
	case p.MaxTotal < 0 || p.MaxTotal > HardMaxTotal:
		return fmt.Errorf("total limit %v is outside 0..%v", p.MaxTotal, HardMaxTotal)
	case p.Total() > p.maxTotal():
		return fmt.Errorf("planned duration %v (%d steps × %v) is over the limit of %v (it may be raised up to %v)",
			p.Total(), len(p.Rates), p.StepDuration, p.maxTotal(), HardMaxTotal)
	}
	return nil
}

// validateRates refuses zero, negative, infinite and NaN rates (vegeta reads a zero rate
// as "as fast as possible"), rates over MaxRate, and rates so low that a step would send
// nothing.
func (p Plan) validateRates() error {
	for i, r := range p.Rates {
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0) || r <= 0:
			return fmt.Errorf("step %d: rate %v rps is not a positive number", i+1, r)
		case r > MaxRate:
			return fmt.Errorf("step %d: rate %v rps is over the limit of %v rps", i+1, r, MaxRate)
		case r*p.StepDuration.Seconds() < 1:
			return fmt.Errorf("step %d: rate %v rps for %v would not send a single request", i+1, r, p.StepDuration)
		}
	}
	return nil
}

func (p Plan) validateClient() error {
	switch {
	case p.MaxWorkers < MinWorkers || p.MaxWorkers > MaxMaxWorkers:
		return fmt.Errorf("max workers %d is outside %d..%d", p.MaxWorkers, MinWorkers, MaxMaxWorkers)
	case p.Timeout < MinTimeout || p.Timeout > MaxTimeout:
		return fmt.Errorf("request timeout %v is outside %v..%v", p.Timeout, MinTimeout, MaxTimeout)
	}
	return nil
}

func (p Plan) validateTargets() error {
	if len(p.Targets) == 0 {
		return errors.New("the plan has no targets")
	}
	for _, t := range p.Targets {
		if !validToken(t.Method) {
			return fmt.Errorf("method %q is not an HTTP method", t.Method)
		}
		if _, err := ParseSiteURL(t.URL); err != nil {
			return err
		}
	}
	return nil
}

// ParseSiteURL parses an absolute http or https URL with a host.
func ParseSiteURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("URL %q is not an absolute http(s) URL", raw)
	}
	return u, nil
}

// validToken reports whether s is a non-empty RFC 9110 token (a method or a header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}
