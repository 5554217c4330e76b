package drill

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func phase(t *testing.T, r *Report, prefix string) *Phase {
	t.Helper()
	for _, p := range r.Phases {
		if strings.HasPrefix(p.Name, prefix) {
			return p
		}
	}
	t.Fatalf("report has no %q phase: %+v", prefix, r.Phases)
	return nil
}

func TestDrillPassesAndMeasuresTheScriptedOutage(t *testing.T) {
	w := newWorld(t)
	scripted := 18 * time.Second
	w.siteDown = dbDownWindow(4500*time.Millisecond, 4500*time.Millisecond+scripted)
	r, err := w.drill(testOptions()).Run(context.Background())
	if err != nil {
		t.Fatalf("drill failed: %v", err)
	}
	if !r.Passed || ExitCode(r, err) != ExitPassed {
		t.Fatalf("want a pass, got violations %v", r.Violations)
	}
	wantMutations := []string{"deregister " + victimID, "stop " + victimID, "start " + victimID, "register " + victimID, "reboot " + testDB + " failover=true"}
	if !slices.Equal(w.mutations, wantMutations) {
		t.Errorf("AWS mutations %v, want %v", w.mutations, wantMutations)
	}

	web := phase(t, r, "web")
	if web.Failures != 0 || web.Requests < 20 || web.AZBefore != primaryAZ {
		t.Errorf("web phase: %d requests, %d failures, AZ %s", web.Requests, web.Failures, web.AZBefore)
	}
	db := phase(t, r, "db")
	if math.Abs(db.OutageSeconds-scripted.Seconds()) > testOptions().Interval.Seconds() {
		t.Errorf("measured outage %.2fs, scripted %.2fs: must agree within one probe interval", db.OutageSeconds, scripted.Seconds())
	}
	if db.AZBefore != primaryAZ || db.AZAfter != standbyAZ {
		t.Errorf("db AZ %s -> %s, want %s -> %s", db.AZBefore, db.AZAfter, primaryAZ, standbyAZ)
	}
	if n := int(scripted / time.Second); db.Failures < n-1 || db.Failures > n+1 {
		t.Errorf("db failures %d, want about one per second of outage (%d)", db.Failures, n)
	}
	if time.Duration(db.P50) != defaultLatency || time.Duration(db.P99) != defaultLatency {
		t.Errorf("latency p50 %v p99 %v, want %v", time.Duration(db.P50), time.Duration(db.P99), defaultLatency)
	}
	if !slices.Equal(db.AlarmsFired, []string{failoverAlarm}) || len(web.AlarmsFired) != 0 {
		t.Errorf("alarms fired: web %v, db %v; want only %s, in the db phase", web.AlarmsFired, db.AlarmsFired, failoverAlarm)
	}
	if s := db.Seconds; s < alarmAfter.Seconds() || s > alarmAfter.Seconds()+alarmPoll.Seconds()+2 {
		t.Errorf("the db phase lasted %.0fs: it must wait for the alarm (fires %.0fs after the reboot, polled every %s)", s, alarmAfter.Seconds(), alarmPoll)
	}
}

