package drill

// A simulated stack: EC2, ELB and RDS fakes that move through the states AWS goes
// through, on a virtual clock that the probe loop and the local site share, so scripted
// outages are measured exactly and the tests take milliseconds.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Simulated AWS timings.
const (
	stopTakes      = 10 * time.Second // stopping -> stopped
	drainTakes     = 8 * time.Second  // target draining -> gone
	bootTakes      = 10 * time.Second // pending -> running
	healthyAfter   = 15 * time.Second // running (or registered) -> target healthy
	detectAfter    = 9 * time.Second  // a dead target -> unhealthy: 2 failed checks 5 s apart, the last timing out
	hcInterval     = 5                // the simulated target group's health check, seconds
	hcTimeout      = 3
	hcUnhealthy    = 2
	dbRebootTakes  = 40 * time.Second // rebooting -> available, primary moved
	failoverAlarm  = "dev-db-failover"
	alarmAfter     = 70 * time.Second // the failover event -> its alarm in ALARM
	epoch          = 1_700_000_000
	testProject    = "scalable-wordpress"
	testStack      = "dev"
	testTargetARN  = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/lb-tg/0123"
	testDB         = "db-0123"
	victimID       = "i-0aaa"
	otherID        = "i-0ccc"
	primaryAZ      = "ap-northeast-1a"
	standbyAZ      = "ap-northeast-1c"
	defaultLatency = 40 * time.Millisecond
)

type fakeInstance struct {
	az         string
	tags       map[string]string
	running    bool
	since      time.Time // of the last stop, start or termination
	terminated bool
	registered bool      // in the target group
	regSince   time.Time // of the last registration or deregistration
}

// Simulated Auto Scaling timings: a lost server's replacement launches this long after the
// loss (the group's health check and scaling activity), and the group deregisters the lost
// one then.
const (
	replaceAfter = 12 * time.Second
	hookTakes    = 60 * time.Second // a replacement configures itself before its launch hook lets it in
	downAlarmAt  = 60 * time.Second // a dead target -> the unhealthy-hosts alarm in ALARM
	downAlarmFor = 30 * time.Second
)

type world struct {
	t     *testing.T
	clock *fakeClock
	mu    sync.Mutex

	instances map[string]*fakeInstance
	stuck     bool          // the target group never finishes draining a deregistered server
	stopHangs time.Duration // extra time a stopping instance takes to stop
	routed    int           // requests the load balancer has routed (round robin)

	group     string            // the autoscaling mode's group; "" for fixed servers
	groupTags map[string]string // its tags
	desired   int
	launched  int // replacements launched so far

	dbTags    map[string]string
	dbMultiAZ bool
	dbAZ      string
	dbStandby string
	rebootAt  time.Time // zero until RebootDBInstance

	mutations       []string
	onCall          func(call string)            // test hook, called with every AWS call
	calls           []string                     // every AWS call that took effect, in order
	onSite          func(r *http.Request, n int) // test hook, called with every request to the site and its number
	requests        int
	dbIgnoresReboot bool // RDS accepts the reboot and never does it

	alarms       map[string]string // alarm name -> state
	alarmSilent  bool              // the failover alarm never fires
	alarmHistory []alarmChange
	historyCalls int

	// siteDown scripts the site's answers: true means 503.
	siteDown func(w *world, now time.Time) bool
	latency  time.Duration
	site     *httptest.Server
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clock: &fakeClock{now: time.Unix(epoch, 0)}, latency: defaultLatency,
		dbMultiAZ: true, dbAZ: primaryAZ, dbStandby: standbyAZ,
		dbTags: map[string]string{"project": testProject, "stack": testStack}}
	w.instances = map[string]*fakeInstance{
		victimID: {az: primaryAZ, running: true, registered: true, tags: map[string]string{"project": testProject, "stack": testStack}},
		otherID:  {az: standbyAZ, running: true, registered: true, tags: map[string]string{"project": testProject, "stack": testStack}},
	}
	w.alarms = map[string]string{failoverAlarm: "OK", "dev-unhealthy-hosts": "OK", "dev-alb-5xx-rate": "OK"}
	w.siteDown = func(*world, time.Time) bool { return false }
	w.site = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.requests++
		n := w.requests
		w.mu.Unlock()
		if w.onSite != nil {
			w.onSite(r, n)
		}
		now := w.clock.Now()
		w.clock.advance(w.latency)
		w.mu.Lock()
		down, served := w.siteDown(w, now), w.route(now)
		w.mu.Unlock()
		switch {
		case !served:
			http.Error(rw, "502 Bad Gateway", http.StatusBadGateway)
		case down:
			http.Error(rw, "504 Gateway Time-out", http.StatusGatewayTimeout)
		default:
			_, _ = rw.Write([]byte("<html>はじめてのAWS</html>"))
		}
	}))
	t.Cleanup(w.site.Close)
	return w
}

