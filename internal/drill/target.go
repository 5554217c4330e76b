package drill

// What the drill acts on, read from the stack's outputs (`pulumi stack output --json`) or
// given by flags.

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/example/scalable-wordpress/internal/stack"
)

// Instance is a web server and the AZ it runs in.
type Instance struct {
	ID string
	AZ string
}

// Target is the deployed stack the drill exercises: the drill's view of the stack outputs
// (internal/stack), which flags may override.
type Target struct {
	Project        string
	Stack          string
	Region         string
	SiteURL        string
	TargetGroupARN string
	Group          string     // the autoscaling mode's group; "" in the fixed mode
	Instances      []Instance // the fixed mode's servers
	DBIdentifier   string
	// AlarmNames are the stack's alarms: the drill reports which of them fired in each phase.
	AlarmNames []string
	// DBFailoverAlarm must fire during the database phase ("" on a stack without alarms:
	// then it is not checked, and the report says so).
	DBFailoverAlarm string
}

// Runner runs a command and returns its standard output (exec in production, a fake in tests).
type Runner = stack.Runner

// LoadStackOutputs reads the outputs the program exports for a stack.
func LoadStackOutputs(ctx context.Context, run Runner, dir, name string) (Target, error) {
	var o stack.Outputs
	if err := stack.Read(ctx, run, dir, name, &o); err != nil {
		return Target{}, err
	}
	t := TargetFrom(o)
	t.Stack = name
	return t, nil
}

// TargetFrom is the drill's view of a stack's outputs.
func TargetFrom(o stack.Outputs) Target {
	t := Target{Region: o.Region, SiteURL: o.SiteURL, TargetGroupARN: o.TargetGroupARN, Group: o.WebAutoScalingGroupName,
		DBIdentifier: o.DBIdentifier, AlarmNames: o.AlarmNames, DBFailoverAlarm: o.DBFailoverAlarm}
	for _, i := range o.WebInstances {
		t.Instances = append(t.Instances, Instance{ID: i.ID, AZ: i.AvailabilityZone})
	}
	return t
}

// Validate names the first missing or malformed field, as the output or flag that sets it.
// A skipped phase needs nothing of what only it touches.
func (t Target) Validate(o Options) error {
	missing := func(output, flag string) error {
		return fmt.Errorf("stack output %s is missing or empty: deploy the stack first, or pass %s", output, flag)
	}
	switch {
	case t.Project == "":
		return fmt.Errorf("project name unknown: run from the project folder (Pulumi.yaml) or pass --project")
	case t.Stack == "":
		return fmt.Errorf("stack name unknown: pass --stack")
	case t.Region == "":
		return missing(stack.KeyRegion, "--region")
	case t.SiteURL == "":
		return missing(stack.KeySiteURL, "--url")
	case !o.SkipWeb && t.TargetGroupARN == "":
		return missing(stack.KeyTargetGroupARN, "--target-group")
	case !o.SkipWeb && t.Group == "" && len(t.Instances) == 0:
		return missing(stack.KeyGroup+" (or, in the fixed mode, "+stack.KeyWebInstances+")", "--group or --instances")
	case !o.SkipDB && t.DBIdentifier == "":
		return missing(stack.KeyDBIdentifier, "--db")
	}
	if u, err := url.Parse(t.SiteURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("site URL %q is not an http(s) URL", t.SiteURL)
	}
	for _, i := range t.Instances {
		if !strings.HasPrefix(i.ID, "i-") {
			return fmt.Errorf("web instance %q is not an EC2 instance ID", i.ID)
		}
	}
	return nil
}

// ParseInstances reads the --instances flag: "i-0abc,i-0def".
func ParseInstances(s string) []Instance {
	var out []Instance
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, Instance{ID: id})
		}
	}
	return out
}
