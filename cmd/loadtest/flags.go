package main

// The command's flags and how they become a plan.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/example/scalable-wordpress/internal/loadtest"
	"github.com/example/scalable-wordpress/internal/stack"
)

// options are the parsed flags.
type options struct {
	url, stack, cwd, method, report string
	allowHosts, paths, headers      stringList
	rates                           string
	start, step                     float64
	steps                           int
	stepDuration, timeout, maxTotal time.Duration
	maxWorkers                      uint64
	maxP95                          time.Duration
	maxErrorRate                    float64
	stopOnFail                      bool
	set                             map[string]bool // flags given on the command line
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

const usageText = `Usage: go run ./cmd/loadtest (--url URL | --stack NAME) [flags]

Sends a bounded ramp of constant-rate steps to the stack's WordPress site and prints, per
step, the rates, latencies, success and errors by kind. Only the stack's own site host is
attacked unless --allow-host names another. Exit code: 0 every step met the thresholds,
1 a step breached them (or the run was interrupted), 2 usage error or refusal.

`

// parseFlags reads args; a returned error has been explained on stderr already when it is
// flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "", "site URL to load (default: the stack's "+stack.KeySiteURL+" output)")
	fs.StringVar(&o.stack, "stack", "", "Pulumi stack whose "+stack.KeySiteURL+" output is the target (default with --url alone: the selected stack, to check the host)")
	fs.StringVar(&o.cwd, "cwd", ".", "project folder (holds Pulumi.yaml), where the stack's "+stack.KeySiteURL+" is read")
	fs.Var(&o.allowHosts, "allow-host", "also allow this exact host, which is not the stack's site host (repeatable)")
	fs.Var(&o.paths, "path", "path to request, round-robin with the others (repeatable; default /)")
	fs.Var(&o.headers, "header", `header "Name: value" sent with every request, e.g. a logged-in Cookie (repeatable; never written to the report)`)
	fs.StringVar(&o.method, "method", http.MethodGet, "HTTP method")
	fs.StringVar(&o.rates, "rates", "", "comma-separated rates of the steps, requests/s (instead of --start/--step/--steps)")
	fs.Float64Var(&o.start, "start", 5, "rate of the first step, requests/s")
	fs.Float64Var(&o.step, "step", 5, "rate added at each step, requests/s")
	fs.IntVar(&o.steps, "steps", 4, fmt.Sprintf("number of steps (at most %d)", loadtest.MaxSteps))
	fs.DurationVar(&o.stepDuration, "step-duration", 30*time.Second, fmt.Sprintf("length of each step (%v..%v)", loadtest.MinStepDuration, loadtest.MaxStepDuration))
	fs.Uint64Var(&o.maxWorkers, "max-workers", 64, fmt.Sprintf("most requests in flight at once (%d..%d)", loadtest.MinWorkers, loadtest.MaxMaxWorkers))
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, fmt.Sprintf("per-request timeout (%v..%v)", loadtest.MinTimeout, loadtest.MaxTimeout))
	fs.DurationVar(&o.maxTotal, "max-total", loadtest.DefaultMaxTotal, fmt.Sprintf("longest total planned duration allowed (at most %v)", loadtest.HardMaxTotal))
	fs.DurationVar(&o.maxP95, "max-p95", 0, "fail a step whose p95 latency is above this (0: not checked)")
	fs.Float64Var(&o.maxErrorRate, "max-error-rate", 1, "fail a step with more than this percentage of failed requests (negative: not checked)")
	fs.BoolVar(&o.stopOnFail, "stop-on-fail", false, "stop the ramp after the first step that fails a threshold")
	fs.StringVar(&o.report, "report", "", "write the JSON report to this file")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	o.method = strings.ToUpper(o.method)
	return o, checkOptions(o)
}

// checkOptions catches what the plan's validation cannot: missing or conflicting flags.
func checkOptions(o options) error {
	switch {
	case o.url == "" && o.stack == "":
		return errors.New("say what to load: --url URL or --stack NAME")
	case o.rates != "" && (o.set["start"] || o.set["step"] || o.set["steps"]):
		return errors.New("--rates and --start/--step/--steps are alternatives: give one or the other")
	}
	return nil
}

// stepRates are the steps' rates, from --rates or the ramp flags.
func (o options) stepRates() ([]float64, error) {
	if o.rates == "" {
		if o.steps < 0 || o.steps > loadtest.MaxSteps {
			return nil, fmt.Errorf("%d steps is outside 1..%d", o.steps, loadtest.MaxSteps)
		}
		return loadtest.Ramp(o.start, o.step, o.steps), nil
	}
	var rates []float64
	for _, f := range strings.Split(o.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("--rates: %q is not a number of requests per second", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// header is the --header flags as one header.
func (o options) header() (http.Header, error) {
	h := http.Header{}
	for _, s := range o.headers {
		name, value, err := loadtest.ParseHeader(s)
		if err != nil {
			return nil, err
		}
		h.Add(name, value)
	}
	return h, nil
}

// plan is the load plan against the site at base.
func (o options) plan(base string) (loadtest.Plan, error) {
	rates, err := o.stepRates()
	if err != nil {
		return loadtest.Plan{}, err
	}
	h, err := o.header()
	if err != nil {
		return loadtest.Plan{}, err
	}
	targets, err := loadtest.Targets(base, o.method, o.paths, h)
	if err != nil {
		return loadtest.Plan{}, err
	}
	p := loadtest.Plan{
		Rates: rates, StepDuration: o.stepDuration, Timeout: o.timeout, MaxWorkers: o.maxWorkers,
		MaxTotal: o.maxTotal, Targets: targets, StopOnFail: o.stopOnFail,
		Thresholds: loadtest.Thresholds{MaxP95: o.maxP95, MaxErrorRate: o.maxErrorRate},
	}
	return p, p.Validate()
}
