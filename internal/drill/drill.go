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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// Options are the drill's knobs; DefaultOptions gives the command's defaults.
type Options struct {
	Interval       time.Duration // between probes
	RequestTimeout time.Duration // per probe
	SlowThreshold  time.Duration // a successful probe slower than this is "slow"
	BaselineProbes int           // probes before anything is touched
	SteadyProbes   int           // successes in a row that end an outage
	PhaseTimeout   time.Duration // bound on each wait for AWS
	MaxWebFailures int           // threshold: failed requests allowed in the web phase
	MaxDBOutage    time.Duration // threshold: outage allowed in the database phase
	Instance       string        // web server to stop; empty picks the first
	SkipWeb        bool
	SkipDB         bool
	DryRun         bool
	Yes            bool
}

// DefaultOptions are the thresholds the issue sets: no failed request while a server is
// down, at most 120 s of outage during a database failover.
func DefaultOptions() Options {
	return Options{
		Interval: time.Second, RequestTimeout: 5 * time.Second, SlowThreshold: 2 * time.Second,
		BaselineProbes: 10, SteadyProbes: 5, PhaseTimeout: 15 * time.Minute,
		MaxWebFailures: 0, MaxDBOutage: 120 * time.Second,
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
	HTTP   *http.Client
	Clock  Clock
	Out    io.Writer
	// Confirm asks the operator to go ahead with the plan; only called without Yes.
	Confirm func(plan string) (bool, error)
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
	Error      string   `json:"error,omitempty"`
}

// ErrRefused is returned when the operator does not confirm the plan.
var ErrRefused = errors.New("not confirmed: nothing was changed")

// facts are what the pre-flight check learned.
type facts struct {
	victim    Instance
	servers   []string // the web servers' instance IDs
	desired   int      // the group's desired capacity (autoscaling mode)
	dbAZ      string
	dbStandby string
}

func (d *Drill) logf(format string, args ...any) {
	if d.Out != nil {
		fmt.Fprintf(d.Out, format+"\n", args...)
	}
}

// Run checks, plans, asks and drills. The report is returned even on error, with what
// was measured up to that point.
func (d *Drill) Run(ctx context.Context) (*Report, error) {
	r := &Report{Project: d.Target.Project, Stack: d.Target.Stack, SiteURL: d.Target.SiteURL, DryRun: d.Opts.DryRun}
	fail := func(err error) (*Report, error) {
		r.Error = err.Error()
		return r, err
	}
	if err := d.Target.Validate(); err != nil {
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
	if !d.Opts.Yes {
		if d.Confirm == nil {
			return fail(fmt.Errorf("%w (pass --yes to run without asking)", ErrRefused))
		}
		ok, err := d.Confirm(r.Plan)
		if err != nil {
			return fail(fmt.Errorf("ask for confirmation: %w", err))
		}
		if !ok {
			return fail(ErrRefused)
		}
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
	if !d.Opts.SkipWeb {
		name, phase := "web: stop "+f.victim.ID, d.webPhase
		if d.Target.Group != "" {
			name, phase = "web: lose "+f.victim.ID, func(ctx context.Context, p *Phase, v Instance) error { return d.serverLossPhase(ctx, p, v, f.desired) }
		}
		web := d.newPhase(name)
		r.Phases = append(r.Phases, web)
		err := phase(ctx, web, f.victim)
		if web.Failures > d.Opts.MaxWebFailures {
			r.Violations = append(r.Violations, fmt.Sprintf("web: %d failed requests while %s was down (allowed %d)", web.Failures, f.victim.ID, d.Opts.MaxWebFailures))
		}
		if err != nil {
			return fail(err)
		}
	}
	if !d.Opts.SkipDB {
		db := d.newPhase("db: reboot with failover")
		r.Phases = append(r.Phases, db)
		err := d.dbPhase(ctx, db)
		if db.OutageSeconds > d.Opts.MaxDBOutage.Seconds() {
			r.Violations = append(r.Violations, fmt.Sprintf("db: outage %.1fs (allowed %.0fs)", db.OutageSeconds, d.Opts.MaxDBOutage.Seconds()))
		}
		if err != nil {
			return fail(err)
		}
	}
	r.Passed = len(r.Violations) == 0
	return r, nil
}

func (d *Drill) newPhase(name string) *Phase {
	return &Phase{Name: name, started: d.Clock.Now(), Events: []string{}}
}

func (p *Phase) event(now time.Time, format string, args ...any) string {
	e := fmt.Sprintf("%6.1fs ", now.Sub(p.started).Seconds()) + fmt.Sprintf(format, args...)
	p.Events = append(p.Events, e)
	return e
}

// preflight reads everything the drill will touch and refuses resources that do not carry
// this stack's tags, a database that cannot fail over, or a server outside the target group.
func (d *Drill) preflight(ctx context.Context) (facts, error) {
	var f facts
	ids := make([]string, len(d.Target.Instances))
	for i, in := range d.Target.Instances {
		ids[i] = in.ID
	}
	if d.Target.Group != "" {
		var err error
		if ids, f.desired, err = d.groupServers(ctx); err != nil {
			return f, err
		}
	}
	f.servers = ids
	victim := d.Opts.Instance
	if victim == "" {
		victim = ids[0]
	}
	if !d.Opts.SkipWeb && !slices.Contains(ids, victim) {
		return f, fmt.Errorf("--instance %s is not one of the stack's web servers (%s)", victim, strings.Join(ids, ", "))
	}
	out, err := d.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return f, fmt.Errorf("AWS EC2 DescribeInstances %s: %w", strings.Join(ids, ","), err)
	}
	seen := map[string]bool{}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			id := aws.ToString(in.InstanceId)
			seen[id] = true
			if err := d.checkTags("EC2 instance "+id, ec2Tags(in.Tags)); err != nil {
				return f, err
			}
			if in.State == nil || in.State.Name != ec2types.InstanceStateNameRunning {
				return f, fmt.Errorf("EC2 instance %s is %s, not running: the drill starts from a healthy stack", id, stateName(in.State))
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
			return f, fmt.Errorf("EC2 instance %s was not found in %s", id, d.Target.Region)
		}
	}
	if !d.Opts.SkipWeb {
		health, err := d.targetHealth(ctx)
		if err != nil {
			return f, err
		}
		if len(ids) < 2 {
			return f, fmt.Errorf("the stack has one web server: losing it takes the site down (deploy with webMinSize or webServerCount >= 2, or pass --skip-web)")
		}
		for _, id := range ids {
			if health[id] != "healthy" {
				return f, fmt.Errorf("target %s is %q in the target group, not healthy: the drill starts from a healthy stack", id, health[id])
			}
		}
	}
	db, err := d.describeDB(ctx)
	if err != nil {
		return f, err
	}
	if err := d.checkTags("RDS instance "+d.Target.DBIdentifier, db.tags); err != nil {
		return f, err
	}
	if !d.Opts.SkipDB {
		if !db.multiAZ {
			return f, fmt.Errorf("RDS instance %s is not Multi-AZ: a failover needs a standby (dbMultiAz true, or pass --skip-db)", d.Target.DBIdentifier)
		}
		if db.status != "available" {
			return f, fmt.Errorf("RDS instance %s is %q, not available", d.Target.DBIdentifier, db.status)
		}
	}
	f.dbAZ, f.dbStandby = db.az, db.standbyAZ
	return f, nil
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
		return nil, 0, fmt.Errorf("AWS Auto Scaling DescribeAutoScalingGroups %s: %w", d.Target.Group, err)
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
		fmt.Fprintf(&b, "  2. web: TERMINATE EC2 instance %s (%s) through its Auto Scaling group %s, keeping the desired capacity (%d): the group launches a replacement; wait until %d servers are healthy again; allowed failed requests: %d\n",
			f.victim.ID, f.victim.AZ, d.Target.Group, f.desired, f.desired, d.Opts.MaxWebFailures)
	default:
		fmt.Fprintf(&b, "  2. web: STOP EC2 instance %s (%s), wait until the target group stops using it, START it again, wait until healthy; allowed failed requests: %d\n",
			f.victim.ID, f.victim.AZ, d.Opts.MaxWebFailures)
	}
	if d.Opts.SkipDB {
		b.WriteString("  3. db: skipped\n")
	} else {
		fmt.Fprintf(&b, "  3. db: REBOOT RDS instance %s WITH FAILOVER (primary in %s, standby in %s), wait until the site answers %d times in a row; allowed outage: %.0fs\n",
			d.Target.DBIdentifier, f.dbAZ, orUnknown(f.dbStandby), d.Opts.SteadyProbes, d.Opts.MaxDBOutage.Seconds())
	}
	if d.Target.Group != "" {
		fmt.Fprintf(&b, "  Each wait gives up after %s; the group replaces a lost server whatever happens to the drill.", d.Opts.PhaseTimeout)
	} else {
		fmt.Fprintf(&b, "  Each wait gives up after %s; a stopped server is started again on error, timeout or Ctrl-C.", d.Opts.PhaseTimeout)
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

// watch probes at the interval and calls check after each probe until check reports done,
// the phase timeout passes, or ctx ends. It is the only loop the drill has: bounded in
// both time and count.
func (d *Drill) watch(ctx context.Context, p *Phase, what string, onSample func(Sample), check func(context.Context) (bool, error)) error {
	start := d.Clock.Now()
	maxProbes := int(d.Opts.PhaseTimeout/d.Opts.Interval) + 1
	for i := 0; i < maxProbes; i++ {
		s := d.probe(ctx, p.started)
		p.add(s)
		if onSample != nil {
			onSample(s)
		}
		switch {
		case !s.OK:
			d.logf("  %s  %6.1fs  FAIL %s (%s)", p.Name, s.At.Seconds(), s.Err, s.Latency)
		case s.Slow:
			d.logf("  %s  %6.1fs  SLOW %s", p.Name, s.At.Seconds(), s.Latency)
		case p.Requests%progressEvery == 0:
			d.logf("  %s  %6.1fs  %d requests, %d failed, %d slow", p.Name, s.At.Seconds(), p.Requests, p.Failures, p.Slow)
		}
		done, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if d.Clock.Now().Sub(start) >= d.Opts.PhaseTimeout {
			break
		}
		if err := d.Clock.Sleep(ctx, d.Opts.Interval); err != nil {
			return fmt.Errorf("%s: interrupted while waiting %s: %w", p.Name, what, err)
		}
	}
	return fmt.Errorf("%s: gave up waiting %s after %s", p.Name, what, d.Opts.PhaseTimeout)
}

func (d *Drill) baseline(ctx context.Context, p *Phase) error {
	n := 0
	err := d.watch(ctx, p, "for the baseline", nil, func(context.Context) (bool, error) {
		n++
		return n >= d.Opts.BaselineProbes, nil
	})
	p.finish(d.Clock.Now())
	d.logf("%s", p.event(d.Clock.Now(), "baseline: %d requests, %d failed, p50 %s", p.Requests, p.Failures, time.Duration(p.P50)))
	return err
}

// targetHealth maps instance ID to its state in the target group.
func (d *Drill) targetHealth(ctx context.Context) (map[string]string, error) {
	out, err := d.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(d.Target.TargetGroupARN)})
	if err != nil {
		return nil, fmt.Errorf("AWS ELB DescribeTargetHealth %s: %w", d.Target.TargetGroupARN, err)
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

// webPhase stops one server, waits until the load balancer stops using it, starts it and
// waits until it is healthy again, probing throughout. Whatever happens after the stop,
// the server is started again before returning.
func (d *Drill) webPhase(ctx context.Context, p *Phase, victim Instance) (err error) {
	p.AZBefore, p.AZAfter = victim.AZ, victim.AZ
	defer func() { p.finish(d.Clock.Now()) }()
	ids := []string{victim.ID}
	if _, err := d.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids}); err != nil {
		return fmt.Errorf("AWS EC2 StopInstances %s: %w", victim.ID, err)
	}
	restarted := false
	defer func() {
		if restarted {
			return
		}
		// The caller's context may be cancelled (Ctrl-C): restart on a context of our own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if _, serr := d.EC2.StartInstances(rctx, &ec2.StartInstancesInput{InstanceIds: ids}); serr != nil {
			d.logf("%s", p.event(d.Clock.Now(), "COULD NOT RESTART %s: %v; start it by hand: aws ec2 start-instances --instance-ids %s", victim.ID, serr, victim.ID))
			err = errors.Join(err, fmt.Errorf("restart %s: %w", victim.ID, serr))
			return
		}
		d.logf("%s", p.event(d.Clock.Now(), "started %s again after the drill was cut short", victim.ID))
	}()
	d.logf("%s", p.event(d.Clock.Now(), "stopped %s (%s)", victim.ID, victim.AZ))

	waitFor := d.targetStateWatch(p, victim.ID)
	if err := d.watch(ctx, p, "for the load balancer to stop using "+victim.ID, nil, waitFor(stateIn("unused", "unhealthy"))); err != nil {
		return err
	}
	if _, err := d.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids}); err != nil {
		return fmt.Errorf("AWS EC2 StartInstances %s: %w", victim.ID, err)
	}
	restarted = true
	d.logf("%s", p.event(d.Clock.Now(), "started %s", victim.ID))
	if err := d.watch(ctx, p, "for "+victim.ID+" to be healthy again", nil, waitFor(stateIn("healthy"))); err != nil {
		return err
	}
	d.logf("%s", p.event(d.Clock.Now(), "web: %d requests, %d failed, %d slow", p.Requests, p.Failures, p.Slow))
	return nil
}

