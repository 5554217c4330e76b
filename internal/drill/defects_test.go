package drill

// Drill v2: one test per defect found running the first drill against an emulator, and the
// interruption at every point of a run.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// The fake behaves like EC2: a stopping instance cannot be started.
func TestFakeEC2RefusesAStartWhileStopping(t *testing.T) {
	w := newWorld(t)
	ec := fakeEC2{w}
	ctx := context.Background()
	if _, err := ec.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{victimID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{victimID}}); err == nil || !strings.Contains(err.Error(), "IncorrectInstanceState") {
		t.Fatalf("start while stopping: %v, want IncorrectInstanceState", err)
	}
	w.clock.advance(stopTakes)
	if _, err := ec.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{victimID}}); err != nil {
		t.Fatalf("start once stopped: %v", err)
	}
}

// The JSON report's incident times are milliseconds, as their names say.
func TestReportTimesAreMilliseconds(t *testing.T) {
	w := newWorld(t)
	w.siteDown = dbDownWindow(3*time.Second, 9*time.Second)
	r, err := w.drill(testOptions()).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Phases []struct {
			Name      string  `json:"name"`
			Seconds   float64 `json:"seconds"`
			Incidents []struct {
				At      float64 `json:"atMs"`
				Latency float64 `json:"latencyMs"`
			} `json:"incidents"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	db := got.Phases[len(got.Phases)-1]
	if len(db.Incidents) < 5 {
		t.Fatalf("db phase incidents %v", db.Incidents)
	}
	for i, in := range db.Incidents {
		if in.Latency != float64(defaultLatency.Milliseconds()) || in.At < 3000 || in.At > 10000 || in.At > db.Seconds*1000 {
			t.Errorf("incident %d: atMs %.0f latencyMs %.0f, want 3000..10000 and %d", i, in.At, in.Latency, defaultLatency.Milliseconds())
		}
	}
}

// A request the operator's Ctrl-C cuts short says nothing about the site.
func TestACutProbeIsNotAFailedRequest(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.onSite = func(r *http.Request, _ int) {
		if len(w.mutations) == 2 { // the server is drained and stopping: Ctrl-C mid-request
			cancel()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}
	r, err := w.drill(testOptions()).Run(ctx)
	if !errors.Is(err, ErrInterrupted) || !r.Interrupted {
		t.Fatalf("want an interruption, got %v", err)
	}
	web := phase(t, r, "web")
	if web.Failures != 0 || len(web.Incidents) != 0 || len(r.Violations) != 0 {
		t.Errorf("the cut request was counted: %d failures, incidents %v, violations %v", web.Failures, web.Incidents, r.Violations)
	}
}

// An interruption is reported as one, not as the AWS call's "context canceled".
func TestInterruptionIsReportedAsSuch(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.onCall = func(call string) {
		if call == "DescribeTargetGroups" || call == "DescribeTargetHealth" {
			cancel() // the next AWS call of the pre-flight check meets a cancelled context
		}
	}
	r, err := w.drill(testOptions()).Run(ctx)
	if !errors.Is(err, ErrInterrupted) || !r.Interrupted || ExitCode(r, err) != ExitError {
		t.Fatalf("err %v, interrupted %v", err, r.Interrupted)
	}
	if strings.Contains(err.Error(), "context canceled") || !strings.Contains(err.Error(), "interrupted during AWS RDS DescribeDBInstances") {
		t.Errorf("error %q must say the drill was interrupted, and where", err)
	}
	var table strings.Builder
	WriteTable(&table, r, err)
	if !strings.Contains(table.String(), "INTERRUPTED: ") || strings.Contains(table.String(), "ERROR") {
		t.Errorf("table verdict:\n%s", table.String())
	}
	if len(w.mutations) != 0 {
		t.Errorf("mutations %v", w.mutations)
	}
}

// A database wait that times out says what was missing.
func TestDBWaitSaysWhatWasMissing(t *testing.T) {
	for name, c := range map[string]struct {
		spoil func(*world)
		want  string
	}{
		"RDS never rebooted": {func(w *world) { w.dbIgnoresReboot = true },
			`the database never left "available" in ` + primaryAZ + `: RDS did not reboot it`},
		"the site never came back": {func(w *world) { w.siteDown = dbDownWindow(time.Second, time.Hour) },
			"the database is available again (primary in " + standbyAZ + ") but the site has not answered steadily since"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			c.spoil(w)
			o := testOptions()
			o.SkipWeb, o.PhaseTimeout = true, 2*time.Minute
			r, err := w.drill(o).Run(context.Background())
			if !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if ExitCode(r, err) != ExitError {
				t.Errorf("exit %d", ExitCode(r, err))
			}
		})
	}
}

// Lists in the report are lists, never null.
func TestReportListsAreNeverNull(t *testing.T) {
	w := newWorld(t)
	r := runCLI(t, w, w.stackOutputs(), "no\n", "-stack", "dev")
	b, _ := json.Marshal(r.report)
	for _, want := range []string{`"phases":[]`, `"violations":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("refused run's report lacks %s: %s", want, b)
		}
	}
	full := runCLI(t, newWorld(t), w.stackOutputs(), "", "-stack", "dev", "-yes", "-skip-db", "-baseline", "2")
	b, _ = json.Marshal(full.report)
	if strings.Contains(string(b), "null") || !strings.Contains(string(b), `"alarmsFired":[]`) || !strings.Contains(string(b), `"incidents":[]`) {
		t.Errorf("report has a null or lacks empty lists: %s", b)
	}
}

