package updates

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run runs the command, with instant retries.
func run(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, Env{Stdout: &out, Stderr: &errOut, Sleep: func(context.Context, time.Duration) error { return nil }})
	return code, out.String(), errOut.String()
}

// project writes a project folder with the test stack file and returns the stack file's path.
func project(t *testing.T, stack string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(testProject), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Pulumi.dev.yaml")
	if err := os.WriteFile(path, []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandNoUpdates(t *testing.T) {
	s := newStandIn(t)
	s.current()
	code, out, errOut := run(append([]string{"check", "--stack-file", project(t, testStack)}, s.flags()...)...)
	if code != ExitOK || !strings.HasPrefix(out, "no updates\n") || errOut != "" {
		t.Errorf("check = %d, %q, %q; want 0 and \"no updates\"", code, out, errOut)
	}
	if !strings.Contains(out, "not checked: phpVersion, amiId, dbEngineVersion") {
		t.Errorf("check does not say what it does not check: %q", out)
	}
}

func TestCommandServiceDown(t *testing.T) {
	s := newStandIn(t)
	s.down = 502
	code, out, errOut := run(append([]string{"check", "--json", "--stack-file", project(t, testStack)}, s.flags()...)...)
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Updates) != 0 {
		t.Errorf("report %q (%v), want one with no update: no partial pull request", out, err)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != ExitFailed || len(lines) != 3 {
		t.Fatalf("check = %d with errors %q; want 1 and one line per source", code, errOut)
	}
	for i, name := range []string{"updates: WordPress core: ", "updates: plugins: ", "updates: themes: "} {
		if !strings.HasPrefix(lines[i], name) || !strings.Contains(lines[i], "did not answer in 3 attempts") {
			t.Errorf("error line %q, want %s... did not answer in 3 attempts", lines[i], name)
		}
	}
}

// The workflow's path: check --json, then apply each update with --pr-body.
func TestCommandCheckThenApply(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.release("ja", "7.0.1", false)
	s.stable["7.0"] = "insecure"
	s.plugins["akismet"] = pkgRelease{Version: "5.3.5", Files: pluginFiles("akismet", "5.3.5")}
	path := project(t, testStack)
	code, out, errOut := run(append([]string{"check", "--json", "--stack-file", path}, s.flags()...)...)
	if code != ExitOK {
		t.Fatalf("check = %d: %s", code, errOut)
	}
	report := filepath.Join(t.TempDir(), "updates.json")
	if err := os.WriteFile(report, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Stack != "dev" || ids(r.Updates) != "[wordpress/7.0.1 plugin-akismet/5.3.5]" {
		t.Fatalf("report = %+v (%v)", r, err)
	}

	code, body, errOut := run("apply", "--stack-file", path, "--from", report, "--id", "wordpress/7.0.1", "--pr-body")
	if code != ExitOK {
		t.Fatalf("apply = %d: %s", code, errOut)
	}
	title, rest, _ := strings.Cut(body, "\n\n")
	if title != "SECURITY: Update WordPress 7.0 to 7.0.1 (stack dev)" {
		t.Errorf("title = %q", title)
	}
	for _, want := range []string{
		"**SECURITY release.**", "| old | `7.0` |", "| new | `7.0.1` |",
		"https://wordpress.org/documentation/wordpress-version/version-7-0-1/",
		"SHA-1 `" + sha1Of("a WordPress 7.0.1 archive for ja") + "`", "https://ja.wordpress.org/wordpress-7.0.1-ja.tar.gz.sha1",
	} {
		if !strings.Contains(rest, want) {
			t.Errorf("body does not say %q:\n%s", want, rest)
		}
	}
	if strings.Contains(rest, "snapshotted") {
		t.Errorf("a patch release (7.0 to 7.0.1) says the database is snapshotted:\n%s", rest)
	}
	minor := Update{Key: KeyWordPress, From: "7.0.3", To: "7.1"}
	if !strings.Contains(minor.Body("Pulumi.dev.yaml", false), "WordPress 7.1 is a new major or minor release: the database is snapshotted first") {
		t.Errorf("a minor release's body does not say the database is snapshotted first")
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "#") {
			t.Errorf("body line %q would be dropped from a commit message", line)
		}
	}
	after, _ := os.ReadFile(path)
	if got := changedLines(t, testStack, string(after)); len(got) != 1 || !strings.Contains(got[0], `"7.0.1"`) {
		t.Errorf("apply changed %q", got)
	}

	// A second update on the same (rewritten) file; then the first again, now stale.
	if code, _, errOut := run("apply", "--stack-file", path, "--from", report, "--id", "plugin-akismet/5.3.5"); code != ExitOK {
		t.Errorf("apply plugin = %d: %s", code, errOut)
	}
	if code, _, errOut := run("apply", "--stack-file", path, "--from", report, "--id", "wordpress/7.0.1"); code != ExitCouldNot || !strings.Contains(errOut, "run check again") {
		t.Errorf("a stale apply = %d, %q; want refused", code, errOut)
	}
	if code, _, errOut := run("apply", "--stack-file", path, "--from", report, "--id", "theme-x/1"); code != ExitCouldNot || !strings.Contains(errOut, "has no update theme-x/1 (it has: wordpress/7.0.1, plugin-akismet/5.3.5)") {
		t.Errorf("an unknown id = %d, %q", code, errOut)
	}
	other := filepath.Join(filepath.Dir(path), "Pulumi.prod.yaml")
	_ = os.WriteFile(other, []byte(testStack), 0o644)
	if code, _, errOut := run("apply", "--stack-file", other, "--from", report, "--id", "wordpress/7.0.1"); code != ExitCouldNot || !strings.Contains(errOut, `reports on stack "dev", not "prod"`) {
		t.Errorf("another stack's report = %d, %q", code, errOut)
	}
}

func TestCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		nil, {"upgrade"}, {"check"}, {"check", "--stack-file", "Pulumi.dev.yaml", "extra"},
		{"check", "--stack-file", "x", "--attempts", "0"}, {"apply", "--stack-file", "Pulumi.dev.yaml"},
	} {
		if code, _, errOut := run(args...); code != ExitCouldNot || !strings.Contains(errOut, "updates") {
			t.Errorf("%q = %d, %q; want 2 and a message", args, code, errOut)
		}
	}
}

// The pins the updater reads are the project's: Pulumi.yaml declares each with a default, and
// the committed stack files read without an error.
func TestTheProjectsPinsRead(t *testing.T) {
	project, err := os.ReadFile("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stacks, _ := filepath.Glob("../../Pulumi.*.yaml")
	if len(stacks) == 0 {
		t.Fatal("no stack file in the project")
	}
	for _, path := range stacks {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseStackFile(path, src, project)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{KeyLocale, KeyWordPress, KeyPlugins, KeyThemes, KeyPHP, KeyDBEngine, KeyAMI} {
			if _, ok := f.defaults[key]; !ok {
				t.Errorf("Pulumi.yaml declares no default for %s", key)
			}
		}
		if _, err := f.Pins(); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
