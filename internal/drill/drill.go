package drill

// The drill itself: check the resources belong to the stack, show the plan, ask, then run
// the baseline, web and database phases, each a bounded probing loop that also watches AWS.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Options are the drill's knobs; DefaultOptions gives the command's defaults.
type Options struct {
	Interval       time.Duration // between probes
	RequestTimeout time.Duration // per probe
	SlowThreshold  time.Duration // a successful probe slower than this is "slow"
	BaselineProbes int           // probes before anything is touched
	SteadyProbes   int           // successes in a row that end an outage
	PhaseTimeout   time.Duration // bound on each wait for AWS
	AlarmTimeout   time.Duration // bound on the wait for the failover alarm after the failover
	// MaxWebFailures is the fixed mode's threshold: failed requests allowed while a server
	// is drained, stopped and started (a planned removal: none by default).
	MaxWebFailures int
	// MaxLossPercent, MaxLossWindow and MaxRecovery are the Auto Scaling mode's thresholds
	// for an unplanned loss: the share of the phase's requests that may fail, the error
	// window (0: what the target group's health check allows, unhealthy threshold ×
	// interval + timeout) and the time until the group is back at full healthy capacity.
	MaxLossPercent float64
	MaxLossWindow  time.Duration
	MaxRecovery    time.Duration
	MaxDBOutage    time.Duration // threshold: outage allowed in the database phase
	Instance       string        // web server to lose or stop; empty picks the first
	SkipWeb        bool
	SkipDB         bool
	DryRun         bool
	Yes            bool
}

// DefaultOptions are the thresholds a healthy stack meets: a planned removal fails no
// request; losing one of two servers fails at most 10 % of the phase's requests, within the
// window the health check allows, and the group is whole again within 10 minutes; a
// database failover is over within 120 s.
func DefaultOptions() Options {
	return Options{
		Interval: time.Second, RequestTimeout: 5 * time.Second, SlowThreshold: 2 * time.Second,
		BaselineProbes: 10, SteadyProbes: 5, PhaseTimeout: 15 * time.Minute, AlarmTimeout: 10 * time.Minute,
		MaxWebFailures: 0, MaxLossPercent: 10, MaxRecovery: 10 * time.Minute, MaxDBOutage: 120 * time.Second,
	}
}

// Drill runs the availability drill against one deployed stack.
type Drill struct {
	Target Target
	Opts   Options
	EC2    EC2
	ELB    ELB
	RDS    RDS
	ASG    AutoScaling // the autoscaling mode's group
	CW     CloudWatch
	HTTP   *http.Client
	Clock  Clock
	Out    io.Writer
	// Confirm asks the operator to go ahead with the plan; only called without Yes.
	Confirm func(plan string) (bool, error)

	probes atomic.Uint64 // probes sent, which numbers each probe's query string
}

// Report is the drill's outcome, also written as JSON.
type Report struct {
	Project    string   `json:"project"`
	Stack      string   `json:"stack"`
	SiteURL    string   `json:"siteUrl"`
	DryRun     bool     `json:"dryRun"`
	Plan       string   `json:"plan"`
	Phases     []*Phase `json:"phases"`
	Violations []string `json:"violations"`
	Passed     bool     `json:"passed"`
	// Interrupted is a run cut short by Ctrl-C (or SIGTERM): what it measured is kept.
	Interrupted bool   `json:"interrupted"`
	Error       string `json:"error,omitempty"`
}

// ErrRefused is returned when the operator does not confirm the plan.
var ErrRefused = errors.New("not confirmed: nothing was changed")

// Approve asks before a drill acts, unless yes; with no way to ask, it refuses. The error
// wraps ErrRefused when the answer was no.
func Approve(yes bool, confirm func(plan string) (bool, error), plan string) error {
	if yes {
		return nil
	}
	if confirm == nil {
		return fmt.Errorf("%w (pass --yes to run without asking)", ErrRefused)
	}
	ok, err := confirm(plan)
	if err != nil {
		return fmt.Errorf("ask for confirmation: %w", err)
	}
	if !ok {
		return ErrRefused
	}
	return nil
}

// ErrInterrupted is returned when the drill's context ends (Ctrl-C) before it is done.
var ErrInterrupted = errors.New("interrupted")

