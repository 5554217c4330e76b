// Package fakepulumi is a stand-in for the pulumi CLI in tests of code that reads a stack's
// outputs by running it (internal/loadtest, cmd/loadtest).
package fakepulumi

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes a pulumi stand-in that records its arguments in argsFile and then runs body
// (which prints the stack's siteUrl, or fails).
func Write(t testing.TB, body string) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	bin, argsFile = filepath.Join(dir, "pulumi"), filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > '" + argsFile + "'\n" + body + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil { //nolint:gosec // an executable, in the test's own temporary folder
		t.Fatal(err)
	}
	return bin, argsFile
}