func TestThresholdsDecideTheExitCode(t *testing.T) {
	t.Run("db outage over the limit", func(t *testing.T) {
		w := newWorld(t)
		w.siteDown = dbDownWindow(2*time.Second, 132*time.Second)
		r, err := w.drill(testOptions()).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := ExitCode(r, err); got != ExitFailed || !strings.Contains(strings.Join(r.Violations, ";"), "db: outage 130.0s (allowed 120s)") {
			t.Errorf("exit %d, violations %v", got, r.Violations)
		}
		o := testOptions()
		o.MaxDBOutage = 150 * time.Second
		w2 := newWorld(t)
		w2.siteDown = dbDownWindow(2*time.Second, 132*time.Second)
		if r2, err := w2.drill(o).Run(context.Background()); err != nil || ExitCode(r2, err) != ExitPassed {
			t.Errorf("with -max-db-outage 150s the same outage must pass: %v %v", err, r2.Violations)
		}
	})
	t.Run("failures while a server is down", func(t *testing.T) {
		w := newWorld(t)
		w.siteDown = func(w *world, _ time.Time) bool { return !w.instances[victimID].running } // no redundancy
		r, err := w.drill(testOptions()).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		web := phase(t, r, "web")
		if ExitCode(r, err) != ExitFailed || web.Failures == 0 || !strings.HasPrefix(r.Violations[0], "web: ") {
			t.Errorf("exit %d, web failures %d, violations %v", ExitCode(r, err), web.Failures, r.Violations)
		}
		o := testOptions()
		o.MaxWebFailures = 1000
		w2 := newWorld(t)
		w2.siteDown = w.siteDown
		if r2, err := w2.drill(o).Run(context.Background()); err != nil || ExitCode(r2, err) != ExitPassed {
			t.Errorf("with -max-web-failures 1000 it must pass: %v %v", err, r2.Violations)
		}
	})
	t.Run("unhealthy before the drill", func(t *testing.T) {
		w := newWorld(t)
		w.siteDown = func(*world, time.Time) bool { return true }
		r, err := w.drill(testOptions()).Run(context.Background())
		if err != nil || ExitCode(r, err) != ExitFailed || len(w.mutations) != 0 {
			t.Errorf("a failing baseline must stop the drill before any change: err %v, mutations %v", err, w.mutations)
		}
	})
	t.Run("slow requests are counted, not failed", func(t *testing.T) {
		w := newWorld(t)
		w.latency = 3 * time.Second
		o := testOptions()
		o.SkipDB = true
		r, err := w.drill(o).Run(context.Background())
		if err != nil || !r.Passed {
			t.Fatalf("slow but answering must pass: %v %v", err, r.Violations)
		}
		if p := phase(t, r, "web"); p.Slow != p.Requests || p.Failures != 0 {
			t.Errorf("slow %d of %d, failures %d", p.Slow, p.Requests, p.Failures)
		}
	})
}

func TestInterruptionWhileDrainingRegistersTheServerAgain(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	polls := 0
	w.onCall = func(call string) {
		if call == "DescribeTargetHealth" && len(w.mutations) == 1 {
			if polls++; polls == 3 {
				cancel() // Ctrl-C while waiting for the target to drain
			}
		}
	}
	r, err := w.drill(testOptions()).Run(ctx)
	if !errors.Is(err, ErrInterrupted) || !r.Interrupted {
		t.Fatalf("want an interruption, got %v (report interrupted=%v)", err, r.Interrupted)
	}
	if ExitCode(r, err) != ExitError {
		t.Errorf("exit code %d, want %d", ExitCode(r, err), ExitError)
	}
	if !slices.Equal(w.mutations, []string{"deregister " + victimID, "register " + victimID}) {
		t.Errorf("mutations %v: the drained server must be registered again, and nothing stopped", w.mutations)
	}
	if !strings.Contains(strings.Join(phase(t, r, "web").Events, "\n"), "registered "+victimID+" in the target group again after the drill was cut short") {
		t.Errorf("the restore must be in the report: %v", phase(t, r, "web").Events)
	}
}

// Cut short while EC2 is still stopping the server, the drill must wait until it is stopped
// before it starts it: EC2 refuses to start a stopping instance (the fake does too).
func TestInterruptionWhileStoppingStartsTheServerOnceStopped(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.onCall = func(call string) {
		if call == "StopInstances" {
			cancel()
		}
	}
	r, err := w.drill(testOptions()).Run(ctx)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("want an interruption, got %v", err)
	}
	want := []string{"deregister " + victimID, "stop " + victimID, "start " + victimID, "register " + victimID}
	if !slices.Equal(w.mutations, want) {
		t.Errorf("mutations %v, want %v (err %v)", w.mutations, want, err)
	}
	events := strings.Join(phase(t, r, "web").Events, "\n")
	if !strings.Contains(events, "started "+victimID+" again after the drill was cut short") || strings.Contains(events, "COULD NOT") {
		t.Errorf("events:\n%s", events)
	}
	if x := w.instances[victimID]; !x.running || !x.registered {
		t.Errorf("the server is left running=%v registered=%v", x.running, x.registered)
	}
}