// awsErr words a failed AWS call: as an interruption when the drill's own context ended
// (the call did not fail, it was abandoned), otherwise as the call and its error.
func awsErr(ctx context.Context, call string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w during AWS %s", ErrInterrupted, call)
	}
	return fmt.Errorf("AWS %s: %w", call, err)
}

// facts are what the pre-flight check learned.
type facts struct {
	victim     Instance
	desired    int // the group's desired capacity (autoscaling mode)
	lossWindow time.Duration
	dbAZ       string
	dbStandby  string
	alarming   []string // the stack's alarms already in ALARM
}

func (d *Drill) logf(format string, args ...any) {
	if d.Out != nil {
		fmt.Fprintf(d.Out, format+"\n", args...)
	}
}

// Run checks, plans, asks and drills. The report is returned even on error, with what
// was measured up to that point.
func (d *Drill) Run(ctx context.Context) (*Report, error) {
	r := &Report{Project: d.Target.Project, Stack: d.Target.Stack, SiteURL: d.Target.SiteURL, DryRun: d.Opts.DryRun,
		Phases: []*Phase{}, Violations: []string{}}
	fail := func(err error) (*Report, error) {
		r.Error, r.Interrupted = err.Error(), errors.Is(err, ErrInterrupted)
		return r, err
	}
	if err := d.Target.Validate(d.Opts); err != nil {
		return fail(err)
	}
	f, err := d.preflight(ctx)
	if err != nil {
		return fail(err)
	}
	r.Plan = d.plan(f)
	d.logf("%s", r.Plan)
	if d.Opts.DryRun {
		d.logf("dry run: nothing was changed")
		r.Passed = true
		return r, nil
	}
	if err := Approve(d.Opts.Yes, d.Confirm, r.Plan); err != nil {
		return fail(err)
	}

	baseline := d.newPhase("baseline")
	r.Phases = append(r.Phases, baseline)
	if err := d.baseline(ctx, baseline); err != nil {
		return fail(err)
	}
	if baseline.Failures > 0 {
		r.Violations = append(r.Violations, fmt.Sprintf("baseline: %d of %d requests failed before anything was touched; drill not run", baseline.Failures, baseline.Requests))
		return r, nil
	}
	for _, ph := range d.phases(f) {
		p := d.newPhase(ph.name)
		r.Phases = append(r.Phases, p)
		err := ph.run(ctx, p)
		d.noteAlarms(ctx, p)
		r.Violations = append(r.Violations, ph.judge(p)...)
		if err != nil {
			return fail(err)
		}
	}
	r.Passed = len(r.Violations) == 0
	return r, nil
}

// phaseRun is one phase the drill runs after the baseline: how it acts and how its
// measurements are judged against the thresholds.
type phaseRun struct {
	name  string
	run   func(context.Context, *Phase) error
	judge func(*Phase) []string
}

// phases are the phases the options and the stack's web mode call for, in order.
func (d *Drill) phases(f facts) []phaseRun {
	var out []phaseRun
	switch {
	case d.Opts.SkipWeb:
	case d.Target.Group != "":
		out = append(out, phaseRun{"web: lose " + f.victim.ID,
			func(ctx context.Context, p *Phase) error { return d.lossPhase(ctx, p, f.victim, f.desired) },
			func(p *Phase) []string { return d.judgeLoss(p, f.lossWindow) }})
	default:
		out = append(out, phaseRun{"web: drain and stop " + f.victim.ID,
			func(ctx context.Context, p *Phase) error { return d.removalPhase(ctx, p, f.victim) },
			func(p *Phase) []string { return d.judgeRemoval(p, f.victim.ID) }})
	}
	if !d.Opts.SkipDB {
		out = append(out, phaseRun{"db: reboot with failover", d.dbPhase, d.judgeDB})
	}
	return out
}

func (d *Drill) newPhase(name string) *Phase {
	return &Phase{Name: name, started: d.Clock.Now(), Events: []string{}, AlarmsFired: []string{}, Incidents: []Sample{}}
}

func (p *Phase) event(now time.Time, format string, args ...any) string {
	e := fmt.Sprintf("%6.1fs ", now.Sub(p.started).Seconds()) + fmt.Sprintf(format, args...)
	p.Events = append(p.Events, e)
	return e
}

