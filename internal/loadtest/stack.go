package loadtest

// Reading the stack's site URL through the Pulumi CLI, the one source the guard trusts.

import (
	"context"
	"fmt"
	"time"

	"github.com/example/scalable-wordpress/internal/stack"
)

// pulumiTimeout bounds the Pulumi CLI call: it may log in to its backend, but must not hang
// the command.
const pulumiTimeout = 2 * time.Minute

// SiteURL returns the siteUrl output of the stack name ("": the selected stack) of the
// project in dir.
func SiteURL(ctx context.Context, run stack.Runner, dir, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pulumiTimeout)
	defer cancel()
	var out stack.Outputs
	if err := stack.Read(ctx, run, dir, name, &out); err != nil {
		return "", err
	}
	return SiteURLFrom(out)
}

// SiteURLFrom is the load test's view of a stack's outputs: the one URL it may load.
func SiteURLFrom(o stack.Outputs) (string, error) {
	if _, err := ParseSiteURL(o.SiteURL); err != nil {
		return "", fmt.Errorf("the stack's %s output is no site URL: %w", stack.KeySiteURL, err)
	}
	return o.SiteURL, nil
}
