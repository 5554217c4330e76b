package rollout

// The command line: flags, stack outputs, the watch and the exit code. cmd/rollout wires it
// to the real AWS clients and the pulumi CLI.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/images"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Exit codes, one per way a rollout ends (docs/operations.md#the-rollout-watcher):
const (
	ExitOK             = 0 // the refresh succeeded (its older images pruned), or nothing rolled
	ExitFailed         = 1 // the refresh failed or was cancelled, without a rollback
	ExitCouldNot       = 2 // the watcher could not run (flags, outputs, AWS, interrupted)
	ExitRolledBack     = 3 // the refresh rolled back: the release before serves, the new one failed
	ExitRollbackFailed = 4 // the rollback failed: the group may run both releases
	ExitTimeout        = 5 // the refresh was still running when --timeout ran out
)

// Env is everything the command needs from the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Run            stack.Runner
	AWS            func(ctx context.Context, region string) (AutoScaling, ELB, error)
	EC2            func(ctx context.Context, region string) (images.EC2, error) // the image pruner's
	Clock          clock.Clock
	Getenv         func(string) string // nil: no environment (GITHUB_ACTIONS turns warnings into annotations)
}

// Target is what the watcher follows: its view of the stack outputs (internal/stack), which
// flags may override.
type Target struct {
	Region         string
	Group          string
	TargetGroupARN string
	Mode           string
	Images         images.Target // what pruning the stack's images needs
}

// TargetFrom is the watcher's view of a stack's outputs.
func TargetFrom(o stack.Outputs) Target {
	return Target{Region: o.Region, Group: o.WebAutoScalingGroupName, TargetGroupARN: o.TargetGroupARN, Mode: o.WebTierMode,
		Images: images.TargetFrom(o)}
}

// Main runs the rollout command with args (without the program name) and returns the exit
// code; `images ...` runs the images command (internal/images).
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && args[0] == "images" {
		return images.Main(ctx, args[1:], images.Env{Stdout: env.Stdout, Stderr: env.Stderr, Run: env.Run, EC2: env.EC2})
	}
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		stackName, dir, since, project string
		prune                          bool
		o                              Target
		w                              = Watcher{Clock: env.Clock, Out: env.Stdout}
	)
	fs.StringVar(&stackName, "stack", "", "Pulumi stack whose group to follow (its outputs name the group and region)")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&o.Group, "group", "", "Auto Scaling group name (default: output "+stack.KeyGroup+")")
	fs.StringVar(&o.Region, "region", "", "AWS region (default: output "+stack.KeyRegion+")")
	fs.StringVar(&o.TargetGroupARN, "target-group", "", "target group ARN, for the healthy count (default: output "+stack.KeyTargetGroupARN+")")
	fs.StringVar(&since, "since", "", "follow only a refresh started at or after this time (RFC 3339), or this long ago (e.g. 30m); default: the latest")
	fs.DurationVar(&w.Interval, "interval", 15*time.Second, "time between polls")
	fs.DurationVar(&w.Timeout, "timeout", DefaultTimeout, "give up (exit 5) when the refresh runs longer than this (its checkpoints and bake time included)")
	fs.BoolVar(&prune, "prune", true, "after a successful refresh, remove the stack's golden images older than the newest "+stack.KeyImagesKept+" (never one in use); needs --stack")
	fs.StringVar(&project, "project", "", "Pulumi project, whose tag the images carry (default: the name in --cwd's Pulumi.yaml)")
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
	if stackName != "" {
		var so stack.Outputs
		if err := stack.Read(ctx, env.Run, dir, stackName, &so); err != nil {
			return fail("%v", err)
		}
		out := TargetFrom(so)
		if out.Mode != "" && out.Group == "" {
			fmt.Fprintf(env.Stdout, "stack %s runs the web tier in %s mode: no Auto Scaling group, no rolling refresh to follow "+
				"(nor images pruned: `go run ./cmd/rollout images --stack %s` does it)\n", stackName, out.Mode, stackName)
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
		fmt.Fprintf(env.Stderr, "rollout: %v; the refresh goes on in AWS: run the watcher again to follow it (images not pruned)\n", err)
		return ExitTimeout
	case err != nil:
		return fail("%v", err)
	case !outcome.Succeeded():
		return ended(env.Stderr, o.Group, outcome)
	}
	if !outcome.Rolled() {
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "rollout: refresh %s successful; %d/%d healthy targets\n", outcome.RefreshID, outcome.Healthy, outcome.Desired)
	if prune {
		pruneImages(ctx, env, stackName, project, dir, o)
	}
	return ExitOK
}