// preflight reads everything the drill will touch and refuses resources that do not carry
// this stack's tags, a database that cannot fail over, a server outside the target group,
// or a failover alarm that cannot fire because it already is in ALARM.
func (d *Drill) preflight(ctx context.Context) (facts, error) {
	var f facts
	if !d.Opts.SkipWeb {
		if err := d.preflightWeb(ctx, &f); err != nil {
			return f, err
		}
	}
	if !d.Opts.SkipDB {
		if err := d.preflightDB(ctx, &f); err != nil {
			return f, err
		}
	}
	return f, d.preflightAlarms(ctx, &f)
}

// preflightWeb picks the server to lose or stop and checks that every web server is this
// stack's, running and healthy, and that losing one leaves another.
func (d *Drill) preflightWeb(ctx context.Context, f *facts) error {
	ids := make([]string, len(d.Target.Instances))
	for i, in := range d.Target.Instances {
		ids[i] = in.ID
	}
	if d.Target.Group != "" {
		var err error
		if ids, f.desired, err = d.groupServers(ctx); err != nil {
			return err
		}
	}
	victim := d.Opts.Instance
	if victim == "" && len(ids) > 0 {
		victim = ids[0]
	}
	if !slices.Contains(ids, victim) {
		return fmt.Errorf("--instance %s is not one of the stack's web servers (%s)", victim, strings.Join(ids, ", "))
	}
	out, err := d.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return awsErr(ctx, "EC2 DescribeInstances "+strings.Join(ids, ","), err)
	}
	seen := map[string]bool{}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			id := aws.ToString(in.InstanceId)
			seen[id] = true
			if err := d.checkTags("EC2 instance "+id, ec2Tags(in.Tags)); err != nil {
				return err
			}
			if in.State == nil || in.State.Name != ec2types.InstanceStateNameRunning {
				return fmt.Errorf("EC2 instance %s is %s, not running: the drill starts from a healthy stack", id, stateName(in.State))
			}
			if id == victim {
				f.victim = Instance{ID: id}
				if in.Placement != nil {
					f.victim.AZ = aws.ToString(in.Placement.AvailabilityZone)
				}
			}
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return fmt.Errorf("EC2 instance %s was not found in %s", id, d.Target.Region)
		}
	}
	if len(ids) < 2 {
		return fmt.Errorf("the stack has one web server: losing it takes the site down (deploy with webMinSize or webServerCount >= 2, or pass --skip-web)")
	}
	health, err := d.targetHealth(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if health[id] != "healthy" {
			return fmt.Errorf("target %s is %q in the target group, not healthy: the drill starts from a healthy stack", id, health[id])
		}
	}
	f.lossWindow, err = d.lossWindow(ctx)
	return err
}

// lossWindow is the error window an unplanned loss may cause: --max-loss-window, or what the
// target group's health check takes to notice a dead server (its unhealthy threshold of
// failed checks, interval apart, the last one timing out).
func (d *Drill) lossWindow(ctx context.Context) (time.Duration, error) {
	if d.Opts.MaxLossWindow > 0 || d.Target.Group == "" {
		return d.Opts.MaxLossWindow, nil
	}
	out, err := d.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{d.Target.TargetGroupARN}})
	if err != nil {
		return 0, awsErr(ctx, "ELB DescribeTargetGroups "+d.Target.TargetGroupARN, err)
	}
	if len(out.TargetGroups) != 1 {
		return 0, fmt.Errorf("target group %s was not found in %s", d.Target.TargetGroupARN, d.Target.Region)
	}
	tg := out.TargetGroups[0]
	interval, timeout := aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthCheckTimeoutSeconds)
	return time.Duration(aws.ToInt32(tg.UnhealthyThresholdCount)*interval+timeout) * time.Second, nil
}

// preflightDB checks that the database is this stack's, Multi-AZ and available.
func (d *Drill) preflightDB(ctx context.Context, f *facts) error {
	db, err := d.describeDB(ctx)
	if err != nil {
		return err
	}
	if err := d.checkTags("RDS instance "+d.Target.DBIdentifier, db.tags); err != nil {
		return err
	}
	if !db.multiAZ {
		return fmt.Errorf("RDS instance %s is not Multi-AZ: a failover needs a standby (dbMultiAz true, or pass --skip-db)", d.Target.DBIdentifier)
	}
	if db.status != "available" {
		return fmt.Errorf("RDS instance %s is %q, not available", d.Target.DBIdentifier, db.status)
	}
	f.dbAZ, f.dbStandby = db.az, db.standbyAZ
	return nil
}

