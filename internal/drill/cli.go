package drill

// The command line: flags, stack outputs, confirmation, the run, the table and the JSON
// report. cmd/drill wires it to the real AWS clients, pulumi CLI and terminal.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/example/scalable-wordpress/internal/stack"
)

// Env is everything the command needs from the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Run            Runner
	// AWS returns the clients for a region.
	AWS   func(ctx context.Context, region string) (Clients, error)
	HTTP  *http.Client
	Clock Clock
}

// Main runs the drill command with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	o := DefaultOptions()
	var (
		stackName, dir, project, siteURL, region, targetGroup, group, instances, db, reportPath string
	)
	fs.StringVar(&stackName, "stack", "", "Pulumi stack: its outputs say what to drill, its name is the tag resources must carry (required)")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&project, "project", "", "project name the resources are tagged with (default: name in Pulumi.yaml)")
	fs.StringVar(&siteURL, "url", "", "site URL to probe (default: output "+stack.KeySiteURL+")")
	fs.StringVar(&region, "region", "", "AWS region (default: output "+stack.KeyRegion+")")
	fs.StringVar(&targetGroup, "target-group", "", "target group ARN (default: output "+stack.KeyTargetGroupARN+")")
	fs.StringVar(&group, "group", "", "the web servers' Auto Scaling group (default: output "+stack.KeyGroup+")")
	fs.StringVar(&instances, "instances", "", "fixed mode: comma-separated web instance IDs (default: output "+stack.KeyWebInstances+")")
	fs.StringVar(&db, "db", "", "RDS instance identifier (default: output "+stack.KeyDBIdentifier+")")
	fs.StringVar(&o.Instance, "instance", "", "web instance to stop or lose (default: the first)")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "time between probes")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "timeout of one probe")
	fs.DurationVar(&o.SlowThreshold, "slow", o.SlowThreshold, "a successful probe slower than this counts as slow")
	fs.IntVar(&o.BaselineProbes, "baseline", o.BaselineProbes, "probes before anything is touched")
	fs.IntVar(&o.SteadyProbes, "steady", o.SteadyProbes, "successes in a row that end an outage")
	fs.DurationVar(&o.PhaseTimeout, "timeout", o.PhaseTimeout, "give up waiting for AWS after this long, per wait")
	fs.DurationVar(&o.AlarmTimeout, "alarm-timeout", o.AlarmTimeout, "how long after the failover the stack's failover alarm may take to fire")
	fs.IntVar(&o.MaxWebFailures, "max-web-failures", o.MaxWebFailures, "fixed mode: failed requests allowed while a server is drained, stopped and started")
	fs.Float64Var(&o.MaxLossPercent, "max-loss-failed-percent", o.MaxLossPercent, "Auto Scaling mode: share of the web phase's requests allowed to fail after losing a server")
	fs.DurationVar(&o.MaxLossWindow, "max-loss-window", o.MaxLossWindow, "Auto Scaling mode: error window allowed after losing a server (0: the target group's unhealthy threshold × interval + timeout)")
	fs.DurationVar(&o.MaxRecovery, "max-recovery", o.MaxRecovery, "Auto Scaling mode: time allowed until the group is back at full healthy capacity")
	fs.DurationVar(&o.MaxDBOutage, "max-db-outage", o.MaxDBOutage, "outage allowed during the database failover")
	fs.BoolVar(&o.SkipWeb, "skip-web", false, "do not lose or stop a web server")
	fs.BoolVar(&o.SkipDB, "skip-db", false, "do not fail the database over")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check and print the plan; change nothing")
	fs.BoolVar(&o.Yes, "yes", false, "do not ask before acting")
	fs.StringVar(&reportPath, "report", "drill-report.json", "where to write the JSON report")
	if err := fs.Parse(args); err != nil {
		return ExitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "drill: unexpected arguments %q\n", fs.Args())
		return ExitError
	}
	if err := checkOptions(o); err != nil {
		fmt.Fprintf(env.Stderr, "drill: %v\n", err)
		return ExitError
	}

	// Outputs are read unless every target flag is given; the stack name is needed either
	// way, as the tag every resource must carry.
	var t Target
	needOutputs := siteURL == "" || region == "" || (!o.SkipWeb && (targetGroup == "" || (group == "" && instances == ""))) || (!o.SkipDB && db == "")
	if stackName != "" && needOutputs {
		var err error
		if t, err = LoadStackOutputs(ctx, env.Run, dir, stackName); err != nil {
			fmt.Fprintf(env.Stderr, "drill: %v\n", err)
			return ExitError
		}
	}
	t.Stack = stackName
	override(&t.SiteURL, siteURL)
	override(&t.Region, region)
	override(&t.TargetGroupARN, targetGroup)
	override(&t.DBIdentifier, db)
	override(&t.Group, group)
	if instances != "" {
		t.Instances = ParseInstances(instances)
	}
	t.Project = project
	if t.Project == "" {
		t.Project = stack.ProjectName(dir)
	}
	if err := t.Validate(o); err != nil {
		fmt.Fprintf(env.Stderr, "drill: %v\n", err)
		return ExitError
	}

	c, err := env.AWS(ctx, t.Region)
	if err != nil {
		fmt.Fprintf(env.Stderr, "drill: AWS configuration for %s: %v\n", t.Region, err)
		return ExitError
	}
	d := &Drill{Target: t, Opts: o, EC2: c.EC2, ELB: c.ELB, RDS: c.RDS, ASG: c.ASG, CW: c.CW, HTTP: env.HTTP, Clock: env.Clock, Out: env.Stdout,
		Confirm: func(plan string) (bool, error) { return Confirm(env.Stdin, env.Stderr, "the drill") }}
	report, runErr := d.Run(ctx)
	fmt.Fprintln(env.Stdout)
	WriteTable(env.Stdout, report, runErr)
	if err := WriteReport(reportPath, report); err != nil {
		fmt.Fprintf(env.Stderr, "drill: write report: %v\n", err)
		return ExitError
	}
	fmt.Fprintf(env.Stdout, "report: %s\n", reportPath)
	return ExitCode(report, runErr)
}