// enter is the start of every simulated AWS call: like the SDK, a call on an ended context
// fails at once.
func (w *world) enter(ctx context.Context) error { return ctx.Err() }

// call is the end of every simulated AWS call: the test hook sees it once it took effect.
func (w *world) call(name string) {
	w.mu.Lock()
	w.calls = append(w.calls, name)
	w.mu.Unlock()
	if w.onCall != nil {
		w.onCall(name)
	}
}

// route is the load balancer choosing a target for a request, round robin over the targets
// it holds healthy, and whether that target answered: a dead server the health check has
// not yet caught fails the request (502), as on a real ALB.
func (w *world) route(now time.Time) bool {
	w.replace(now)
	var healthy []string
	for id, x := range w.instances {
		if w.targetState(x, now) == elbtypes.TargetHealthStateEnumHealthy {
			healthy = append(healthy, id)
		}
	}
	if len(healthy) == 0 {
		return false
	}
	slices.Sort(healthy)
	x := w.instances[healthy[w.routed%len(healthy)]]
	w.routed++
	return w.state(x, now) == ec2types.InstanceStateNameRunning
}

func (w *world) mutate(format string, args ...any) {
	w.mutations = append(w.mutations, fmt.Sprintf(format, args...))
}

// dbDownWindow scripts a site outage from `from` to `to` after the reboot call.
func dbDownWindow(from, to time.Duration) func(*world, time.Time) bool {
	return func(w *world, now time.Time) bool {
		if w.rebootAt.IsZero() {
			return false
		}
		at := now.Sub(w.rebootAt)
		return at >= from && at < to
	}
}

func (w *world) state(in *fakeInstance, now time.Time) ec2types.InstanceStateName {
	switch {
	case in.terminated && now.Sub(in.since) < stopTakes:
		return ec2types.InstanceStateNameShuttingDown
	case in.terminated:
		return ec2types.InstanceStateNameTerminated
	case in.running && (in.since.IsZero() || now.Sub(in.since) >= bootTakes):
		return ec2types.InstanceStateNameRunning
	case in.running:
		return ec2types.InstanceStateNamePending
	case now.Sub(in.since) < stopTakes+w.stopHangs:
		return ec2types.InstanceStateNameStopping
	}
	return ec2types.InstanceStateNameStopped
}

// targetState is the load balancer's view of a target ("" once it is no longer listed): a
// deregistered target drains, then disappears; a registered one is healthy once it has run
// and been registered for healthyAfter, and stays healthy after its server dies until the
// health check has failed it.
func (w *world) targetState(in *fakeInstance, now time.Time) elbtypes.TargetHealthStateEnum {
	alive := in.running && (in.since.IsZero() || now.Sub(in.since) >= bootTakes)
	switch {
	case in.registered && now.Before(in.regSince):
		return "" // not yet let in by its launch hook
	case !in.registered && (w.stuck || now.Sub(in.regSince) < drainTakes):
		return elbtypes.TargetHealthStateEnumDraining
	case !in.registered:
		return ""
	case alive && (in.since.IsZero() || now.Sub(in.since) >= bootTakes+healthyAfter) && (in.regSince.IsZero() || now.Sub(in.regSince) >= healthyAfter):
		return elbtypes.TargetHealthStateEnumHealthy
	case alive || in.running:
		return elbtypes.TargetHealthStateEnumInitial
	case now.Sub(in.since) < detectAfter:
		return elbtypes.TargetHealthStateEnumHealthy // dead, not yet caught
	}
	return elbtypes.TargetHealthStateEnumUnhealthy
}

