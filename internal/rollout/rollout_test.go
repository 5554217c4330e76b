package rollout

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// virtualClock advances only when slept on.
type virtualClock struct{ now time.Time }

func (c *virtualClock) Now() time.Time { return c.now }
func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

// step is the refresh as AWS reports it from a moment on.
type step struct {
	after   time.Duration
	status  astypes.InstanceRefreshStatus
	percent int32
	left    int32
	healthy int
	reason  string
}

// fakeAWS scripts a refresh over the virtual clock: each step holds from its time on.
type fakeAWS struct {
	clock   *virtualClock
	started time.Time
	steps   []step // empty: the group never had a refresh
	err     error  // returned by every call
	groups  int    // 0: the group does not exist
	polls   int
}

func (f *fakeAWS) current() step {
	cur := f.steps[0]
	for _, s := range f.steps {
		if f.clock.now.Sub(t0) >= s.after {
			cur = s
		}
	}
	return cur
}

func (f *fakeAWS) DescribeInstanceRefreshes(_ context.Context, in *autoscaling.DescribeInstanceRefreshesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	f.polls++
	if f.err != nil {
		return nil, f.err
	}
	if aws.ToString(in.AutoScalingGroupName) != "web-asg-1" || aws.ToInt32(in.MaxRecords) != 1 {
		return nil, errors.New("unexpected request")
	}
	if len(f.steps) == 0 {
		return &autoscaling.DescribeInstanceRefreshesOutput{}, nil
	}
	s := f.current()
	started := f.started
	return &autoscaling.DescribeInstanceRefreshesOutput{InstanceRefreshes: []astypes.InstanceRefresh{{
		InstanceRefreshId: aws.String("ir-1"), Status: s.status, PercentageComplete: aws.Int32(s.percent),
		InstancesToUpdate: aws.Int32(s.left), StatusReason: aws.String(s.reason), StartTime: &started,
	}}}, nil
}

func (f *fakeAWS) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	for range f.groups {
		out.AutoScalingGroups = append(out.AutoScalingGroups, astypes.AutoScalingGroup{DesiredCapacity: aws.Int32(2)})
	}
	return out, nil
}

func (f *fakeAWS) DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	healthy := 0
	if len(f.steps) > 0 {
		healthy = f.current().healthy
	}
	out := &elbv2.DescribeTargetHealthOutput{}
	for i := range 3 {
		state := elbtypes.TargetHealthStateEnumUnhealthy
		if i < healthy {
			state = elbtypes.TargetHealthStateEnumHealthy
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, elbtypes.TargetHealthDescription{TargetHealth: &elbtypes.TargetHealth{State: state}})
	}
	return out, nil
}

func inProgress(after time.Duration, percent, left int32, healthy int) step {
	return step{after: after, status: astypes.InstanceRefreshStatusInProgress, percent: percent, left: left, healthy: healthy}
}

// run runs the command with a scripted AWS and returns the exit code and what it printed.
func run(t *testing.T, f *fakeAWS, outputs string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Main(context.Background(), args, Env{
		Stdout: &out, Stderr: &out, Clock: f.clock,
		Run: func(_ context.Context, _, name string, a ...string) ([]byte, error) {
			if name != "pulumi" || strings.Join(a, " ") != "stack output --json --stack dev" {
				return nil, errors.New("unexpected command")
			}
			return []byte(outputs), nil
		},
		AWS: func(_ context.Context, region string) (AutoScaling, ELB, error) {
			if region != "ap-northeast-1" {
				return nil, nil, errors.New("wrong region " + region)
			}
			return f, f, nil
		},
	})
	return code, out.String()
}

const asgOutputs = `{"region":"ap-northeast-1","webAutoScalingGroupName":"web-asg-1","targetGroupArn":"arn:tg","webTierMode":"autoscaling"}`

func newFake(steps ...step) *fakeAWS {
	c := &virtualClock{now: t0}
	return &fakeAWS{clock: c, started: t0.Add(-time.Minute), steps: steps, groups: 1}
}