func override(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func checkOptions(o Options) error {
	switch {
	case o.Interval <= 0:
		return errors.New("-interval must be positive")
	case o.RequestTimeout <= 0:
		return errors.New("-request-timeout must be positive")
	case o.BaselineProbes < 1:
		return errors.New("-baseline must be at least 1")
	case o.SteadyProbes < 1:
		return errors.New("-steady must be at least 1")
	case o.PhaseTimeout < o.Interval || o.AlarmTimeout < o.Interval:
		return errors.New("-timeout and -alarm-timeout must be at least one -interval")
	case o.MaxWebFailures < 0 || o.MaxDBOutage < 0 || o.MaxLossWindow < 0 || o.MaxRecovery < 0:
		return errors.New("thresholds must not be negative")
	case o.MaxLossPercent < 0 || o.MaxLossPercent > 100:
		return errors.New("-max-loss-failed-percent must be between 0 and 100")
	case o.SkipWeb && o.SkipDB:
		return errors.New("-skip-web and -skip-db together leave nothing to drill")
	}
	return nil
}

// Confirm asks on the terminal whether to run what; anything but "yes"/"y" (including no
// input) is a no. The restore drill asks the same way.
func Confirm(in io.Reader, out io.Writer, what string) (bool, error) {
	fmt.Fprintf(out, "Proceed? Type yes to run %s: ", what)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "yes" || answer == "y", nil
}

// WriteReport writes a drill's report as indented JSON, readable by its owner only.
func WriteReport(path string, r any) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// HTTPClient is the probing client: no keep-alive, so every probe opens a connection the
// way a new visitor does and a dead server is not hidden behind a reused connection. Each
// probe's own context carries its timeout (-request-timeout).
func HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr}
}