// targetStateWatch returns, for a test of the target's health state, a watch condition that
// logs each change of that state (from healthy) and holds once the test does; the state of
// a target the load balancer no longer lists is "". Conditions made from one watch share
// the last state seen, so the log never repeats a change.
func (d *Drill) targetStateWatch(p *Phase, id string) func(done func(state string) bool) func(context.Context) (bool, error) {
	last := "healthy"
	return func(done func(string) bool) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			h, err := d.targetHealth(ctx)
			if err != nil {
				return false, err
			}
			if state := h[id]; state != last {
				d.logf("%s", p.event(d.Clock.Now(), "target %s: %s -> %s", id, last, orUnknown(state)))
				last = state
			}
			return done(last), nil
		}
	}
}

// stateIn is a target health test that holds for any of the states.
func stateIn(states ...string) func(string) bool {
	return func(state string) bool { return slices.Contains(states, state) }
}

// serverLossPhase takes one server away from its Auto Scaling group without lowering the
// desired capacity, as a failed instance is lost, and probes until the load balancer has
// stopped using it and the group is back at its desired number of healthy servers. Nothing
// is to be restored on an error or Ctrl-C: the group replaces the server on its own.
func (d *Drill) serverLossPhase(ctx context.Context, p *Phase, victim Instance, desired int) error {
	p.AZBefore = victim.AZ
	defer func() { p.finish(d.Clock.Now()) }()
	if _, err := d.ASG.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(victim.ID), ShouldDecrementDesiredCapacity: aws.Bool(false),
	}); err != nil {
		return fmt.Errorf("AWS Auto Scaling TerminateInstanceInAutoScalingGroup %s: %w", victim.ID, err)
	}
	lost := d.Clock.Now()
	d.logf("%s", p.event(lost, "terminated %s (%s) in %s; the group replaces it", victim.ID, victim.AZ, d.Target.Group))

	// A terminated target drains, turns unhealthy or is deregistered: any state but healthy
	// means the load balancer has stopped sending it new requests.
	gone := d.targetStateWatch(p, victim.ID)(func(state string) bool { return state != "healthy" })
	if err := d.watch(ctx, p, "for the load balancer to stop using "+victim.ID, nil, gone); err != nil {
		return err
	}
	healthy := 0
	back := func(ctx context.Context) (bool, error) {
		h, err := d.targetHealth(ctx)
		if err != nil {
			return false, err
		}
		n := 0
		for id, state := range h {
			if id != victim.ID && state == "healthy" {
				n++
			}
		}
		if n != healthy {
			d.logf("%s", p.event(d.Clock.Now(), "%d of %d servers healthy", n, desired))
			healthy = n
		}
		return n >= desired, nil
	}
	if err := d.watch(ctx, p, fmt.Sprintf("for the group to be back at %d healthy servers", desired), nil, back); err != nil {
		return err
	}
	p.RecoverySeconds = d.Clock.Now().Sub(lost).Seconds()
	d.logf("%s", p.event(d.Clock.Now(), "web: %d requests, %d failed, %d slow; back at full capacity after %.0fs", p.Requests, p.Failures, p.Slow, p.RecoverySeconds))
	return nil
}