// EC2

type fakeEC2 struct{ w *world }

// incorrectState is EC2's refusal of an action the instance's state does not allow.
func incorrectState(id string, state ec2types.InstanceStateName, action string) error {
	return fmt.Errorf("api error IncorrectInstanceState: The instance '%s' is not in a state from which it can be %s (%s)", id, action, state)
}

func (f fakeEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return nil, err
	}
	defer w.call("DescribeInstances")
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	var out []ec2types.Instance
	for _, id := range in.InstanceIds {
		x, ok := w.instances[id]
		if !ok {
			continue
		}
		var tags []ec2types.Tag
		for k, v := range x.tags {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out = append(out, ec2types.Instance{InstanceId: aws.String(id), Tags: tags,
			State:     &ec2types.InstanceState{Name: w.state(x, now)},
			Placement: &ec2types.Placement{AvailabilityZone: aws.String(x.az)}})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: out}}}, nil
}

// act applies a state change to instances that are in the state it needs, as EC2 does:
// all or nothing, IncorrectInstanceState otherwise.
func (f fakeEC2) act(ctx context.Context, call, verb string, ids []string, from ec2types.InstanceStateName, apply func(*fakeInstance)) error {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return err
	}
	w.mu.Lock()
	now := w.clock.Now()
	for _, id := range ids {
		x, ok := w.instances[id]
		if !ok {
			w.mu.Unlock()
			return fmt.Errorf("api error InvalidInstanceID.NotFound: %s", id)
		}
		if st := w.state(x, now); st != from {
			w.mu.Unlock()
			return incorrectState(id, st, verb)
		}
	}
	for _, id := range ids {
		apply(w.instances[id])
		w.instances[id].since = now
		w.mutate("%s %s", map[string]string{"stopped": "stop", "started": "start", "terminated": "terminate"}[verb], id)
	}
	w.mu.Unlock()
	w.call(call)
	return nil
}

func (f fakeEC2) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, _ ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	return &ec2.StopInstancesOutput{}, f.act(ctx, "StopInstances", "stopped", in.InstanceIds, ec2types.InstanceStateNameRunning,
		func(x *fakeInstance) { x.running = false })
}

func (f fakeEC2) StartInstances(ctx context.Context, in *ec2.StartInstancesInput, _ ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	return &ec2.StartInstancesOutput{}, f.act(ctx, "StartInstances", "started", in.InstanceIds, ec2types.InstanceStateNameStopped,
		func(x *fakeInstance) { x.running = true })
}

func (f fakeEC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	w := f.w
	return &ec2.TerminateInstancesOutput{}, f.act(ctx, "TerminateInstances", "terminated", in.InstanceIds, ec2types.InstanceStateNameRunning,
		func(x *fakeInstance) {
			x.running, x.terminated = false, true
			now := w.clock.Now()
			w.alarmHistory = append(w.alarmHistory, alarmChange{name: "dev-unhealthy-hosts", at: now.Add(downAlarmAt), from: "OK", to: "ALARM"},
				alarmChange{name: "dev-unhealthy-hosts", at: now.Add(downAlarmAt + downAlarmFor), from: "ALARM", to: "OK"})
		})
}

// ELB

type fakeELB struct{ w *world }

func (f fakeELB) checkARN(ctx context.Context, arn *string) error {
	if err := f.w.enter(ctx); err != nil {
		return err
	}
	if aws.ToString(arn) != testTargetARN {
		return fmt.Errorf("TargetGroupNotFound: %s", aws.ToString(arn))
	}
	return nil
}