func stateName(s *ec2types.InstanceState) string {
	if s == nil {
		return "unknown"
	}
	return string(s.Name)
}

// groupServers reads the web servers' group: its in-service instances and desired capacity.
// It refuses a group that is not this stack's, or that is not at its desired capacity.
func (d *Drill) groupServers(ctx context.Context) ([]string, int, error) {
	out, err := d.ASG.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{d.Target.Group}})
	if err != nil {
		return nil, 0, awsErr(ctx, "Auto Scaling DescribeAutoScalingGroups "+d.Target.Group, err)
	}
	if len(out.AutoScalingGroups) != 1 {
		return nil, 0, fmt.Errorf("the Auto Scaling group %s was not found in %s", d.Target.Group, d.Target.Region)
	}
	g := out.AutoScalingGroups[0]
	tags := map[string]string{}
	for _, t := range g.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if err := d.checkTags("Auto Scaling group "+d.Target.Group, tags); err != nil {
		return nil, 0, err
	}
	var ids []string
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService && aws.ToString(in.HealthStatus) == "Healthy" {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	desired := int(aws.ToInt32(g.DesiredCapacity))
	if len(ids) != desired || len(g.Instances) != desired {
		return nil, 0, fmt.Errorf("the Auto Scaling group %s has %d healthy in-service servers of %d (desired %d): the drill starts from a settled group",
			d.Target.Group, len(ids), len(g.Instances), desired)
	}
	slices.Sort(ids)
	return ids, desired, nil
}

// checkTags refuses to act on anything that is not this stack's.
func (d *Drill) checkTags(what string, tags map[string]string) error {
	for k, want := range map[string]string{"project": d.Target.Project, "stack": d.Target.Stack} {
		if got := tags[k]; got != want {
			return fmt.Errorf("refusing to touch %s: its tag %s is %q, want %q (it does not belong to stack %s/%s)", what, k, got, want, d.Target.Project, d.Target.Stack)
		}
	}
	return nil
}

