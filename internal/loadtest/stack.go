package loadtest

// Reading the stack's site URL through the Pulumi CLI, the one source the guard trusts.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// pulumiTimeout bounds the Pulumi CLI call: it may log in to its backend, but must not hang
// the command.
const pulumiTimeout = 2 * time.Minute

// SiteURL returns the stack's siteUrl output, read with `<bin> stack output siteUrl
// [--stack name]` in the current folder (the selected stack when name is "").
func SiteURL(ctx context.Context, bin, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pulumiTimeout)
	defer cancel()
	args := []string{"stack", "output", "siteUrl"}
	if name != "" {
		args = append(args, "--stack", name)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w%s", bin, strings.Join(args, " "), err, lastLine(stderr.String()))
	}
	site := strings.TrimSpace(string(out))
	if _, err := ParseSiteURL(site); err != nil {
		return "", fmt.Errorf("%s %s printed no site URL: %w", bin, strings.Join(args, " "), err)
	}
	return site, nil
}

// lastLine is the last line of a command's standard error, as ": line", or "".
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return ": " + s[strings.LastIndexByte(s, '\n')+1:]
}