// dbState is what the drill reads of the database.
type dbState struct {
	status, az, standbyAZ string
	multiAZ               bool
	tags                  map[string]string
}

func (d *Drill) describeDB(ctx context.Context) (dbState, error) {
	out, err := d.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(d.Target.DBIdentifier)})
	if err != nil {
		return dbState{}, fmt.Errorf("AWS RDS DescribeDBInstances %s: %w", d.Target.DBIdentifier, err)
	}
	if len(out.DBInstances) != 1 {
		return dbState{}, fmt.Errorf("RDS instance %s was not found in %s", d.Target.DBIdentifier, d.Target.Region)
	}
	db := out.DBInstances[0]
	s := dbState{status: aws.ToString(db.DBInstanceStatus), az: aws.ToString(db.AvailabilityZone),
		standbyAZ: aws.ToString(db.SecondaryAvailabilityZone), multiAZ: aws.ToBool(db.MultiAZ), tags: map[string]string{}}
	for _, t := range db.TagList {
		s.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return s, nil
}

// dbPhase reboots the database with failover and probes until it is available again and
// the site has answered steadily, measuring the outage users saw.
func (d *Drill) dbPhase(ctx context.Context, p *Phase) error {
	defer func() { p.finish(d.Clock.Now()) }()
	before, err := d.describeDB(ctx)
	if err != nil {
		return err
	}
	p.AZBefore = before.az
	if _, err := d.RDS.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{
		DBInstanceIdentifier: aws.String(d.Target.DBIdentifier), ForceFailover: aws.Bool(true),
	}); err != nil {
		return fmt.Errorf("AWS RDS RebootDBInstance %s (force failover): %w", d.Target.DBIdentifier, err)
	}
	d.logf("%s", p.event(d.Clock.Now(), "rebooting %s with failover (primary in %s)", d.Target.DBIdentifier, before.az))

	o := &outage{steady: d.Opts.SteadyProbes}
	status, left := before.status, false
	err = d.watch(ctx, p, "for the database to fail over and the site to answer steadily", o.add, func(ctx context.Context) (bool, error) {
		s, err := d.describeDB(ctx)
		if err != nil {
			return false, err
		}
		if s.status != status {
			d.logf("%s", p.event(d.Clock.Now(), "database: %s -> %s (primary in %s)", status, s.status, s.az))
			status = s.status
		}
		p.AZAfter = s.az
		left = left || s.status != "available" || s.az != before.az
		return left && s.status == "available" && o.recovered(), nil
	})
	p.OutageSeconds = o.seconds()
	d.logf("%s", p.event(d.Clock.Now(), "db: outage %.1fs, primary %s -> %s", p.OutageSeconds, p.AZBefore, p.AZAfter))
	if err == nil && p.AZAfter == p.AZBefore {
		d.logf("%s", p.event(d.Clock.Now(), "warning: the primary is still in %s: RDS rebooted without moving it", p.AZAfter))
	}
	return err
}
