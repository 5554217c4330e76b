// Package stack reads what a deployed stack exports, through the Pulumi CLI, for the
// operator commands (drill, rollout).
package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Runner runs a command and returns its standard output (exec in production, a fake in tests).
type Runner func(ctx context.Context, dir, name string, args ...string) ([]byte, error)

// Exec runs a command in dir; its standard error goes to the operator's terminal.
func Exec(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	return cmd.Output()
}

// Read decodes the stack's outputs (`pulumi stack output --json`) into out; stack ""
// reads the selected stack's.
func Read(ctx context.Context, run Runner, dir, stack string, out any) error {
	args, name := []string{"stack", "output", "--json"}, "the selected stack"
	if stack != "" {
		args, name = append(args, "--stack", stack), fmt.Sprintf("stack %q", stack)
	}
	raw, err := run(ctx, dir, "pulumi", args...)
	if err != nil {
		return fmt.Errorf("read outputs of %s (pulumi %s in %s): %w", name, strings.Join(args, " "), dir, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("outputs of %s are not the JSON expected: %w", name, err)
	}
	return nil
}

// ProjectName reads the project's name from Pulumi.yaml in dir, or returns "".
func ProjectName(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml")) //nolint:gosec // the project folder is the operator's own -cwd
	if err != nil {
		return ""
	}
	var p struct {
		Name string `yaml:"name"`
	}
	if yaml.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Name
}