func TestRolloutEnds(t *testing.T) {
	cases := []struct {
		name   string
		steps  []step
		code   int
		prints []string
	}{
		{"in progress, then successful", []step{inProgress(0, 0, 2, 2), inProgress(90*time.Second, 50, 1, 3),
			{after: 4 * time.Minute, status: astypes.InstanceRefreshStatusSuccessful, percent: 100, healthy: 2}},
			ExitOK, []string{"InProgress 0%, 2 instance(s) left to replace, 2/2 healthy targets", "InProgress 50%, 1 instance(s) left", "refresh ir-1 successful; 2/2 healthy targets"}},
		{"failed", []step{inProgress(0, 0, 2, 2), {after: time.Minute, status: astypes.InstanceRefreshStatusFailed, reason: "launch failed", healthy: 2}},
			ExitFailed, []string{"ended Failed", "launch failed"}},
		{"cancelled", []step{inProgress(0, 0, 2, 2), {after: time.Minute, status: astypes.InstanceRefreshStatusCancelled, healthy: 2}},
			ExitFailed, []string{"ended Cancelled"}},
		{"rolled back on an alarm", []step{inProgress(0, 50, 1, 2), {after: time.Minute, status: astypes.InstanceRefreshStatusRollbackInProgress, healthy: 2},
			{after: 3 * time.Minute, status: astypes.InstanceRefreshStatusRollbackSuccessful, reason: "alarm lb-rollout-5xx-rate in ALARM", healthy: 2}},
			ExitFailed, []string{"RollbackInProgress", "ended RollbackSuccessful", "lb-rollout-5xx-rate"}},
		{"rollback failed", []step{{after: 0, status: astypes.InstanceRefreshStatusRollbackFailed, healthy: 1}}, ExitFailed, []string{"ended RollbackFailed"}},
		{"still running when the time runs out", []step{inProgress(0, 10, 2, 2)}, ExitFailed, []string{"did not end in time", "still InProgress after 5m0s"}},
		{"no refresh ever", nil, ExitOK, []string{"no instance refresh of web-asg-1 to follow"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(c.steps...)
			code, out := run(t, f, asgOutputs, "--stack", "dev", "--timeout", "5m", "--interval", "15s")
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, out)
			}
			for _, p := range c.prints {
				if !strings.Contains(out, p) {
					t.Errorf("output lacks %q:\n%s", p, out)
				}
			}
			if f.clock.now.Sub(t0) > 5*time.Minute+15*time.Second {
				t.Errorf("the watch went on %s, past its bound", f.clock.now.Sub(t0))
			}
		})
	}
}

// Progress lines are printed when something changed, not on every poll.
func TestRolloutPrintsChangesOnly(t *testing.T) {
	f := newFake(inProgress(0, 0, 2, 2), step{after: 10 * time.Minute, status: astypes.InstanceRefreshStatusSuccessful, percent: 100, healthy: 2})
	code, out := run(t, f, asgOutputs, "--stack", "dev", "--interval", "15s")
	if code != ExitOK || f.polls < 40 || strings.Count(out, "InProgress") != 1 {
		t.Errorf("exit %d after %d polls; want one progress line for an unchanged refresh:\n%s", code, f.polls, out)
	}
}

// --since: an older refresh belongs to an earlier deploy, whatever its status.
func TestRolloutSince(t *testing.T) {
	f := newFake(step{after: 0, status: astypes.InstanceRefreshStatusFailed, healthy: 2})
	code, out := run(t, f, asgOutputs, "--stack", "dev", "--since", "30s")
	if code != ExitOK || !strings.Contains(out, "no instance refresh of web-asg-1 started since") {
		t.Errorf("exit %d; an old failed refresh is not this deploy's:\n%s", code, out)
	}
	if _, out := run(t, newFake(), asgOutputs, "--stack", "dev", "--since", "yesterday"); !strings.Contains(out, "neither an RFC 3339 time") {
		t.Errorf("a bad --since must be explained:\n%s", out)
	}
	code, _ = run(t, newFake(step{after: 0, status: astypes.InstanceRefreshStatusFailed}), asgOutputs, "--stack", "dev", "--since", t0.Add(-2*time.Minute).Format(time.RFC3339))
	if code != ExitFailed {
		t.Errorf("a refresh started after --since is this deploy's: exit %d, want %d", code, ExitFailed)
	}
}

func TestRolloutCannotWatch(t *testing.T) {
	for _, c := range []struct {
		name, outputs string
		f             *fakeAWS
		args          []string
		code          int
		says          string
	}{
		{"the fixed mode", `{"region":"ap-northeast-1","webTierMode":"fixed"}`, newFake(), []string{"--stack", "dev"}, ExitOK, "no rolling refresh to follow"},
		{"no group", `{"region":"ap-northeast-1"}`, newFake(), []string{"--stack", "dev"}, ExitCouldNot, "no Auto Scaling group"},
		{"outputs not JSON", `not json`, newFake(), []string{"--stack", "dev"}, ExitCouldNot, "not the JSON expected"},
		{"an AWS error", asgOutputs, &fakeAWS{clock: &virtualClock{now: t0}, err: errors.New("AccessDenied")}, []string{"--stack", "dev"}, ExitCouldNot, "AccessDenied"},
		{"the group is gone", asgOutputs, &fakeAWS{clock: &virtualClock{now: t0}, steps: []step{inProgress(0, 0, 1, 1)}}, []string{"--stack", "dev"}, ExitCouldNot, "does not exist"},
		{"stray arguments", asgOutputs, newFake(), []string{"--stack", "dev", "now"}, ExitCouldNot, "unexpected arguments"},
		{"bad bounds", asgOutputs, newFake(), []string{"--stack", "dev", "--interval", "1m", "--timeout", "10s"}, ExitCouldNot, "--timeout at least one --interval"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := run(t, c.f, c.outputs, c.args...)
			if code != c.code || !strings.Contains(out, c.says) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", code, c.code, c.says, out)
			}
		})
	}
}

func TestRolloutInterrupted(t *testing.T) {
	f := newFake(inProgress(0, 0, 2, 2))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := Watcher{Group: "web-asg-1", Interval: time.Second, Timeout: time.Hour, ASG: f, ELB: f, Clock: f.clock}
	if _, err := w.Watch(ctx); err == nil || !strings.Contains(err.Error(), "interrupted while the refresh was InProgress") {
		t.Errorf("err = %v", err)
	}
}