// --skip-db needs no database: no output, no flag, no RDS call.
func TestSkipDBNeedsNoDatabase(t *testing.T) {
	w := newWorld(t)
	outputs := w.stackOutputs()
	delete(outputs, "dbIdentifier")
	r := runCLI(t, w, outputs, "", "-stack", "dev", "-yes", "-skip-db", "-baseline", "2")
	if r.code != ExitPassed {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range w.calls {
		if strings.Contains(c, "DB") {
			t.Errorf("called %s with --skip-db", c)
		}
	}
}

// The failover alarm: fired is reported, silent is a finding (exit 1), already in ALARM is
// refused before anything is done, absent from the stack is said, not checked.
func TestTheFailoverAlarmMustFire(t *testing.T) {
	t.Run("silent", func(t *testing.T) {
		w := newWorld(t)
		w.alarmSilent = true
		o := testOptions()
		o.SkipWeb, o.AlarmTimeout = true, 3*time.Minute
		r, err := w.drill(o).Run(context.Background())
		if err != nil || ExitCode(r, err) != ExitFailed {
			t.Fatalf("err %v, exit %d", err, ExitCode(r, err))
		}
		if len(r.Violations) != 1 || !strings.Contains(r.Violations[0], "the alarm "+failoverAlarm+" did not fire within 3m0s") {
			t.Errorf("violations %v", r.Violations)
		}
		db := phase(t, r, "db")
		if db.Seconds > (dbRebootTakes + 3*time.Minute + 10*time.Second).Seconds() {
			t.Errorf("the wait for the alarm is not bounded: the phase lasted %.0fs", db.Seconds)
		}
		if polls := w.historyCalls; polls > int(3*time.Minute/alarmPoll)+4 {
			t.Errorf("%d history reads in a 3m wait: poll every %s, not every probe", polls, alarmPoll)
		}
	})
	t.Run("already in ALARM", func(t *testing.T) {
		w := newWorld(t)
		w.alarms[failoverAlarm] = "ALARM"
		_, err := w.drill(testOptions()).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "already in ALARM") || len(w.mutations) != 0 {
			t.Errorf("err %v, mutations %v", err, w.mutations)
		}
	})
	t.Run("not in the stack", func(t *testing.T) {
		w := newWorld(t)
		d := w.drill(testOptions())
		d.Target.DBFailoverAlarm, d.Target.AlarmNames = "", nil
		r, err := d.Run(context.Background())
		if err != nil || !r.Passed || !strings.Contains(strings.Join(phase(t, r, "db").Events, "\n"), "not checked") ||
			!strings.Contains(r.Plan, "not checked") {
			t.Errorf("err %v, violations %v", err, r.Violations)
		}
	})
	t.Run("missing from the account", func(t *testing.T) {
		w := newWorld(t)
		delete(w.alarms, failoverAlarm)
		_, err := w.drill(testOptions()).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "was not found") || len(w.mutations) != 0 {
			t.Errorf("err %v, mutations %v", err, w.mutations)
		}
	})
}

