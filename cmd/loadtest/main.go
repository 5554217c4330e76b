// Command loadtest sends a bounded ramp of constant-rate steps to the stack's WordPress
// site, shows progress while it runs, then prints one row per step (offered and achieved
// rates, latency percentiles, success, errors by kind) and, with --report, writes them as
// JSON. It refuses any host but the stack's own site (or one named with --allow-host), and
// any plan outside the limits of internal/loadtest, before sending anything.
//
//	go run ./cmd/loadtest --stack dev --rates 5,10,20 --step-duration 1m --max-p95 800ms
//	go run ./cmd/loadtest --url https://www.example.com --path / --path /?p=1 --report load.json
//
// Exit code: 0 every step met the thresholds; 1 a step breached them, or the run was
// interrupted (Ctrl-C still prints and writes what was measured); 2 a usage error or a
// refusal.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/scalable-wordpress/internal/loadtest"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Exit codes.
const (
	exitPass   = 0
	exitFail   = 1
	exitCannot = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stack.Exec))
}

// run is the command with args (without the program name); pulumi runs the Pulumi CLI that
// reads the stack's siteUrl. It returns the exit code.
func run(args []string, stdout, stderr io.Writer, pulumi stack.Runner) int {
	// SIGINT/SIGTERM cancel the attack; what was measured is still reported.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		return cannot(stderr, err)
	}
	t, err := resolveTarget(ctx, o, pulumi)
	if err != nil {
		return cannot(stderr, err)
	}
	plan, err := o.plan(t.base)
	if err != nil {
		return cannot(stderr, err)
	}
	// Opened before the run, so that a bad path fails now, not after the test.
	reportFile, err := createReport(o.report)
	if err != nil {
		return cannot(stderr, err)
	}
	fmt.Fprintf(stderr, "loadtest: %s (allowed by %s), %d step(s), %v planned\n", t.URL, t.AllowedBy, len(plan.Rates), plan.Total())
	rep, err := loadtest.Run(ctx, plan, stderr)
	if err != nil {
		if reportFile != nil {
			_ = reportFile.Close()
		}
		return cannot(stderr, err)
	}
	return finish(rep, t, reportFile, stdout, stderr)
}

// finish prints the table, writes the report and explains the exit code.
func finish(rep loadtest.Report, t target, reportFile *os.File, stdout, stderr io.Writer) int {
	code := exitPass
	if !rep.Passed() {
		code = exitFail
	}
	if err := rep.Table(stdout); err != nil {
		fmt.Fprintf(stderr, "loadtest: print the table: %v\n", err)
	}
	if reportFile != nil {
		if err := writeReport(reportFile, rep, t, code); err != nil {
			return cannot(stderr, err)
		}
	}
	for _, b := range rep.Breaches() {
		fmt.Fprintf(stderr, "loadtest: FAIL %s\n", b)
	}
	if rep.Interrupted {
		fmt.Fprintln(stderr, "loadtest: interrupted: not every step ran, so the thresholds are not shown to hold")
	}
	return code
}

func cannot(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "loadtest: %v\n", err)
	return exitCannot
}

// reportDocument is the JSON report: the target, the run, and the outcome.
type reportDocument struct {
	Target target `json:"target"`
	loadtest.Report
	Passed   bool `json:"passed"`
	ExitCode int  `json:"exitCode"`
}

func createReport(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path) //nolint:gosec // the operator's own --report path
	if err != nil {
		return nil, fmt.Errorf("create the report: %w", err)
	}
	return f, nil
}

func writeReport(f *os.File, rep loadtest.Report, t target, code int) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // breaches read "p95 900ms > max 800ms"
	err := enc.Encode(reportDocument{Target: t, Report: rep, Passed: rep.Passed(), ExitCode: code})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the report %s: %w", f.Name(), err)
	}
	return nil
}