func TestTimeoutWhileDrainingRegistersTheServerAgain(t *testing.T) {
	w := newWorld(t)
	w.stuck = true // the target group never finishes draining the server
	o := testOptions()
	o.PhaseTimeout = 30 * time.Second
	r, err := w.drill(o).Run(context.Background())
	if !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), "gave up waiting for the load balancer to drain "+victimID+" after 30s") {
		t.Fatalf("want a bounded wait, got %v", err)
	}
	if web := phase(t, r, "web"); web.Requests > 31 {
		t.Errorf("%d probes in a 30s wait at 1s intervals: the loop is not bounded", web.Requests)
	}
	if !slices.Equal(w.mutations, []string{"deregister " + victimID, "register " + victimID}) {
		t.Errorf("mutations %v: the drained server must be registered again", w.mutations)
	}
}

// A stop that takes longer than the wait: the drill gives up, then still waits (bounded)
// until EC2 reports the server stopped before it starts it again.
func TestTimeoutWhileStoppingStartsTheServerOnceStopped(t *testing.T) {
	w := newWorld(t)
	w.stopHangs = 40 * time.Second
	o := testOptions()
	o.PhaseTimeout = 30 * time.Second
	_, err := w.drill(o).Run(context.Background())
	if !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), "for EC2 to report "+victimID+" stopped") {
		t.Fatalf("want a bounded wait for the stop, got %v", err)
	}
	want := []string{"deregister " + victimID, "stop " + victimID, "start " + victimID, "register " + victimID}
	if !slices.Equal(w.mutations, want) {
		t.Errorf("mutations %v, want %v: %v", w.mutations, want, err)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	o := testOptions()
	o.DryRun = true
	r, err := w.drill(o).Run(context.Background())
	if err != nil || !r.DryRun || len(r.Phases) != 0 {
		t.Fatalf("dry run: err %v, report %+v", err, r)
	}
	if len(w.mutations) != 0 {
		t.Errorf("dry run called %v", w.mutations)
	}
	for _, want := range []string{"DRAIN EC2 instance " + victimID + " (" + primaryAZ + ")", "STOP it", "REBOOT RDS instance " + testDB + " WITH FAILOVER (primary in " + primaryAZ + ", standby in " + standbyAZ + ")"} {
		if !strings.Contains(r.Plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.Plan)
		}
	}
}

func TestRefusesWhatIsNotThisStacks(t *testing.T) {
	cases := map[string]func(w *world){
		"instance of another stack": func(w *world) { w.instances[otherID].tags["stack"] = "prod" },
		"untagged database":         func(w *world) { delete(w.dbTags, "project") },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			mutate(w)
			_, err := w.drill(testOptions()).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), "refusing to touch") {
				t.Errorf("want a refusal, got %v", err)
			}
			if len(w.mutations) != 0 {
				t.Errorf("mutations %v after a refusal", w.mutations)
			}
		})
	}
}

