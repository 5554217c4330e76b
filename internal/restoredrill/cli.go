package restoredrill

// The command line (`go run ./cmd/drill restore`): flags, stack outputs, confirmation, the
// run, the summary and the JSON report. cmd/drill wires it to the real AWS clients, the
// pulumi CLI and the terminal.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/drill"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Exit codes, as the availability drill's.
const (
	ExitPassed = 0 // restored, every target met
	ExitFailed = 1 // restored, but a target was missed or the canary is missing
	ExitError  = 2 // could not run: bad input, AWS or pulumi error, timeout, refused, interrupted
)

// Env is everything the command needs from the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Run            stack.Runner
	AWS            func(ctx context.Context, region string) (RDS, SSM, error)
	HTTP           *http.Client
	Clock          clock.Clock
}

// Main runs the restore drill with args (after "restore") and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("drill restore", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	o := DefaultOptions()
	var stackRef, dir, project, siteURL, region, db, from, reportPath string
	fs.StringVar(&stackRef, "stack", "", "Pulumi stack to drill (required): its outputs name the database, the site and the settings parameter")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&project, "project", "", "project name the database is tagged with (default: name in Pulumi.yaml)")
	fs.StringVar(&siteURL, "url", "", "site URL (default: output "+stack.KeySiteURL+")")
	fs.StringVar(&region, "region", "", "AWS region (default: output "+stack.KeyRegion+")")
	fs.StringVar(&db, "db", "", "RDS instance to restore from (default: output "+stack.KeyDBIdentifier+")")
	fs.StringVar(&from, "from", "latest", "what to restore: latest, an RFC 3339 UTC time, snapshot (the newest) or snapshot:<id>")
	fs.BoolVar(&o.Scratch, "scratch", false, "restore to a scratch instance beside the database and delete it again; the stack is not touched")
	fs.StringVar(&o.Label, "label", "", "config dbRestore.id, 1-20 of a-z0-9- (default: drill-<UTC time>)")
	fs.DurationVar(&o.RPOTarget, "rpo-target", 0, "fail if the RPO is longer (0: no target)")
	fs.DurationVar(&o.RTOTarget, "rto-target", 0, "fail if the RTO is longer (0: no target)")
	fs.StringVar(&o.CanaryURL, "canary-url", "", "a page published before the drill that the restored site must still serve (stack mode)")
	fs.StringVar(&o.CanaryText, "canary-text", "", "text the canary page must contain")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "time between polls")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up each wait after this long")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "timeout of one HTTP request")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check and print the plan and the RPO now; change nothing")
	fs.BoolVar(&o.Yes, "yes", false, "do not ask before acting")
	fs.StringVar(&reportPath, "report", "restore-drill-report.json", "where to write the JSON report")
	if err := fs.Parse(args); err != nil {
		return ExitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "drill restore: "+format+"\n", a...)
		return ExitError
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if stackRef == "" {
		return fail("pass --stack: the stack whose database to restore")
	}
	var err error
	if o.From, err = ParseFrom(from); err != nil {
		return fail("%v", err)
	}
	var so stack.Outputs
	if err := stack.Read(ctx, env.Run, dir, stackRef, &so); err != nil {
		return fail("%v", err)
	}
	t := TargetFrom(so)
	t.StackRef, t.Stack = stackRef, stackRef[strings.LastIndex(stackRef, "/")+1:]
	for dst, v := range map[*string]string{&t.SiteURL: siteURL, &t.Region: region, &t.DBIdentifier: db} {
		if v != "" {
			*dst = v
		}
	}
	if t.Project = project; t.Project == "" {
		t.Project = stack.ProjectName(dir)
	}
	d := &Drill{Target: t, Opts: o, Pulumi: env.Run, Dir: dir, HTTP: env.HTTP, Clock: env.Clock, Out: env.Stdout,
		Confirm: func(string) (bool, error) { return drill.Confirm(env.Stdin, env.Stderr, "the restore drill") }}
	if err := d.Validate(); err != nil {
		return fail("%v", err)
	}
	if d.RDS, d.SSM, err = env.AWS(ctx, t.Region); err != nil {
		return fail("AWS configuration for %s: %v", t.Region, err)
	}
	report, runErr := d.Run(ctx)
	fmt.Fprintln(env.Stdout)
	WriteSummary(env.Stdout, report, runErr)
	if err := drill.WriteReport(reportPath, report); err != nil {
		return fail("write report: %v", err)
	}
	fmt.Fprintf(env.Stdout, "report: %s\n", reportPath)
	return ExitCode(report, runErr)
}

// ExitCode decides the command's exit status from the report and the run's error.
func ExitCode(r *Report, err error) int {
	switch {
	case err != nil:
		return ExitError
	case r == nil || !r.Passed:
		return ExitFailed
	}
	return ExitPassed
}

// WriteSummary prints the phases, RPO and RTO, then the verdict.
func WriteSummary(w io.Writer, r *Report, err error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tSECONDS\tDETAIL")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\n", p.Name, p.Seconds, p.Detail)
	}
	_ = tw.Flush()
	if r.Requested != "" {
		fmt.Fprintf(w, "RPO %s (newest restorable point %s; newest snapshot %s %s)\n", secs(r.RPOSeconds), orDash(r.LatestRestorable), orDash(r.NewestSnapshot), r.NewestSnapshotTime)
	}
	if r.RTOSeconds > 0 {
		what := "the site served from the restored database"
		if r.Mode == "scratch" {
			what = "the scratch instance was available (no server switched: a lower bound)"
		}
		fmt.Fprintf(w, "RTO %s (request at %s until %s)\n", secs(r.RTOSeconds), r.Requested, what)
	}
	if r.Cleanup != "" {
		fmt.Fprintf(w, "cleanup: %s\n", r.Cleanup)
	}
	switch {
	case r.Interrupted:
		fmt.Fprintf(w, "INTERRUPTED: %v\n", err)
	case err != nil:
		fmt.Fprintf(w, "ERROR: %v\n", err)
	case r.DryRun:
		fmt.Fprintln(w, "DRY RUN: nothing was changed")
	case r.Passed:
		fmt.Fprintln(w, "PASSED: restored, every target met")
	default:
		fmt.Fprintf(w, "FAILED:\n  %s\n", strings.Join(r.Violations, "\n  "))
	}
}