// DefaultTimeout bounds a watch: a refresh with checkpoints at 50 % and 100 % of the group,
// about 10 minutes' wait at each, and two replacement rounds (a launch, its boot and warm-up:
// 5 to 10 minutes each) takes 40 to 45 minutes; a rollback at the end as long again.
const DefaultTimeout = 90 * time.Minute

// ended reports a refresh that did not succeed and returns its exit code.
func ended(stderr io.Writer, group string, o Outcome) int {
	reason := o.Reason
	if reason == "" {
		reason = "no reason given (see the group's activity)"
	}
	activity := fmt.Sprintf("aws autoscaling describe-scaling-activities --auto-scaling-group-name %s --max-items 20", group)
	switch astypes.InstanceRefreshStatus(o.Status) {
	case astypes.InstanceRefreshStatusRollbackSuccessful:
		fmt.Fprintf(stderr, "rollout: rolled back: the previous release serves; the new one failed: %s\n"+
			"rollout: refresh %s ended RollbackSuccessful after %.0fs; fix the change and deploy again (its image is kept until a later successful refresh prunes it)\n",
			reason, o.RefreshID, o.Elapsed.Seconds())
		return ExitRolledBack
	case astypes.InstanceRefreshStatusRollbackFailed:
		fmt.Fprintf(stderr, "rollout: the rollback failed: the group may run a mix of the new and the previous release: %s\n"+
			"rollout: refresh %s ended RollbackFailed after %.0fs. Read the group's activity (%s), then put one release on every server: "+
			"revert the change and run pulumi up, or start an instance refresh to the launch template version you want (docs/operations.md#rolling-back-by-hand)\n",
			reason, o.RefreshID, o.Elapsed.Seconds(), activity)
		return ExitRollbackFailed
	case astypes.InstanceRefreshStatusCancelled:
		fmt.Fprintf(stderr, "rollout: refresh %s ended Cancelled after %.0fs: %s; servers it already replaced run the new release, "+
			"the others the previous one: run pulumi up (or start a refresh) to put one release on every server\n", o.RefreshID, o.Elapsed.Seconds(), reason)
	default:
		fmt.Fprintf(stderr, "rollout: refresh %s ended %s after %.0fs, without a rollback: %s; servers it already replaced run the new release (%s)\n",
			o.RefreshID, o.Status, o.Elapsed.Seconds(), reason, activity)
	}
	return ExitFailed
}

// pruneImages removes the stack's older golden images once a refresh has succeeded. A
// failure is a warning: the new release serves, and the next successful deploy (or the images
// command) prunes again.
func pruneImages(ctx context.Context, env Env, stackName, project, dir string, o Target) {
	warn := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(env.Stderr, "rollout: warning: %s\n", msg)
		if env.Getenv != nil && env.Getenv("GITHUB_ACTIONS") == "true" {
			fmt.Fprintf(env.Stdout, "::warning title=Images not pruned::%s\n", strings.ReplaceAll(msg, "\n", " "))
		}
	}
	retry := fmt.Sprintf("`go run ./cmd/rollout images --stack %s` retries", stackName)
	switch {
	case stackName == "":
		fmt.Fprintln(env.Stdout, "rollout: images not pruned: pass --stack (its outputs name imagesKept)")
		return
	case o.Images.Keep == 0:
		fmt.Fprintf(env.Stdout, "rollout: images not pruned: stack %s exports no %s (deployed before images were kept)\n", stackName, stack.KeyImagesKept)
		return
	}
	if project == "" {
		if project = stack.ProjectName(dir); project == "" {
			warn("images not pruned: project name unknown (run from the project folder or pass --project); %s", retry)
			return
		}
	}
	if env.EC2 == nil {
		warn("images not pruned: no EC2 client; %s", retry)
		return
	}
	client, err := env.EC2(ctx, o.Region)
	if err != nil {
		warn("images not pruned: AWS configuration for %s: %v; %s", o.Region, err, retry)
		return
	}
	p := images.Pruner{EC2: client, Out: env.Stdout}
	if _, err := p.Prune(ctx, o.Images.Options(project, stackName, o.Images.Keep, false)); err != nil {
		warn("the release serves, but pruning its older images failed: %v; %s", err, retry)
	}
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
	flags.Mode, flags.Images = out.Mode, out.Images
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
