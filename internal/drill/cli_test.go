package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stackOutputs is what `pulumi stack output --json` prints for the simulated stack.
func (w *world) stackOutputs() map[string]any {
	return map[string]any{
		"siteUrl": w.site.URL, "region": "ap-northeast-1", "targetGroupArn": testTargetARN, "dbIdentifier": testDB,
		"webInstances": []map[string]string{{"id": victimID, "availabilityZone": primaryAZ}, {"id": otherID, "availabilityZone": standbyAZ}},
		"albDnsName":   "ignored", "dbMultiAz": true,
		"alarmNames": []string{"dev-alb-5xx-rate", failoverAlarm, "dev-unhealthy-hosts"}, "dbFailoverAlarm": failoverAlarm,
	}
}

type cliRun struct {
	code           int
	stdout, stderr string
	report         map[string]any
	commands       []string
}

func runCLI(t *testing.T, w *world, outputs map[string]any, stdin string, args ...string) cliRun {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: "+testProject+"\nruntime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(dir, "report.json")
	var out, errOut bytes.Buffer
	var r cliRun
	env := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Run: func(_ context.Context, d, name string, a ...string) ([]byte, error) {
			r.commands = append(r.commands, name+" "+strings.Join(a, " "))
			if d != dir {
				return nil, errors.New("wrong folder " + d)
			}
			if outputs == nil {
				return nil, errors.New("error: no stack named 'dev' found")
			}
			return json.Marshal(outputs)
		},
		AWS: func(_ context.Context, region string) (Clients, error) {
			if region != "ap-northeast-1" {
				return Clients{}, errors.New("unexpected region " + region)
			}
			return w.clients(), nil
		},
		HTTP: HTTPClient(), Clock: w.clock,
	}
	r.code = Main(context.Background(), append([]string{"-cwd", dir, "-report", reportPath}, args...), env)
	r.stdout, r.stderr = out.String(), errOut.String()
	if b, err := os.ReadFile(reportPath); err == nil {
		if err := json.Unmarshal(b, &r.report); err != nil {
			t.Fatalf("report is not JSON: %v", err)
		}
	}
	return r
}

func TestCLIFullRunWritesTableAndReport(t *testing.T) {
	w := newWorld(t)
	w.siteDown = dbDownWindow(3*time.Second, 9*time.Second)
	r := runCLI(t, w, w.stackOutputs(), "", "-stack", "dev", "-yes", "-baseline", "3")
	if r.code != ExitPassed {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r.commands[0] != "pulumi stack output --json --stack dev" {
		t.Errorf("outputs read with %q", r.commands[0])
	}
	for _, want := range []string{"PHASE", "OUTAGE", "AZ BEFORE", "baseline", "web: drain and stop " + victimID, "FAILED", "alarms fired during db: reboot with failover: " + failoverAlarm, "db: reboot with failover", primaryAZ + "  " + standbyAZ, "PASSED"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	phases, _ := r.report["phases"].([]any)
	if len(phases) != 3 || r.report["passed"] != true || r.report["stack"] != "dev" || r.report["project"] != testProject {
		t.Fatalf("report: %v", r.report)
	}
	db := phases[2].(map[string]any)
	if db["azBefore"] != primaryAZ || db["azAfter"] != standbyAZ || db["outageSeconds"].(float64) < 5 || db["p99Ms"].(float64) != 40 {
		t.Errorf("db phase in report: %v", db)
	}
}

func TestCLIDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	r := runCLI(t, w, w.stackOutputs(), "", "-stack", "dev", "-dry-run")
	if r.code != ExitPassed || len(w.mutations) != 0 || !strings.Contains(r.stdout, "DRY RUN: nothing was changed") {
		t.Errorf("exit %d, mutations %v\n%s", r.code, w.mutations, r.stdout)
	}
	if r.report["dryRun"] != true {
		t.Errorf("report dryRun = %v", r.report["dryRun"])
	}
}

func TestCLIAsksBeforeActing(t *testing.T) {
	for stdin, wantCode := range map[string]int{"no\n": ExitError, "": ExitError, "yes\n": ExitPassed} {
		w := newWorld(t)
		r := runCLI(t, w, w.stackOutputs(), stdin, "-stack", "dev", "-skip-db", "-baseline", "2")
		if r.code != wantCode {
			t.Errorf("answer %q: exit %d, want %d\n%s", stdin, r.code, wantCode, r.stderr)
		}
		if !strings.Contains(r.stderr, "Proceed?") {
			t.Errorf("answer %q: not asked", stdin)
		}
		if wantCode != ExitPassed && len(w.mutations) != 0 {
			t.Errorf("answer %q: mutations %v", stdin, w.mutations)
		}
	}
}

func TestCLIInputErrors(t *testing.T) {
	w := newWorld(t)
	partial := w.stackOutputs()
	delete(partial, "dbIdentifier")
	cases := []struct {
		name    string
		outputs map[string]any
		args    []string
		want    string
	}{
		{"missing output", partial, []string{"-stack", "dev", "-yes"}, "stack output dbIdentifier is missing or empty: deploy the stack first, or pass --db"},
		{"no such stack", nil, []string{"-stack", "dev", "-yes"}, "read outputs of stack \"dev\""},
		{"no stack", nil, []string{"-yes"}, "stack name unknown: pass --stack"},
		{"bad interval", w.stackOutputs(), []string{"-stack", "dev", "-interval", "0s"}, "-interval must be positive"},
		{"nothing to drill", w.stackOutputs(), []string{"-stack", "dev", "-skip-web", "-skip-db"}, "leave nothing to drill"},
		{"stray argument", w.stackOutputs(), []string{"-stack", "dev", "now"}, "unexpected arguments"},
		{"bad url flag", w.stackOutputs(), []string{"-stack", "dev", "-url", "ftp://x"}, "not an http(s) URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, w, c.outputs, "", c.args...)
			if r.code != ExitError || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q, want %q", r.code, r.stderr, c.want)
			}
			if len(w.mutations) != 0 {
				t.Errorf("mutations %v", w.mutations)
			}
		})
	}
}

