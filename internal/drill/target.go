package drill

// What the drill acts on, read from the stack's outputs (`pulumi stack output --json`) or
// given by flags.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Instance is a web server and the AZ it runs in.
type Instance struct {
	ID string `json:"id"`
	AZ string `json:"availabilityZone"`
}

// Target is the deployed stack the drill exercises.
type Target struct {
	Project        string     `json:"project"`
	Stack          string     `json:"stack"`
	Region         string     `json:"region"`
	SiteURL        string     `json:"siteUrl"`
	TargetGroupARN string     `json:"targetGroupArn"`
	Instances      []Instance `json:"webInstances"`
	DBIdentifier   string     `json:"dbIdentifier"`
}

// Runner runs a command and returns its standard output (exec in production, a fake in tests).
type Runner func(ctx context.Context, dir, name string, args ...string) ([]byte, error)

// LoadStackOutputs reads the outputs the program exports for a stack.
func LoadStackOutputs(ctx context.Context, run Runner, dir, stack string) (Target, error) {
	out, err := run(ctx, dir, "pulumi", "stack", "output", "--json", "--stack", stack)
	if err != nil {
		return Target{}, fmt.Errorf("read outputs of stack %q (pulumi stack output --json --stack %s in %s): %w", stack, stack, dir, err)
	}
	var t Target
	if err := json.Unmarshal(out, &t); err != nil {
		return Target{}, fmt.Errorf("outputs of stack %q are not the JSON expected: %w", stack, err)
	}
	t.Stack = stack
	return t, nil
}

// Validate names the first missing or malformed field, as the output or flag that sets it.
func (t Target) Validate() error {
	missing := func(output, flag string) error {
		return fmt.Errorf("stack output %s is missing or empty: deploy the stack first, or pass %s", output, flag)
	}
	switch {
	case t.Project == "":
		return fmt.Errorf("project name unknown: run from the project folder (Pulumi.yaml) or pass --project")
	case t.Stack == "":
		return fmt.Errorf("stack name unknown: pass --stack")
	case t.Region == "":
		return missing("region", "--region")
	case t.SiteURL == "":
		return missing("siteUrl", "--url")
	case t.TargetGroupARN == "":
		return missing("targetGroupArn", "--target-group")
	case len(t.Instances) == 0:
		return missing("webInstances", "--instances")
	case t.DBIdentifier == "":
		return missing("dbIdentifier", "--db")
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
