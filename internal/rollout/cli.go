package rollout

// The command line: flags, stack outputs, the watch and the exit code. cmd/rollout wires it
// to the real AWS clients and the pulumi CLI.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Exit codes: the rollout ended well (or nothing rolled); it failed, was cancelled, rolled
// back or did not end in time; the watcher could not run.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitCouldNot = 2
)

// Env is everything the command needs from the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Run            stack.Runner
	AWS            func(ctx context.Context, region string) (AutoScaling, ELB, error)
	Clock          clock.Clock
}

// Target is what the watcher follows: its view of the stack outputs (internal/stack), which
// flags may override.
type Target struct {
	Region         string
	Group          string
	TargetGroupARN string
	Mode           string
}

// TargetFrom is the watcher's view of a stack's outputs.
func TargetFrom(o stack.Outputs) Target {
	return Target{Region: o.Region, Group: o.WebAutoScalingGroupName, TargetGroupARN: o.TargetGroupARN, Mode: o.WebTierMode}
}

// Main runs the rollout command with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		stackName, dir, since string
		o                     Target
		w                     = Watcher{Clock: env.Clock, Out: env.Stdout}
	)
	fs.StringVar(&stackName, "stack", "", "Pulumi stack whose group to follow (its outputs name the group and region)")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&o.Group, "group", "", "Auto Scaling group name (default: output "+stack.KeyGroup+")")
	fs.StringVar(&o.Region, "region", "", "AWS region (default: output "+stack.KeyRegion+")")
	fs.StringVar(&o.TargetGroupARN, "target-group", "", "target group ARN, for the healthy count (default: output "+stack.KeyTargetGroupARN+")")
	fs.StringVar(&since, "since", "", "follow only a refresh started at or after this time (RFC 3339), or this long ago (e.g. 30m); default: the latest")
	fs.DurationVar(&w.Interval, "interval", 15*time.Second, "time between polls")
	fs.DurationVar(&w.Timeout, "timeout", 45*time.Minute, "give up (exit 1) when the refresh runs longer than this")
	if err := fs.Parse(args); err != nil {
		return ExitCouldNot
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "rollout: "+format+"\n", a...)
		return ExitCouldNot
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if w.Interval <= 0 || w.Timeout < w.Interval {
		return fail("--interval must be positive and --timeout at least one --interval")
	}
	var err error
	if w.Since, err = parseSince(since, env.Clock.Now()); err != nil {
		return fail("%v", err)
	}
	if stackName != "" && (o.Group == "" || o.Region == "" || o.TargetGroupARN == "") {
		var so stack.Outputs
		if err := stack.Read(ctx, env.Run, dir, stackName, &so); err != nil {
			return fail("%v", err)
		}
		out := TargetFrom(so)
		if out.Mode != "" && out.Group == "" {
			fmt.Fprintf(env.Stdout, "stack %s runs the web tier in %s mode: no Auto Scaling group, no rolling refresh to follow\n", stackName, out.Mode)
			return ExitOK
		}
		o = merge(o, out)
	}
	switch {
	case o.Group == "":
		return fail("no Auto Scaling group: pass --stack (output %s) or --group", stack.KeyGroup)
	case o.Region == "":
		return fail("no region: pass --stack (output %s) or --region", stack.KeyRegion)
	}
	w.Group, w.TargetGroupARN = o.Group, o.TargetGroupARN
	if w.ASG, w.ELB, err = env.AWS(ctx, o.Region); err != nil {
		return fail("AWS configuration for %s: %v", o.Region, err)
	}
	outcome, err := w.Watch(ctx)
	switch {
	case errors.Is(err, ErrTimeout):
		fmt.Fprintf(env.Stderr, "rollout: %v\n", err)
		return ExitFailed
	case err != nil:
		return fail("%v", err)
	case !outcome.Succeeded():
		fmt.Fprintf(env.Stderr, "rollout: refresh %s ended %s after %.0fs: %s\n", outcome.RefreshID, outcome.Status, outcome.Elapsed.Seconds(), outcome.Reason)
		return ExitFailed
	}
	if outcome.Status != "" {
		fmt.Fprintf(env.Stdout, "rollout: refresh %s successful; %d/%d healthy targets\n", outcome.RefreshID, outcome.Healthy, outcome.Desired)
	}
	return ExitOK
}

// merge fills what the flags left empty from the stack's outputs.
func merge(flags, out Target) Target {
	if flags.Group == "" {
		flags.Group = out.Group
	}
	if flags.Region == "" {
		flags.Region = out.Region
	}
	if flags.TargetGroupARN == "" {
		flags.TargetGroupARN = out.TargetGroupARN
	}
	return flags
}

// parseSince reads --since: an RFC 3339 time or a duration before now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q is neither an RFC 3339 time (2026-11-24T10:00:00Z) nor a duration (30m)", v)
}