func (f fakeELB) DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	if len(in.TargetGroupArns) != 1 {
		return nil, fmt.Errorf("want one target group, got %v", in.TargetGroupArns)
	}
	if err := f.checkARN(ctx, &in.TargetGroupArns[0]); err != nil {
		return nil, err
	}
	defer f.w.call("DescribeTargetGroups")
	return &elbv2.DescribeTargetGroupsOutput{TargetGroups: []elbtypes.TargetGroup{{TargetGroupArn: aws.String(testTargetARN),
		HealthCheckIntervalSeconds: aws.Int32(hcInterval), HealthCheckTimeoutSeconds: aws.Int32(hcTimeout), UnhealthyThresholdCount: aws.Int32(hcUnhealthy)}}}, nil
}

func (f fakeELB) DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	w := f.w
	if err := f.checkARN(ctx, in.TargetGroupArn); err != nil {
		return nil, err
	}
	defer w.call("DescribeTargetHealth")
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	w.replace(now)
	var out []elbtypes.TargetHealthDescription
	for id, x := range w.instances {
		if st := w.targetState(x, now); st != "" {
			out = append(out, elbtypes.TargetHealthDescription{
				Target:       &elbtypes.TargetDescription{Id: aws.String(id)},
				TargetHealth: &elbtypes.TargetHealth{State: st},
			})
		}
	}
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: out}, nil
}

// setRegistered (de)registers targets; registering needs a running instance, as on AWS.
func (f fakeELB) setRegistered(ctx context.Context, call string, arn *string, targets []elbtypes.TargetDescription, registered bool) error {
	w := f.w
	if err := f.checkARN(ctx, arn); err != nil {
		return err
	}
	w.mu.Lock()
	now := w.clock.Now()
	for _, t := range targets {
		id := aws.ToString(t.Id)
		x, ok := w.instances[id]
		if !ok || registered && w.state(x, now) != ec2types.InstanceStateNameRunning {
			w.mu.Unlock()
			return fmt.Errorf("api error InvalidTarget: The following targets are not in a running state and cannot be registered: '%s'", id)
		}
	}
	for _, t := range targets {
		x := w.instances[aws.ToString(t.Id)]
		x.registered, x.regSince = registered, now
		w.mutate("%s %s", map[bool]string{true: "register", false: "deregister"}[registered], aws.ToString(t.Id))
	}
	w.mu.Unlock()
	w.call(call)
	return nil
}

func (f fakeELB) RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	return &elbv2.RegisterTargetsOutput{}, f.setRegistered(ctx, "RegisterTargets", in.TargetGroupArn, in.Targets, true)
}

func (f fakeELB) DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	return &elbv2.DeregisterTargetsOutput{}, f.setRegistered(ctx, "DeregisterTargets", in.TargetGroupArn, in.Targets, false)
}

// Auto Scaling

type fakeASG struct{ w *world }

// replace is the group at work (fixed servers have no group): a lost server is deregistered
// and replaced replaceAfter after its loss.
func (w *world) replace(now time.Time) {
	if w.group == "" {
		return
	}
	for id, x := range w.instances {
		if !x.terminated || x.tags["replaced"] == "yes" || now.Sub(x.since) < replaceAfter {
			continue
		}
		x.tags["replaced"] = "yes"
		x.registered, x.regSince = false, x.since.Add(replaceAfter)
		w.launched++
		nid := fmt.Sprintf("i-0new%d", w.launched)
		w.instances[nid] = &fakeInstance{az: x.az, running: true, since: x.since.Add(replaceAfter), registered: true,
			regSince: x.since.Add(replaceAfter + bootTakes + hookTakes), tags: map[string]string{"project": testProject, "stack": testStack}}
		w.mutate("group replaces %s with %s", id, nid)
	}
}

