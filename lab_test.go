//go:build lab

package main

// The lab tests run the real software the servers run (WordPress, PHP-FPM, Apache, MariaDB,
// HAProxy, the converge script in a sandbox root) and need root and Debian's packages. They
// are built only with the lab tag, which `make ci` (.ci/run) sets after installing the
// packages; `make test` names them as not run. Asked for and unable to run, they fail.

import (
	"os/exec"
	"strings"
	"testing"
)

// labMissing is the failure of a lab test that cannot run: what it needs and how to get it.
func labMissing(test string, missing ...string) string {
	return test + " cannot run: it needs " + strings.Join(missing, "; ") +
		". `make ci` installs Debian's packages and runs the lab tests as root (through sudo)."
}

// needTool returns the path of a checking tool, failing the test without it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(labMissing(t.Name(), name+" (apt-get install "+pkg+")"))
	}
	return path
}