// points runs a full drill once and returns how many AWS calls and site requests it made:
// the points an interruption can come at.
func points(t *testing.T, mk func(t *testing.T) *world, o Options) (calls, requests int) {
	w := mk(t)
	if _, err := w.drill(o).Run(context.Background()); err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}
	return len(w.calls), w.requests
}

// interruptAt cancels the run at the n-th AWS call (or, with onSite, the n-th request).
func interruptAt(w *world, n int, atRequest bool) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if atRequest {
		w.onSite = func(_ *http.Request, i int) {
			if i == n {
				cancel()
			}
		}
	} else {
		w.onCall = func(string) {
			if len(w.calls) == n {
				cancel()
			}
		}
	}
	return ctx, cancel
}

// everyInterruption runs the drill once per point an interruption can come at (each AWS
// call, each request to the site) with Ctrl-C at that point, and checks each run.
func everyInterruption(t *testing.T, mk func(t *testing.T) *world, o Options, check func(at string, w *world, r *Report, err error)) {
	t.Helper()
	calls, requests := points(t, mk, o)
	for _, atRequest := range []bool{false, true} {
		n, kind := calls, "call"
		if atRequest {
			n, kind = requests, "request"
		}
		for i := 1; i <= n; i++ {
			w := mk(t)
			ctx, cancel := interruptAt(w, i, atRequest)
			r, err := w.drill(o).Run(ctx)
			cancel()
			at := fmt.Sprintf("cut at %s %d", kind, i)
			if err != nil && (!errors.Is(err, ErrInterrupted) || !r.Interrupted || ExitCode(r, err) != ExitError) {
				t.Fatalf("%s: %v (report interrupted=%v)", at, err, r.Interrupted)
			}
			check(at, w, r, err)
		}
	}
}

// Fixed mode: cut short at any AWS call or any request, the drill leaves the server running
// and registered, never starts a stopping instance, and reports an interruption.
func TestInterruptionAtEveryPointPutsTheServerBack(t *testing.T) {
	o := testOptions()
	o.SkipDB = true
	everyInterruption(t, newWorld, o, func(at string, w *world, r *Report, _ error) {
		if x := w.instances[victimID]; !x.running || !x.registered {
			t.Errorf("%s: the server is left running=%v registered=%v; mutations %v", at, x.running, x.registered, w.mutations)
		}
		for _, e := range phaseEvents(r) {
			if strings.Contains(e, "COULD NOT") {
				t.Errorf("%s: %s", at, e)
			}
		}
	})
}

// Auto Scaling mode: cut short at any point, the drill does nothing more, and the group is
// back at full healthy capacity on its own.
func TestInterruptionAtEveryPointLeavesTheGroupHealthy(t *testing.T) {
	o := testOptions()
	o.SkipDB = true
	everyInterruption(t, func(t *testing.T) *world { return newWorld(t).inGroup() }, o, func(at string, w *world, _ *Report, _ error) {
		for _, m := range w.mutations {
			if !strings.HasPrefix(m, "terminate ") && !strings.HasPrefix(m, "group replaces ") {
				t.Errorf("%s: the drill acted on the group: %s", at, m)
			}
		}
		w.clock.advance(5 * time.Minute)
		if got := w.healthyServers(); got != w.desired {
			t.Errorf("%s (mutations %v): %d healthy servers 5 minutes later, want %d", at, w.mutations, got, w.desired)
		}
	})
}

func phaseEvents(r *Report) []string {
	var out []string
	for _, p := range r.Phases {
		out = append(out, p.Events...)
	}
	return out
}