// healthyServers counts the targets the load balancer holds healthy.
func (w *world) healthyServers() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	w.replace(now)
	n := 0
	for _, x := range w.instances {
		if w.targetState(x, now) == elbtypes.TargetHealthStateEnumHealthy && w.state(x, now) == ec2types.InstanceStateNameRunning {
			n++
		}
	}
	return n
}

func (f fakeASG) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return nil, err
	}
	defer w.call("DescribeAutoScalingGroups")
	if len(in.AutoScalingGroupNames) != 1 || in.AutoScalingGroupNames[0] != w.group {
		return &autoscaling.DescribeAutoScalingGroupsOutput{}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	w.replace(now)
	g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(w.group), DesiredCapacity: aws.Int32(int32(w.desired))}
	for k, v := range w.groupTags {
		g.Tags = append(g.Tags, astypes.TagDescription{Key: aws.String(k), Value: aws.String(v)})
	}
	for id, x := range w.instances {
		if x.terminated && now.Sub(x.since) >= replaceAfter {
			continue
		}
		state := astypes.LifecycleStateInService
		switch {
		case x.terminated:
			state = astypes.LifecycleStateTerminating
		case w.state(x, now) != ec2types.InstanceStateNameRunning:
			state = astypes.LifecycleStatePending
		}
		g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(id), LifecycleState: state, HealthStatus: aws.String("Healthy"),
			AvailabilityZone: aws.String(x.az)})
	}
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []astypes.AutoScalingGroup{g}}, nil
}

// RDS

type fakeRDS struct{ w *world }

func (f fakeRDS) DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return nil, err
	}
	defer w.call("DescribeDBInstances")
	if aws.ToString(in.DBInstanceIdentifier) != testDB {
		return nil, fmt.Errorf("DBInstanceNotFound: %s", aws.ToString(in.DBInstanceIdentifier))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	status, az, standby := "available", w.dbAZ, w.dbStandby
	if !w.rebootAt.IsZero() {
		if w.clock.Now().Sub(w.rebootAt) < dbRebootTakes {
			status = "rebooting"
		} else if w.dbMultiAZ {
			az, standby = standby, az
		}
	}
	var tags []rdstypes.Tag
	for k, v := range w.dbTags {
		tags = append(tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &rds.DescribeDBInstancesOutput{DBInstances: []rdstypes.DBInstance{{
		DBInstanceIdentifier: aws.String(testDB), DBInstanceStatus: aws.String(status),
		AvailabilityZone: aws.String(az), SecondaryAvailabilityZone: aws.String(standby),
		MultiAZ: aws.Bool(w.dbMultiAZ), TagList: tags,
	}}}, nil
}

func (f fakeRDS) RebootDBInstance(ctx context.Context, in *rds.RebootDBInstanceInput, _ ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error) {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return nil, err
	}
	w.mu.Lock()
	if !w.dbIgnoresReboot {
		w.rebootAt = w.clock.Now()
	}
	if !w.alarmSilent && !w.dbIgnoresReboot {
		w.alarmHistory = append(w.alarmHistory, alarmChange{name: failoverAlarm, at: w.rebootAt.Add(alarmAfter), from: "OK", to: "ALARM"},
			alarmChange{name: failoverAlarm, at: w.rebootAt.Add(alarmAfter + 5*time.Minute), from: "ALARM", to: "OK"})
	}
	w.mutate("reboot %s failover=%v", aws.ToString(in.DBInstanceIdentifier), aws.ToBool(in.ForceFailover))
	w.mu.Unlock()
	w.call("RebootDBInstance")
	return &rds.RebootDBInstanceOutput{}, nil
}

// CloudWatch

// alarmChange is one state update in an alarm's history, effective from its time on.
type alarmChange struct {
	name     string
	at       time.Time
	from, to string
}

type fakeCW struct{ w *world }

func (f fakeCW) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return nil, err
	}
	defer w.call("DescribeAlarms")
	w.mu.Lock()
	defer w.mu.Unlock()
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if st, ok := w.alarms[n]; ok {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValue(st)})
		}
	}
	return out, nil
}

