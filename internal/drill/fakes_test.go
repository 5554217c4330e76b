package drill

// A simulated stack: EC2, ELB and RDS fakes that move through the states AWS goes
// through, on a virtual clock that the probe loop and the local site share, so scripted
// outages are measured exactly and the tests take milliseconds.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
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
	drainTakes     = 8 * time.Second  // target draining -> unused
	bootTakes      = 10 * time.Second // pending -> running
	healthyAfter   = 15 * time.Second // running -> target healthy
	dbRebootTakes  = 40 * time.Second // rebooting -> available, primary moved
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
	since      time.Time // of the last stop or start
	terminated bool      // by its Auto Scaling group
}

// Simulated Auto Scaling timings: a lost server's replacement launches this long after the
// loss (the group's health check and scaling activity).
const replaceAfter = 12 * time.Second

type world struct {
	t     *testing.T
	clock *fakeClock
	mu    sync.Mutex

	instances map[string]*fakeInstance
	stuck     bool // the target group never notices a stopped server

	group     string            // the autoscaling mode's group; "" for fixed servers
	groupTags map[string]string // its tags
	desired   int
	launched  int // replacements launched so far

	dbTags    map[string]string
	dbMultiAZ bool
	dbAZ      string
	dbStandby string
	rebootAt  time.Time // zero until RebootDBInstance

	mutations []string
	onCall    func(call string) // test hook, called with every AWS call

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
		victimID: {az: primaryAZ, running: true, tags: map[string]string{"project": testProject, "stack": testStack}},
		otherID:  {az: standbyAZ, running: true, tags: map[string]string{"project": testProject, "stack": testStack}},
	}
	w.siteDown = func(*world, time.Time) bool { return false }
	w.site = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		now := w.clock.Now()
		w.clock.advance(w.latency)
		w.mu.Lock()
		down := w.siteDown(w, now)
		w.mu.Unlock()
		if down {
			http.Error(rw, "504 Gateway Time-out", http.StatusGatewayTimeout)
			return
		}
		_, _ = rw.Write([]byte("<html>はじめてのAWS</html>"))
	}))
	t.Cleanup(w.site.Close)
	return w
}

func (w *world) call(name string) {
	if w.onCall != nil {
		w.onCall(name)
	}
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
	case now.Sub(in.since) < stopTakes:
		return ec2types.InstanceStateNameStopping
	}
	return ec2types.InstanceStateNameStopped
}

func (w *world) targetState(in *fakeInstance, now time.Time) elbtypes.TargetHealthStateEnum {
	switch {
	case in.running && (in.since.IsZero() || now.Sub(in.since) >= bootTakes+healthyAfter):
		return elbtypes.TargetHealthStateEnumHealthy
	case in.running:
		return elbtypes.TargetHealthStateEnumInitial
	case w.stuck:
		return elbtypes.TargetHealthStateEnumHealthy
	case now.Sub(in.since) < drainTakes:
		return elbtypes.TargetHealthStateEnumDraining
	}
	return elbtypes.TargetHealthStateEnumUnused
}

// EC2

type fakeEC2 struct{ w *world }

func (f fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	w := f.w
	w.call("DescribeInstances")
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

func (f fakeEC2) StopInstances(_ context.Context, in *ec2.StopInstancesInput, _ ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	w := f.w
	w.mu.Lock()
	for _, id := range in.InstanceIds {
		w.instances[id].running, w.instances[id].since = false, w.clock.Now()
		w.mutate("stop %s", id)
	}
	w.mu.Unlock()
	w.call("StopInstances")
	return &ec2.StopInstancesOutput{}, nil
}

func (f fakeEC2) StartInstances(ctx context.Context, in *ec2.StartInstancesInput, _ ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // as the SDK would with a cancelled context
	}
	w := f.w
	w.mu.Lock()
	for _, id := range in.InstanceIds {
		w.instances[id].running, w.instances[id].since = true, w.clock.Now()
		w.mutate("start %s", id)
	}
	w.mu.Unlock()
	w.call("StartInstances")
	return &ec2.StartInstancesOutput{}, nil
}