func TestPreflightChecks(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*world, *Options, *Target)
		expect string
	}{
		{"single-AZ database", func(w *world, _ *Options, _ *Target) { w.dbMultiAZ = false }, "not Multi-AZ"},
		{"one web server", func(w *world, _ *Options, tg *Target) { tg.Instances = tg.Instances[:1] }, "one web server"},
		{"unknown victim", func(_ *world, o *Options, _ *Target) { o.Instance = "i-0zzz" }, "not one of the stack's web servers"},
		{"server already down", func(w *world, _ *Options, _ *Target) {
			w.instances[otherID].running, w.instances[otherID].since = false, w.clock.Now().Add(-time.Hour)
		}, "is stopped, not running"},
		{"wrong target group", func(_ *world, _ *Options, tg *Target) { tg.TargetGroupARN = "arn:x" }, "DescribeTargetHealth arn:x: TargetGroupNotFound"},
		{"unknown database", func(_ *world, _ *Options, tg *Target) { tg.DBIdentifier = "nope" }, "DescribeDBInstances nope: DBInstanceNotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			o := testOptions()
			d := w.drill(o)
			c.setup(w, &d.Opts, &d.Target)
			_, err := d.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.expect) {
				t.Errorf("want an error with %q, got %v", c.expect, err)
			}
			if len(w.mutations) != 0 {
				t.Errorf("mutations %v after a failed pre-flight", w.mutations)
			}
		})
	}
}

func TestRefusedWithoutConfirmation(t *testing.T) {
	w := newWorld(t)
	o := testOptions()
	o.Yes = false
	d := w.drill(o)
	asked := ""
	d.Confirm = func(plan string) (bool, error) { asked = plan; return false, nil }
	_, err := d.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not confirmed") || asked == "" || len(w.mutations) != 0 {
		t.Errorf("err %v, asked %v, mutations %v", err, asked != "", w.mutations)
	}
}

func TestOutageTracker(t *testing.T) {
	s := func(at float64, ok bool) Sample { return Sample{At: time.Duration(at * float64(time.Second)), OK: ok} }
	o := &outage{steady: 3}
	for _, x := range []Sample{s(0, true), s(1, false), s(2, true), s(3, false), s(4, false), s(5, true), s(6, true)} {
		o.add(x)
	}
	if o.recovered() {
		t.Error("two successes are not steady when 3 are required")
	}
	o.add(s(7, true))
	if !o.recovered() || o.seconds() != 4 {
		t.Errorf("recovered %v, outage %.1fs, want true and 4s (first failure at 1s, steady from 5s)", o.recovered(), o.seconds())
	}
	if (&outage{steady: 1}).seconds() != 0 {
		t.Error("no failure means no outage")
	}
}

func TestPercentile(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	if percentile(l, 50) != 50*time.Millisecond || percentile(l, 99) != 99*time.Millisecond || percentile(l[:1], 99) != time.Millisecond {
		t.Errorf("p50 %v p99 %v", percentile(l, 50), percentile(l, 99))
	}
}

// The autoscaling mode: the drill loses a server as a failed instance is lost (terminated
// without draining; the group replaces it) and measures the failed share, the error window
// and the time until the group is back at full healthy capacity. It never acts on the group.
func TestDrillLosesAServerOfTheGroup(t *testing.T) {
	w := newWorld(t).inGroup()
	o := testOptions()
	o.SkipDB = true
	r, err := w.drill(o).Run(context.Background())
	if err != nil {
		t.Fatalf("drill failed: %v", err)
	}
	if !r.Passed {
		t.Fatalf("want a pass on a healthy stack, got %v", r.Violations)
	}
	if len(w.mutations) < 1 || w.mutations[0] != "terminate "+victimID {
		t.Fatalf("the drill must terminate one server without draining it; AWS mutations %v", w.mutations)
	}
	for _, m := range w.mutations[1:] {
		if !strings.HasPrefix(m, "group replaces ") {
			t.Errorf("the drill acted on the group's servers: %s", m)
		}
	}
	web := phase(t, r, "web: lose")
	want := (replaceAfter + bootTakes + hookTakes + healthyAfter).Seconds()
	if web.RecoverySeconds < want-1 || web.RecoverySeconds > want+2 {
		t.Errorf("back at full capacity after %.1fs, the simulated group takes %.0fs", web.RecoverySeconds, want)
	}
	// Until the health check catches the dead server, every other request goes to it.
	if web.Failures == 0 || web.OutageSeconds < detectAfter.Seconds()-2 || web.OutageSeconds > detectAfter.Seconds() {
		t.Errorf("web phase: %d failed, error window %.1fs; the simulated health check catches a dead server after %s", web.Failures, web.OutageSeconds, detectAfter)
	}
	if n := int(detectAfter / time.Second / 2); web.Failures < n || web.Failures > n+1 {
		t.Errorf("%d failed requests, want about half of the %s window's (%d)", web.Failures, detectAfter, n)
	}
	if got := 100 * float64(web.Failures) / float64(web.Requests); math.Abs(web.FailedPercent-got) > 0.01 {
		t.Errorf("failed share %.2f%%, want %.2f%%", web.FailedPercent, got)
	}
	if !slices.Equal(web.AlarmsFired, []string{"dev-unhealthy-hosts"}) {
		t.Errorf("alarms fired in the web phase %v, want the unhealthy-hosts alarm (it went to ALARM and back: the history has two pages)", web.AlarmsFired)
	}
	if !strings.Contains(r.Plan, "TERMINATE EC2 instance") || !strings.Contains(r.Plan, "launches a replacement") || !strings.Contains(r.Plan, "an error window of 13s") {
		t.Errorf("the plan must say what happens and what is allowed (window from the health check: 2 × 5s + 3s):\n%s", r.Plan)
	}
}