func ec2Tags(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (d *Drill) plan(f facts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Availability drill for %s/%s (%s), probing %s every %s:\n", d.Target.Project, d.Target.Stack, d.Target.Region, d.Target.SiteURL, d.Opts.Interval)
	fmt.Fprintf(&b, "  1. baseline: %d requests, all must succeed\n", d.Opts.BaselineProbes)
	switch {
	case d.Opts.SkipWeb:
		b.WriteString("  2. web: skipped\n")
	case d.Target.Group != "":
		fmt.Fprintf(&b, "  2. web: TERMINATE EC2 instance %s (%s) without draining it, as a server is lost: its Auto Scaling group %s launches a replacement; "+
			"wait until %d servers are healthy again; allowed: %.0f%% failed requests, an error window of %s, back at full capacity within %s\n",
			f.victim.ID, f.victim.AZ, d.Target.Group, f.desired, d.Opts.MaxLossPercent, f.lossWindow, d.Opts.MaxRecovery)
	default:
		fmt.Fprintf(&b, "  2. web: DRAIN EC2 instance %s (%s) from the target group, STOP it, START it again, register it, wait until healthy (a planned removal); "+
			"allowed failed requests: %d\n", f.victim.ID, f.victim.AZ, d.Opts.MaxWebFailures)
	}
	if d.Opts.SkipDB {
		b.WriteString("  3. db: skipped\n")
	} else {
		fmt.Fprintf(&b, "  3. db: REBOOT RDS instance %s WITH FAILOVER (primary in %s, standby in %s), wait until the site answers %d times in a row; allowed outage: %.0fs\n",
			d.Target.DBIdentifier, f.dbAZ, orUnknown(f.dbStandby), d.Opts.SteadyProbes, d.Opts.MaxDBOutage.Seconds())
		if d.Target.DBFailoverAlarm != "" {
			fmt.Fprintf(&b, "     then wait up to %s for the alarm %s to fire\n", d.Opts.AlarmTimeout, d.Target.DBFailoverAlarm)
		} else {
			b.WriteString("     the stack has no failover alarm (output " + stack.KeyDBFailoverAlarm + "): that it fires is not checked\n")
		}
	}
	if len(f.alarming) > 0 {
		fmt.Fprintf(&b, "  Already in ALARM before the drill: %s\n", strings.Join(f.alarming, ", "))
	}
	if d.Target.Group != "" {
		fmt.Fprintf(&b, "  Each wait gives up after %s; the group replaces a lost server whatever happens to the drill.", d.Opts.PhaseTimeout)
	} else {
		fmt.Fprintf(&b, "  Each wait gives up after %s; on error, timeout or Ctrl-C a stopped server is started again and a drained one registered again.", d.Opts.PhaseTimeout)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// progressEvery is how often (in probes) a quiet phase prints a progress line.
const progressEvery = 10

// wait is one bounded wait of a phase: probing the site while polling AWS.
type wait struct {
	what    string        // "for ...", in progress lines and errors
	timeout time.Duration // 0: the phase timeout
	sample  func(Sample)  // sees every counted probe (nil: none)
	check   func(context.Context) (bool, error)
	// stuck says, when the wait gives up, what was still missing (nil: nothing to add).
	stuck func() string
}

// ErrGaveUp is a wait that timed out.
var ErrGaveUp = errors.New("gave up waiting")

// watch probes at the interval and calls check after each probe until check reports done,
// the wait's timeout passes, or ctx ends. It is the only loop the drill has: bounded in
// both time and count. A probe the drill's own Ctrl-C cut short is not counted.
func (d *Drill) watch(ctx context.Context, p *Phase, w wait) error {
	timeout := w.timeout
	if timeout == 0 {
		timeout = d.Opts.PhaseTimeout
	}
	interrupted := func() error { return fmt.Errorf("%w during %s while waiting %s", ErrInterrupted, p.Name, w.what) }
	start := d.Clock.Now()
	maxProbes := int(timeout/d.Opts.Interval) + 1
	for i := 0; i < maxProbes; i++ {
		s := d.probe(ctx, p.started)
		if s.Cut {
			return interrupted()
		}
		p.add(s)
		if w.sample != nil {
			w.sample(s)
		}
		switch {
		case !s.OK:
			d.logf("  %s  %6.1fs  FAIL %s (%s)", p.Name, s.At.Seconds(), s.Err, s.Latency)
		case s.Slow:
			d.logf("  %s  %6.1fs  SLOW %s", p.Name, s.At.Seconds(), s.Latency)
		case p.Requests%progressEvery == 0:
			d.logf("  %s  %6.1fs  %d requests, %d failed, %d slow", p.Name, s.At.Seconds(), p.Requests, p.Failures, p.Slow)
		}
		done, err := w.check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if d.Clock.Now().Sub(start) >= timeout {
			break
		}
		if d.Clock.Sleep(ctx, d.Opts.Interval) != nil {
			return interrupted()
		}
	}
	err := fmt.Errorf("%s: %w %s after %s", p.Name, ErrGaveUp, w.what, timeout)
	if w.stuck != nil {
		err = fmt.Errorf("%w: %s", err, w.stuck())
	}
	return err
}

func (d *Drill) baseline(ctx context.Context, p *Phase) error {
	n := 0
	err := d.watch(ctx, p, wait{what: "for the baseline", check: func(context.Context) (bool, error) {
		n++
		return n >= d.Opts.BaselineProbes, nil
	}})
	p.finish(d.Clock.Now())
	d.logf("%s", p.event(d.Clock.Now(), "baseline: %d requests, %d failed, p50 %s", p.Requests, p.Failures, time.Duration(p.P50)))
	return err
}

// targetHealth maps instance ID to its state in the target group.
func (d *Drill) targetHealth(ctx context.Context) (map[string]string, error) {
	out, err := d.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(d.Target.TargetGroupARN)})
	if err != nil {
		return nil, awsErr(ctx, "ELB DescribeTargetHealth "+d.Target.TargetGroupARN, err)
	}
	m := map[string]string{}
	for _, t := range out.TargetHealthDescriptions {
		if t.Target == nil || t.TargetHealth == nil {
			continue
		}
		m[aws.ToString(t.Target.Id)] = string(t.TargetHealth.State)
	}
	return m, nil
}
