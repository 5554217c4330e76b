package images

// The images command (`go run ./cmd/rollout images`): list a stack's golden images and
// remove the older ones, on a deployed stack (keeping at least two) or on one `pulumi destroy`
// has emptied (which leaves the images: the program retains them).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/example/scalable-wordpress/internal/stack"
)

// Exit codes of the images command: done (or nothing to do); an image or snapshot could not
// be removed; the command could not run.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitCouldNot = 2
)

// Env is everything the images command needs from the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Run            stack.Runner
	EC2            func(ctx context.Context, region string) (EC2, error)
}

// Target is what the pruner needs from a stack's outputs (internal/stack); a destroyed
// stack has none of them.
type Target struct {
	Region                string
	Keep                  int // imagesKept; 0 when the stack does not export it
	LaunchTemplateID      string
	LaunchTemplateVersion int
	Deployed              bool // the stack exports outputs: it has resources
}

// TargetFrom is the pruner's view of a stack's outputs.
func TargetFrom(o stack.Outputs) Target {
	return Target{Region: o.Region, Keep: o.ImagesKept, LaunchTemplateID: o.WebLaunchTemplateID,
		LaunchTemplateVersion: o.WebLaunchTemplateVersion, Deployed: o.Region != ""}
}

// Options are the pruner's options for this target.
func (t Target) Options(project, stackRef string, keep int, dryRun bool) Options {
	o := Options{Project: project, Stack: StackName(stackRef), Keep: keep, LaunchTemplateID: t.LaunchTemplateID, DryRun: dryRun}
	if t.LaunchTemplateVersion > 0 {
		o.Versions = []string{strconv.Itoa(t.LaunchTemplateVersion)}
	}
	return o
}

// Main runs the images command with args (after "images") and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("rollout images", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		stackRef, project, dir, region string
		keep                           int
		dryRun                         bool
	)
	fs.StringVar(&stackRef, "stack", "", "Pulumi stack whose golden images to prune (required; its outputs, if any, name the region, imagesKept and the launch template)")
	fs.StringVar(&project, "project", "", "Pulumi project (default: the name in --cwd's Pulumi.yaml)")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&region, "region", "", "AWS region (default: output "+stack.KeyRegion+"; required for a destroyed stack)")
	fs.IntVar(&keep, "keep", 0, "newest images to keep (default: output "+stack.KeyImagesKept+"); 0 or 1 only for a destroyed stack")
	fs.BoolVar(&dryRun, "dry-run", false, "list what would be kept and removed, remove nothing")
	if err := fs.Parse(args); err != nil {
		return ExitCouldNot
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "rollout images: "+format+"\n", a...)
		return ExitCouldNot
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected arguments %q", fs.Args())
	case stackRef == "":
		return fail("pass --stack: the stack whose images to prune")
	}
	if project == "" {
		if project = stack.ProjectName(dir); project == "" {
			return fail("project name unknown: run from the project folder (Pulumi.yaml) or pass --project")
		}
	}
	var so stack.Outputs
	if err := stack.Read(ctx, env.Run, dir, stackRef, &so); err != nil {
		return fail("%v", err)
	}
	t := TargetFrom(so)
	if region == "" {
		region = t.Region
	}
	if !flagSet(fs, "keep") {
		if t.Keep == 0 {
			return fail("stack %s exports no %s (destroyed, or deployed before images were kept): pass --keep (on a destroyed stack, 0 removes every image no instance uses)", stackRef, stack.KeyImagesKept)
		}
		keep = t.Keep
	}
	switch {
	case keep < 0:
		return fail("--keep %d: want 0 or more", keep)
	case region == "":
		return fail("no region: stack %s exports none (destroyed?): pass --region", stackRef)
	case t.Deployed && keep < 2:
		return fail("stack %s is deployed: keep at least 2 images (the one it runs and the one a rollback launches); --keep 0 and 1 are for a destroyed stack", stackRef)
	case t.Deployed && keep < t.Keep:
		fmt.Fprintf(env.Stdout, "note: --keep %d is below the stack's %s (%d); images in use are kept anyway\n", keep, stack.KeyImagesKept, t.Keep)
	}
	client, err := env.EC2(ctx, region)
	if err != nil {
		return fail("AWS configuration for %s: %v", region, err)
	}
	p := Pruner{EC2: client, Out: env.Stdout}
	res, err := p.Prune(ctx, t.Options(project, stackRef, keep, dryRun))
	switch {
	case err != nil && res.Decisions == nil:
		return fail("%v", err)
	case err != nil:
		fmt.Fprintf(env.Stderr, "rollout images: some images or snapshots were not removed:\n%v\n", err)
		return ExitFailed
	}
	left := 0
	for _, d := range res.Decisions {
		if !d.Remove {
			left++
		}
	}
	if !dryRun {
		fmt.Fprintf(env.Stdout, "removed %d image(s) and %d snapshot(s); %d image(s) left\n", len(res.Removed), len(res.Deleted), left)
	}
	return ExitOK
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