func TestCLIFlagsInsteadOfOutputs(t *testing.T) {
	w := newWorld(t)
	r := runCLI(t, w, nil, "", "-stack", testStack, "-project", testProject, "-url", w.site.URL, "-region", "ap-northeast-1",
		"-target-group", testTargetARN, "-instances", victimID+","+otherID, "-db", testDB, "-dry-run")
	if r.code != ExitPassed || len(r.commands) != 0 {
		t.Errorf("exit %d, commands %v\n%s", r.code, r.commands, r.stderr)
	}
	if !strings.Contains(r.stdout, "DRAIN EC2 instance "+victimID) || !strings.Contains(r.stdout, "failover alarm") {
		t.Errorf("plan:\n%s", r.stdout)
	}
}

// The autoscaling mode's outputs name the group, not the servers: the drill reads it and
// loses a server of the group.
func TestCLIGroupMode(t *testing.T) {
	w := newWorld(t).inGroup()
	outputs := w.stackOutputs()
	delete(outputs, "webInstances")
	outputs["webAutoScalingGroupName"] = w.group
	r := runCLI(t, w, outputs, "", "-stack", "dev", "-yes", "-skip-db", "-baseline", "2")
	if r.code != ExitPassed {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "web: lose "+victimID) || !strings.Contains(r.stdout, "back at full capacity") {
		t.Errorf("output:\n%s", r.stdout)
	}
	web := r.report["phases"].([]any)[1].(map[string]any)
	recovery := web["recoverySeconds"].(float64)
	if recovery <= 0 {
		t.Errorf("report web phase: %v", web)
	}
	if want := fmt.Sprintf("%.0fs", recovery); !strings.Contains(r.stdout, "RECOVERY") || !strings.Contains(r.stdout, want) {
		t.Errorf("the table lacks the recovery time %s:\n%s", want, r.stdout)
	}
	delete(outputs, "webAutoScalingGroupName")
	if r := runCLI(t, newWorld(t), outputs, "", "-stack", "dev", "-yes"); r.code != ExitError || !strings.Contains(r.stderr, "webAutoScalingGroupName") {
		t.Errorf("no group and no servers: exit %d\n%s", r.code, r.stderr)
	}
}