// DescribeAlarmHistory serves one change per page, so that the drill must follow NextToken.
func (f fakeCW) DescribeAlarmHistory(ctx context.Context, in *cloudwatch.DescribeAlarmHistoryInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmHistoryOutput, error) {
	w := f.w
	if err := w.enter(ctx); err != nil {
		return nil, err
	}
	defer w.call("DescribeAlarmHistory")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.historyCalls++
	if in.HistoryItemType != cwtypes.HistoryItemTypeStateUpdate || in.StartDate == nil {
		return nil, fmt.Errorf("want state updates since a date, got %v since %v", in.HistoryItemType, in.StartDate)
	}
	var items []cwtypes.AlarmHistoryItem
	for _, c := range w.alarmHistory {
		if c.name != aws.ToString(in.AlarmName) || c.at.Before(*in.StartDate) || c.at.After(w.clock.Now()) {
			continue
		}
		data := fmt.Sprintf(`{"version":"1.0","oldState":{"stateValue":%q},"newState":{"stateValue":%q}}`, c.from, c.to)
		items = append(items, cwtypes.AlarmHistoryItem{AlarmName: aws.String(c.name), HistoryItemType: cwtypes.HistoryItemTypeStateUpdate,
			Timestamp: aws.Time(c.at), HistoryData: aws.String(data), HistorySummary: aws.String("Alarm updated from " + c.from + " to " + c.to)})
	}
	slices.Reverse(items) // newest first, as CloudWatch answers
	page := 0
	if in.NextToken != nil {
		_, _ = fmt.Sscan(*in.NextToken, &page)
	}
	out := &cloudwatch.DescribeAlarmHistoryOutput{}
	if page < len(items) {
		out.AlarmHistoryItems = items[page : page+1]
		if page+1 < len(items) {
			out.NextToken = aws.String(fmt.Sprint(page + 1))
		}
	}
	return out, nil
}

// testOptions are the defaults with a short baseline and steady run.
func testOptions() Options {
	o := DefaultOptions()
	o.BaselineProbes, o.SteadyProbes, o.PhaseTimeout, o.Yes = 5, 3, 5*time.Minute, true
	return o
}

func (w *world) target() Target {
	return Target{Project: testProject, Stack: testStack, Region: "ap-northeast-1", SiteURL: w.site.URL,
		TargetGroupARN: testTargetARN, DBIdentifier: testDB,
		Instances:  []Instance{{ID: victimID, AZ: primaryAZ}, {ID: otherID, AZ: standbyAZ}},
		AlarmNames: []string{"dev-alb-5xx-rate", failoverAlarm, "dev-unhealthy-hosts"}, DBFailoverAlarm: failoverAlarm}
}

func (w *world) drill(o Options) *Drill {
	c := w.clients()
	t := w.target()
	if w.group != "" {
		t.Group, t.Instances = w.group, nil
	}
	return &Drill{Target: t, Opts: o, EC2: c.EC2, ELB: c.ELB, RDS: c.RDS, ASG: c.ASG, CW: c.CW,
		HTTP: HTTPClient(), Clock: w.clock, Out: testWriter{w.t}}
}

func (w *world) clients() Clients {
	return Clients{EC2: fakeEC2{w}, ELB: fakeELB{w}, RDS: fakeRDS{w}, ASG: fakeASG{w}, CW: fakeCW{w}}
}

// inGroup makes the world's two servers an Auto Scaling group's (the autoscaling mode).
func (w *world) inGroup() *world {
	w.group, w.desired = "web-asg-abc123", 2
	w.groupTags = map[string]string{"project": testProject, "stack": testStack}
	return w
}

// testWriter keeps the drill's progress and shows it only when the test fails.
type testWriter struct{ t *testing.T }

func (tw testWriter) Write(p []byte) (int, error) {
	line := string(p)
	tw.t.Cleanup(func() {
		if tw.t.Failed() {
			tw.t.Log(line)
		}
	})
	return len(p), nil
}