// ELB

type fakeELB struct{ w *world }

func (f fakeELB) DescribeTargetHealth(_ context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	w := f.w
	w.call("DescribeTargetHealth")
	if aws.ToString(in.TargetGroupArn) != testTargetARN {
		return nil, fmt.Errorf("TargetGroupNotFound: %s", aws.ToString(in.TargetGroupArn))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	w.replace(now)
	var out []elbtypes.TargetHealthDescription
	for id, x := range w.instances {
		if x.terminated && now.Sub(x.since) >= drainTakes {
			continue // deregistered
		}
		out = append(out, elbtypes.TargetHealthDescription{
			Target:       &elbtypes.TargetDescription{Id: aws.String(id)},
			TargetHealth: &elbtypes.TargetHealth{State: w.targetState(x, now)},
		})
	}
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: out}, nil
}

// Auto Scaling

type fakeASG struct{ w *world }

// replace launches the group's replacements that are due.
func (w *world) replace(now time.Time) {
	for id, x := range w.instances {
		if !x.terminated || x.tags["replaced"] == "yes" || now.Sub(x.since) < replaceAfter {
			continue
		}
		x.tags["replaced"] = "yes"
		w.launched++
		nid := fmt.Sprintf("i-0new%d", w.launched)
		w.instances[nid] = &fakeInstance{az: x.az, running: true, since: x.since.Add(replaceAfter),
			tags: map[string]string{"project": testProject, "stack": testStack}}
		w.mutate("group replaces %s with %s", id, nid)
	}
}

func (f fakeASG) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	w := f.w
	w.call("DescribeAutoScalingGroups")
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
		if x.terminated && now.Sub(x.since) >= stopTakes {
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

func (f fakeASG) TerminateInstanceInAutoScalingGroup(_ context.Context, in *autoscaling.TerminateInstanceInAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error) {
	w := f.w
	w.mu.Lock()
	id := aws.ToString(in.InstanceId)
	x, ok := w.instances[id]
	if !ok || x.terminated {
		w.mu.Unlock()
		return nil, fmt.Errorf("ValidationError: instance %s is not part of an Auto Scaling group", id)
	}
	x.terminated, x.running, x.since = true, false, w.clock.Now()
	w.mutate("terminate %s decrement=%v", id, aws.ToBool(in.ShouldDecrementDesiredCapacity))
	w.mu.Unlock()
	w.call("TerminateInstanceInAutoScalingGroup")
	return &autoscaling.TerminateInstanceInAutoScalingGroupOutput{}, nil
}

// RDS

type fakeRDS struct{ w *world }

func (f fakeRDS) DescribeDBInstances(_ context.Context, in *rds.DescribeDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	w := f.w
	w.call("DescribeDBInstances")
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

func (f fakeRDS) RebootDBInstance(_ context.Context, in *rds.RebootDBInstanceInput, _ ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error) {
	w := f.w
	w.mu.Lock()
	w.rebootAt = w.clock.Now()
	w.mutate("reboot %s failover=%v", aws.ToString(in.DBInstanceIdentifier), aws.ToBool(in.ForceFailover))
	w.mu.Unlock()
	w.call("RebootDBInstance")
	return &rds.RebootDBInstanceOutput{}, nil
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
		Instances: []Instance{{ID: victimID, AZ: primaryAZ}, {ID: otherID, AZ: standbyAZ}}}
}

func (w *world) drill(o Options) *Drill {
	c := w.clients()
	t := w.target()
	if w.group != "" {
		t.Group, t.Instances = w.group, nil
	}
	return &Drill{Target: t, Opts: o, EC2: c.EC2, ELB: c.ELB, RDS: c.RDS, ASG: c.ASG,
		HTTP: HTTPClient(), Clock: w.clock, Out: testWriter{w.t}}
}

func (w *world) clients() Clients {
	return Clients{EC2: fakeEC2{w}, ELB: fakeELB{w}, RDS: fakeRDS{w}, ASG: fakeASG{w}}
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
