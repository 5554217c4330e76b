// Package rollout follows the Auto Scaling group's instance refresh that `pulumi up`
// started, to its end. The provider starts the refresh and returns at once, so a deploy
// pipeline is green before the new servers serve (or roll back); this watcher is what says
// when the rollout really ended, and how.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/example/scalable-wordpress/internal/clock"
)

// AutoScaling are the Auto Scaling calls the watcher makes (read-only).
type AutoScaling interface {
	DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// ELB reads the target group's view of the servers.
type ELB interface {
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// Watcher follows the latest instance refresh of one group.
type Watcher struct {
	Group          string
	TargetGroupARN string
	Since          time.Time     // a refresh started before this is not this deploy's (zero: any)
	Interval       time.Duration // between polls
	Timeout        time.Duration // bound on the whole watch
	ASG            AutoScaling
	ELB            ELB
	Clock          clock.Clock
	Out            io.Writer
}

// Outcome is how the watch ended.
type Outcome struct {
	RefreshID  string
	Status     string // the refresh's last status; "" when there was none to follow
	Reason     string
	Percentage int32
	Healthy    int // healthy targets at the end
	Desired    int // the group's desired capacity at the end
	Elapsed    time.Duration
}

// Succeeded reports whether the rollout ended well (or there was none to follow).
func (o Outcome) Succeeded() bool {
	return o.Status == "" || o.Status == string(astypes.InstanceRefreshStatusSuccessful)
}

// Rolled reports whether a refresh of this deploy ended successful: a new release settled.
func (o Outcome) Rolled() bool {
	return o.Status == string(astypes.InstanceRefreshStatusSuccessful)
}

// ErrTimeout means the refresh was still running when the watch's time ran out.
var ErrTimeout = errors.New("the instance refresh did not end in time")

// terminal are the statuses a refresh does not leave. The others (Pending, InProgress,
// Baking, Cancelling, RollbackInProgress) are followed.
var terminal = map[astypes.InstanceRefreshStatus]bool{
	astypes.InstanceRefreshStatusSuccessful:         true,
	astypes.InstanceRefreshStatusFailed:             true,
	astypes.InstanceRefreshStatusCancelled:          true,
	astypes.InstanceRefreshStatusRollbackSuccessful: true,
	astypes.InstanceRefreshStatusRollbackFailed:     true,
}

// Watch polls the group's latest refresh until it ends, printing its progress when it
// changes. The error is for what kept it from watching (AWS, time, interruption); how the
// refresh ended is in the outcome.
func (w *Watcher) Watch(ctx context.Context) (Outcome, error) {
	start := w.Clock.Now()
	var o Outcome
	last, planned := "", false
	for {
		refresh, err := w.latest(ctx)
		if err != nil {
			return o, err
		}
		if refresh == nil {
			w.logf("no instance refresh of %s to follow: nothing rolled", w.Group)
			return o, nil
		}
		o.RefreshID, o.Status = aws.ToString(refresh.InstanceRefreshId), string(refresh.Status)
		o.Reason, o.Percentage = aws.ToString(refresh.StatusReason), aws.ToInt32(refresh.PercentageComplete)
		if !w.Since.IsZero() && refresh.StartTime != nil && refresh.StartTime.Before(w.Since) {
			w.logf("no instance refresh of %s started since %s (the last one, %s, is %s): nothing rolled",
				w.Group, w.Since.Format(time.RFC3339), o.RefreshID, o.Status)
			o.Status = ""
			return o, nil
		}
		if o.Healthy, o.Desired, err = w.capacity(ctx); err != nil {
			return o, err
		}
		o.Elapsed = w.Clock.Now().Sub(start)
		if !planned {
			w.logPauses(refresh)
			planned = true
		}
		line := fmt.Sprintf("%s %d%%, %d instance(s) left to replace, %d/%d healthy targets", o.Status, o.Percentage,
			aws.ToInt32(refresh.InstancesToUpdate), o.Healthy, o.Desired)
		if o.Reason != "" {
			line += ": " + o.Reason
		}
		if note := phase(refresh); note != "" {
			line += " (" + note + ")"
		}
		if line != last {
			w.logf("[%5.0fs] refresh %s: %s", o.Elapsed.Seconds(), o.RefreshID, line)
			last = line
		}
		if terminal[refresh.Status] {
			return o, nil
		}
		if o.Elapsed >= w.Timeout {
			return o, fmt.Errorf("%w: still %s after %s (raise --timeout, or look at the group's activity)", ErrTimeout, o.Status, w.Timeout)
		}
		if err := w.Clock.Sleep(ctx, w.Interval); err != nil {
			return o, fmt.Errorf("interrupted while the refresh was %s: %w", o.Status, err)
		}
	}
}

// defaultCheckpointDelay is the wait at a checkpoint when the refresh names checkpoints
// without a delay (Auto Scaling's default).
const defaultCheckpointDelay = time.Hour

// pauses are the checkpoints of a refresh (percentages of the group replaced), the wait at
// each, and the bake time after the last replacement: time the refresh spends on purpose.
func pauses(r *astypes.InstanceRefresh) (checkpoints []int32, delay, bake time.Duration) {
	p := r.Preferences
	if p == nil {
		return nil, 0, 0
	}
	checkpoints = slices.Sorted(slices.Values(p.CheckpointPercentages))
	if len(checkpoints) > 0 {
		delay = defaultCheckpointDelay
		if p.CheckpointDelay != nil {
			delay = time.Duration(*p.CheckpointDelay) * time.Second
		}
	}
	if p.BakeTime != nil {
		bake = time.Duration(*p.BakeTime) * time.Second
	}
	return checkpoints, delay, bake
}

// logPauses says, once, how long the refresh will wait on purpose, and warns when the
// watch's bound cannot cover it.
func (w *Watcher) logPauses(r *astypes.InstanceRefresh) {
	checkpoints, delay, bake := pauses(r)
	total := time.Duration(len(checkpoints))*delay + bake
	if total == 0 {
		return
	}
	var parts []string
	if len(checkpoints) > 0 {
		parts = append(parts, fmt.Sprintf("checkpoints at %v%% of the group, %s each", checkpoints, delay))
	}
	if bake > 0 {
		parts = append(parts, fmt.Sprintf("bake time %s", bake))
	}
	w.logf("refresh %s pauses %s in all on purpose (%s): waiting there is normal",
		aws.ToString(r.InstanceRefreshId), total, strings.Join(parts, "; "))
	if total >= w.Timeout {
		w.logf("warning: --timeout %s is shorter than those pauses alone: the watch will give up while the refresh goes on (raise it, e.g. --timeout %s)",
			w.Timeout, (total + 30*time.Minute).Round(time.Minute))
	}
}

// phase explains a refresh that waits on purpose: at a checkpoint, or baking.
func phase(r *astypes.InstanceRefresh) string {
	checkpoints, delay, bake := pauses(r)
	percent := aws.ToInt32(r.PercentageComplete)
	switch r.Status {
	case astypes.InstanceRefreshStatusBaking:
		wait := "its bake time"
		if bake > 0 {
			wait = bake.String()
		}
		return fmt.Sprintf("every instance replaced; baking: it waits %s before it counts as successful, and an alarm still rolls it back", wait)
	case astypes.InstanceRefreshStatusInProgress:
		reached := int32(0)
		for _, c := range checkpoints {
			if percent >= c {
				reached = c
			}
		}
		switch {
		case reached == 0:
			return ""
		case reached >= 100:
			return fmt.Sprintf("checkpoint %d%% reached: every instance replaced; it waits up to %s before it counts as successful, normal", reached, delay)
		default:
			return fmt.Sprintf("checkpoint %d%% reached: it waits up to %s here before it replaces more, normal", reached, delay)
		}
	case astypes.InstanceRefreshStatusRollbackInProgress:
		return "rolling back to the release before"
	case astypes.InstanceRefreshStatusCancelling:
		return "being cancelled"
	}
	return ""
}

// latest is the group's most recent instance refresh, or nil.
func (w *Watcher) latest(ctx context.Context) (*astypes.InstanceRefresh, error) {
	out, err := w.ASG.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{
		AutoScalingGroupName: aws.String(w.Group), MaxRecords: aws.Int32(1),
	})
	if err != nil {
		return nil, fmt.Errorf("read the instance refreshes of %s: %w", w.Group, err)
	}
	if len(out.InstanceRefreshes) == 0 {
		return nil, nil
	}
	return &out.InstanceRefreshes[0], nil
}

// capacity is the number of healthy targets and the group's desired capacity.
func (w *Watcher) capacity(ctx context.Context) (healthy, desired int, err error) {
	groups, err := w.ASG.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.Group}})
	if err != nil {
		return 0, 0, fmt.Errorf("read the group %s: %w", w.Group, err)
	}
	if len(groups.AutoScalingGroups) == 0 {
		return 0, 0, fmt.Errorf("the group %s does not exist (is the stack deployed in this account and region?)", w.Group)
	}
	desired = int(aws.ToInt32(groups.AutoScalingGroups[0].DesiredCapacity))
	if w.TargetGroupARN == "" {
		return 0, desired, nil
	}
	th, err := w.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.TargetGroupARN)})
	if err != nil {
		return 0, 0, fmt.Errorf("read the target group's health: %w", err)
	}
	for _, d := range th.TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == "healthy" {
			healthy++
		}
	}
	return healthy, desired, nil
}

func (w *Watcher) logf(format string, args ...any) {
	if w.Out != nil {
		fmt.Fprintf(w.Out, format+"\n", args...)
	}
}