// Each threshold of the unplanned loss alone fails the run.
func TestLossThresholdsDecideTheExitCode(t *testing.T) {
	for name, c := range map[string]struct {
		set  func(*Options)
		want string
	}{
		"failed share":  {func(o *Options) { o.MaxLossPercent = 1 }, "of requests failed"},
		"error window":  {func(o *Options) { o.MaxLossWindow = 3 * time.Second }, "error window"},
		"recovery time": {func(o *Options) { o.MaxRecovery = time.Minute }, "back at full capacity after"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t).inGroup()
			o := testOptions()
			o.SkipDB = true
			c.set(&o)
			r, err := w.drill(o).Run(context.Background())
			if err != nil || ExitCode(r, err) != ExitFailed || len(r.Violations) != 1 || !strings.Contains(r.Violations[0], c.want) {
				t.Errorf("err %v, exit %d, violations %v; want one with %q", err, ExitCode(r, err), r.Violations, c.want)
			}
		})
	}
}

func TestDrillRefusesAGroupItShouldNotTouch(t *testing.T) {
	for name, spoil := range map[string]func(w *world){
		"another stack's group": func(w *world) { w.groupTags["stack"] = "prod" },
		"a group short of its capacity": func(w *world) {
			w.desired = 3
		},
		"a one-server group": func(w *world) {
			delete(w.instances, otherID)
			w.desired = 1
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t).inGroup()
			spoil(w)
			o := testOptions()
			o.SkipDB = true
			_, err := w.drill(o).Run(context.Background())
			if err == nil || len(w.mutations) != 0 {
				t.Errorf("the drill ran (%v), mutations %v", err, w.mutations)
			}
		})
	}
}

// Each probe asks for its own URL (a query string the site ignores), so that a CDN's cache in
// front of the servers cannot answer it: the drill measures the servers.
func TestProbesBypassACache(t *testing.T) {
	w := newWorld(t)
	seen := map[string]bool{}
	var paths []string
	w.onSite = func(r *http.Request, _ int) {
		seen[r.URL.RawQuery] = true
		paths = append(paths, r.URL.Path)
	}
	d := w.drill(testOptions())
	for range 5 {
		if s := d.probe(context.Background(), w.clock.Now()); !s.OK {
			t.Fatalf("probe failed: %+v", s)
		}
	}
	if len(seen) != 5 || seen[""] {
		t.Errorf("5 probes asked for %d distinct query strings %v; each must be its own", len(seen), seen)
	}
	for _, p := range paths {
		if p != "/" {
			t.Errorf("a probe asked for %s, not the site's front page", p)
		}
	}
}
