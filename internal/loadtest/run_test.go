package loadtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers status after delay (cut short when the client goes away) and
// counts the requests it receives.
func countingServer(t *testing.T, status int, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		wait(r, delay)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// wait sleeps d, or less if the client hangs up: a test server must not outlive its test.
func wait(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

func mustRun(t *testing.T, ctx context.Context, p Plan) Report {
	t.Helper()
	rep, err := Run(ctx, p, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Steps) == 0 {
		t.Fatalf("Run ran no step: %+v", rep)
	}
	return rep
}

func TestRunSendsTheOfferedRate(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t, http.StatusOK, 0)
	p := validPlan(srv.URL)
	p.Rates, p.StepDuration = []float64{50}, 2*time.Second

	rep := mustRun(t, context.Background(), p)

	s := rep.Steps[0]
	if s.Requests < 80 || s.Requests > 120 {
		t.Errorf("50 rps for 2s sent %d requests, want about 100", s.Requests)
	}
	if got := hits.Load(); got != int64(s.Requests) {
		t.Errorf("the server got %d requests, the report says %d", got, s.Requests)
	}
	if s.AchievedRps < 35 || s.AchievedRps > 65 || s.Successes != s.Requests {
		t.Errorf("achieved %v rps with %d/%d successes, want about 50 rps, all successful", s.AchievedRps, s.Successes, s.Requests)
	}
	if s.OfferedRps != 50 || s.P95Ms <= 0 || s.P95Ms < s.P50Ms || s.MaxMs < s.P99Ms || s.SuccessRatio != 1 {
		t.Errorf("step figures %+v are inconsistent", s)
	}
	if !rep.Passed() || rep.Interrupted {
		t.Errorf("report did not pass: %+v", rep)
	}
}

func TestRunNeverExceedsMaxWorkersInFlight(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		wait(r, 200*time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	p := validPlan(srv.URL)
	p.Rates, p.MaxWorkers = []float64{40}, 3 // 40 rps would need 8 in flight at 200 ms each

	rep := mustRun(t, context.Background(), p)

	if got := most.Load(); got > 3 || got < 2 {
		t.Errorf("the server saw at most %d requests at once, want 3 (the workers, all busy)", got)
	}
	if s := rep.Steps[0]; s.SentRps >= 30 {
		t.Errorf("sent %v rps with 3 workers on a 200ms site, want well under the 40 offered", s.SentRps)
	}
}

func TestRunStopsPromptlyWhenCancelled(t *testing.T) {
	t.Parallel()
	var hits, slowInFlight atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/fast", func(http.ResponseWriter, *http.Request) { hits.Add(1) })
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		slowInFlight.Add(1)
		defer slowInFlight.Add(-1)
		wait(r, 20*time.Second)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := validPlan(srv.URL)
	p.Rates, p.StepDuration, p.Timeout = []float64{20}, 30*time.Second, 10*time.Second
	p.Targets = []Target{{Method: http.MethodGet, URL: srv.URL + "/fast"}, {Method: http.MethodGet, URL: srv.URL + "/slow"}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)

	start := time.Now()
	rep := mustRun(t, ctx, p)
	took := time.Since(start)

	if took > 4*time.Second { // 1 s before the cancel, then at once: not the 30 s step, nor the 10 s timeout
		t.Errorf("Run took %v after a cancel at 1s of a 30s step", took)
	}
	s := rep.Steps[0]
	if !rep.Interrupted || !s.Interrupted || rep.Passed() {
		t.Errorf("report after a cancel: interrupted %v, step interrupted %v, passed %v", rep.Interrupted, s.Interrupted, rep.Passed())
	}
	if s.Successes == 0 || s.Requests != s.Successes || len(s.Errors) != 0 {
		t.Errorf("partial step has %d requests, %d successes, errors %v: want the fast ones, and the abandoned slow ones not counted as errors",
			s.Requests, s.Successes, s.Errors)
	}
	before := hits.Load()
	time.Sleep(300 * time.Millisecond)
	if after := hits.Load(); after > before+1 {
		t.Errorf("the server got %d more requests after Run returned", after-before)
	}
	for deadline := time.Now().Add(3 * time.Second); slowInFlight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := slowInFlight.Load(); n > 0 {
		t.Errorf("%d slow requests still hold the site after the cancel, want their connections cut", n)
	}
}

func TestRunClassifiesErrors(t *testing.T) {
	t.Parallel()
	closed := closedPort(t)
	resetting := hijackingServer(t, true)
	closing := hijackingServer(t, false)
	hanging, _ := countingServer(t, http.StatusOK, 5*time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/gone", http.NotFound)
	statuses := httptest.NewServer(mux)
	t.Cleanup(statuses.Close)

	cases := []struct {
		name string
		urls []string
		want map[string]float64 // kind: share of the requests
	}{
		{"connection refused", []string{"http://" + closed + "/"}, map[string]float64{KindRefused: 1}},
		{"timeout", []string{hanging.URL}, map[string]float64{KindTimeout: 1}},
		{"connection reset", []string{resetting}, map[string]float64{KindReset: 1}},
		{"closed before responding", []string{closing}, map[string]float64{KindEOF: 1}},
		{"status codes", []string{statuses.URL + "/ok", statuses.URL + "/busy", statuses.URL + "/gone"},
			map[string]float64{"503": 1.0 / 3, "404": 1.0 / 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := validPlan(c.urls[0])
			p.Rates, p.Timeout = []float64{12}, MinTimeout
			p.Targets = nil
			for _, u := range c.urls {
				p.Targets = append(p.Targets, Target{Method: http.MethodGet, URL: u})
			}
			s := mustRun(t, context.Background(), p).Steps[0]
			if s.Requests < 6 {
				t.Fatalf("only %d requests", s.Requests)
			}
			failed := 0
			for kind, share := range c.want {
				n := s.Errors[kind]
				failed += n
				if got := float64(n) / float64(s.Requests); got < share-0.1 || got > share+0.1 {
					t.Errorf("%s: %d of %d requests, want %.0f%% (errors %v)", kind, n, s.Requests, 100*share, s.Errors)
				}
			}
			if total := sum(s.Errors); total != failed || uint64(total) != s.Requests-s.Successes {
				t.Errorf("errors %v: %d in all, want only the kinds %v, one per failed request (%d)", s.Errors, total, c.want, s.Requests-s.Successes)
			}
		})
	}
}

func TestRunStopsTheRampOnFail(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t, http.StatusServiceUnavailable, 0)
	p := validPlan(srv.URL)
	p.Rates, p.StopOnFail, p.Thresholds.MaxErrorRate = []float64{5, 10, 20}, true, 1

	rep := mustRun(t, context.Background(), p)

	if len(rep.Steps) != 1 || !rep.StoppedOnFail || rep.Passed() {
		t.Errorf("ran %d steps (stopped %v, passed %v), want only the first, failing", len(rep.Steps), rep.StoppedOnFail, rep.Passed())
	}
	if n := hits.Load(); n > 8 {
		t.Errorf("the server got %d requests, want only the first step's (about 5)", n)
	}
}

func TestRunSendsHeadersRoundRobinAndFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	elsewhere, elsewhereHits := countingServer(t, http.StatusOK, 0)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.URL.Path]++
		if r.Header.Get("Cookie") != "wordpress_logged_in=abc" || r.Header.Get("User-Agent") != userAgent {
			seen["missing headers"]++
		}
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, elsewhere.URL+"/", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	ts, err := Targets(srv.URL, http.MethodGet, []string{"/", "/moved"}, http.Header{"Cookie": {"wordpress_logged_in=abc"}})
	if err != nil {
		t.Fatal(err)
	}
	p := validPlan(srv.URL)
	p.Rates, p.Targets, p.Thresholds.MaxErrorRate = []float64{10}, ts, 0

	s := mustRun(t, context.Background(), p).Steps[0]

	mu.Lock()
	defer mu.Unlock()
	if seen["/"] < 3 || seen["/moved"] < 3 || abs(seen["/"]-seen["/moved"]) > 1 || seen["missing headers"] != 0 {
		t.Errorf("the site saw %v, want both paths in turn, each request with the cookie and user agent", seen)
	}
	if n := elsewhereHits.Load(); n != 0 || !s.Verdict.Pass || s.StatusCodes["302"] == 0 {
		t.Errorf("redirect target got %d requests, step %+v: want none, and the 302s counted as successes", n, s)
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// hijackingServer closes every connection without a response: with reset, abortively (RST).
func hijackingServer(t *testing.T, reset bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func abs(n int) int {
	return max(n, -n)
}
