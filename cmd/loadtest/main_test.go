package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// site is a local stand-in for the WordPress site: it answers status after delay and
// counts the requests it gets.
type site struct {
	*httptest.Server
	hits atomic.Int64
}

func newSite(t *testing.T, status int, delay time.Duration) *site {
	t.Helper()
	s := &site{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command on a machine where no stack is selected.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, &fakePulumi{fail: "error: no stack selected"}, args...)
}

// runWith runs the command with pulumi standing in for the Pulumi CLI.
func runWith(t *testing.T, pulumi *fakePulumi, args ...string) result {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(args, &stdout, &stderr, pulumi.run)
	return result{code, stdout.String(), stderr.String()}
}

// fakePulumi stands in for the Pulumi CLI: it prints outputs whose siteUrl is site, or fails
// with fail, and records the commands it was asked to run.
type fakePulumi struct {
	site, fail string
	mu         sync.Mutex
	commands   []string
}

func (f *fakePulumi) run(_ context.Context, _, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.commands = append(f.commands, name+" "+strings.Join(args, " "))
	f.mu.Unlock()
	if f.fail != "" {
		return nil, errors.New(f.fail)
	}
	return json.Marshal(map[string]string{"siteUrl": f.site})
}

// ran is the commands the fake was asked to run, one per line.
func (f *fakePulumi) ran() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.commands, "\n")
}

// quick is a one-step, one-second plan.
var quick = []string{"--rates", "10", "--step-duration", "1s"}

func args(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// reportDoc is the part of the JSON report the tests read.
type reportDoc struct {
	Target struct {
		URL, Host, Stack, SiteURL, AllowedBy string
	} `json:"target"`
	Passed        bool `json:"passed"`
	ExitCode      int  `json:"exitCode"`
	StoppedOnFail bool `json:"stoppedOnFail"`
	Interrupted   bool `json:"interrupted"`
	Steps         []struct {
		OfferedRps  float64        `json:"offeredRps"`
		Requests    int            `json:"requests"`
		AchievedRps float64        `json:"achievedRps"`
		P95Ms       float64        `json:"p95Ms"`
		Errors      map[string]int `json:"errors"`
		Interrupted bool           `json:"interrupted"`
		Verdict     struct {
			Pass     bool     `json:"pass"`
			Breaches []string `json:"breaches"`
		} `json:"verdict"`
	} `json:"steps"`
}

func readReport(t *testing.T, path string) reportDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the report: %v", err)
	}
	var doc reportDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return doc
}

func TestHealthySiteExitsZero(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusOK, 0)
	report := filepath.Join(t.TempDir(), "load.json")

	r := runCLI(t, args(quick, "--url", s.URL, "--allow-host", "127.0.0.1", "--max-p95", "2s", "--report", report)...)

	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "STEP") || !strings.HasPrefix(lines[1], "1 ") || !strings.HasSuffix(lines[1], "pass") {
		t.Errorf("table = %q, want a header and one passing step", r.stdout)
	}
	if !strings.Contains(r.stderr, "step 1/1: 10 rps for 1s") {
		t.Errorf("stderr has no progress:\n%s", r.stderr)
	}
	doc := readReport(t, report)
	if !doc.Passed || doc.ExitCode != 0 || len(doc.Steps) != 1 || !doc.Steps[0].Verdict.Pass || doc.Target.AllowedBy != "--allow-host" || doc.Target.Host != "127.0.0.1" {
		t.Errorf("report = %+v, want one passing step allowed by --allow-host", doc)
	}
	if got := s.hits.Load(); got < 6 || int(got) != doc.Steps[0].Requests {
		t.Errorf("the site got %d requests, the report says %d; want about 10", got, doc.Steps[0].Requests)
	}
}

func TestFailingSiteExitsOneAndSaysWhy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		delay  time.Duration
		flags  []string
		want   string
	}{
		{"503s", http.StatusServiceUnavailable, 0, []string{"--max-error-rate", "1"}, "error rate 100.00% > max 1%"},
		{"slow", http.StatusOK, 300 * time.Millisecond, []string{"--max-p95", "100ms"}, "> max 100ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, c.status, c.delay)
			report := filepath.Join(t.TempDir(), "load.json")

			r := runCLI(t, args(quick, append(c.flags, "--url", s.URL, "--allow-host", "127.0.0.1", "--report", report)...)...)

			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "FAIL step 1 (10 rps): ") || !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr does not say step 1 breached %q:\n%s", c.want, r.stderr)
			}
			doc := readReport(t, report)
			if doc.Passed || doc.ExitCode != 1 || len(doc.Steps) != 1 || doc.Steps[0].Verdict.Pass ||
				len(doc.Steps[0].Verdict.Breaches) != 1 || !strings.Contains(doc.Steps[0].Verdict.Breaches[0], c.want) {
				t.Errorf("report = %+v, want step 1 failed with %q", doc, c.want)
			}
		})
	}
}

func TestStopOnFailEndsTheRamp(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusServiceUnavailable, 0)
	report := filepath.Join(t.TempDir(), "load.json")

	r := runCLI(t, "--url", s.URL, "--allow-host", "127.0.0.1", "--rates", "5,10,20", "--step-duration", "1s", "--stop-on-fail", "--report", report)

	doc := readReport(t, report)
	if r.code != 1 || len(doc.Steps) != 1 || !doc.StoppedOnFail || doc.Steps[0].Errors["503"] == 0 {
		t.Errorf("exit %d, report %+v: want exit 1 after the first step, its 503s counted", r.code, doc)
	}
	if !strings.Contains(r.stdout, "stopped on fail after step 1: 2 step(s) not run") {
		t.Errorf("table does not say the ramp stopped:\n%s", r.stdout)
	}
	if n := s.hits.Load(); n > 8 {
		t.Errorf("the site got %d requests, want only the first step's (about 5)", n)
	}
}

func TestUsageErrorsExitTwoBeforeSending(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusOK, 0)
	local := []string{"--url", s.URL, "--allow-host", "127.0.0.1"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"--rates", "5"}, "--url URL or --stack NAME"},
		{"unknown flag", args(local, "--rps", "5"), "flag provided but not defined"},
		{"stray argument", args(local, "now"), "unexpected arguments"},
		{"rate 0", args(local, "--rates", "0"), "not a positive number"},
		{"rate 10000", args(local, "--rates", "10000"), "over the limit of 5000"},
		{"rate not a number", args(local, "--rates", "5,ten"), `"ten" is not a number`},
		{"100 steps", args(local, "--steps", "100"), "100 steps"},
		{"1h steps", args(local, "--step-duration", "1h"), "step duration 1h0m0s"},
		{"40m in all", args(local, "--steps", "40", "--step-duration", "1m"), "over the limit of 30m0s"},
		{"max total past 2h", args(local, "--max-total", "3h"), "total limit 3h0m0s"},
		{"0 workers", args(local, "--max-workers", "0"), "max workers 0"},
		{"timeout 10ms", args(local, "--timeout", "10ms"), "request timeout 10ms"},
		{"error rate over 100", args(local, "--max-error-rate", "150"), "percentage up to 100"},
		{"rates and a ramp", args(local, "--rates", "5", "--steps", "3"), "alternatives"},
		{"bad header", args(local, "--header", "Cookie"), `not of the form "Name: value"`},
		{"path on another host", args(local, "--path", "//evil.example/"), "name no host"},
		{"not http", []string{"--url", "ftp://127.0.0.1/", "--allow-host", "127.0.0.1"}, "not an absolute http(s) URL"},
		{"report in a missing folder", args(local, "--report", filepath.Join(t.TempDir(), "no", "r.json")), "create the report"},
	}
	for _, c := range cases {
		r := runCLI(t, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.name, r.code, r.stderr, c.want)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the site got %d requests from refused runs, want 0", n)
	}
}

func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	if r := runCLI(t, "-h"); r.code != 0 || !strings.Contains(r.stderr, "--allow-host") && !strings.Contains(r.stderr, "-allow-host") {
		t.Errorf("-h: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestForeignHostIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusOK, 0)
	cases := []struct {
		name   string
		pulumi *fakePulumi
		args   []string
		want   []string
	}{
		{"--url on another host than the selected stack's site", &fakePulumi{site: "https://d111.cloudfront.net"},
			[]string{"--url", s.URL}, []string{`host "127.0.0.1"`, `site host "d111.cloudfront.net"`, "--allow-host 127.0.0.1"}},
		{"site URL unreadable", &fakePulumi{fail: "error: no stack selected"},
			[]string{"--url", s.URL}, []string{`host "127.0.0.1"`, "no stack selected", "--allow-host 127.0.0.1"}},
		{"--url on another host than --stack's site", &fakePulumi{site: s.URL},
			[]string{"--stack", "dev", "--url", "http://www.example.com/"}, []string{`host "www.example.com"`, "--allow-host www.example.com"}},
		{"another host allowed, not this one", &fakePulumi{site: "https://d111.cloudfront.net"},
			[]string{"--url", s.URL, "--allow-host", "localhost"}, []string{`host "127.0.0.1"`}},
		{"--stack unreadable", &fakePulumi{fail: "error: no stack named dev found"},
			[]string{"--stack", "dev"}, []string{`site URL of stack "dev"`, "no stack named dev found"}},
	}
	for _, c := range cases {
		r := runWith(t, c.pulumi, args(quick, c.args...)...)
		if r.code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s", c.name, r.code, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr %q does not say %q", c.name, r.stderr, w)
			}
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the site got %d requests from refused runs, want 0", n)
	}
}

func TestAllowHostNeedsNoStack(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusOK, 0)
	pulumi := &fakePulumi{fail: "error: no stack selected"}

	r := runWith(t, pulumi, args(quick, "--url", s.URL, "--allow-host", "127.0.0.1")...)

	if r.code != 0 || s.hits.Load() == 0 {
		t.Errorf("exit %d after %d requests, want 0 after some\n%s", r.code, s.hits.Load(), r.stderr)
	}
	if ran := pulumi.ran(); ran != "" {
		t.Errorf("pulumi was run (%s) although --allow-host named the host", ran)
	}
}

func TestStackGivesTheSiteURL(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusOK, 0)
	pulumi := &fakePulumi{site: s.URL}
	report := filepath.Join(t.TempDir(), "load.json")

	r := runWith(t, pulumi, args(quick, "--stack", "dev", "--path", "/", "--path", "/?p=1", "--report", report)...)

	if r.code != 0 || s.hits.Load() == 0 {
		t.Fatalf("exit %d after %d requests, want 0 after some\n%s", r.code, s.hits.Load(), r.stderr)
	}
	if got := pulumi.ran(); got != "pulumi stack output --json --stack dev" {
		t.Errorf("pulumi ran %q, want pulumi stack output --json --stack dev", got)
	}
	if doc := readReport(t, report); doc.Target.Stack != "dev" || doc.Target.SiteURL != s.URL || doc.Target.AllowedBy != "stack siteUrl" {
		t.Errorf("report target = %+v, want stack dev, its siteUrl", doc.Target)
	}
}

func TestURLOnTheSelectedStacksHost(t *testing.T) {
	t.Parallel()
	s := newSite(t, http.StatusOK, 0)
	pulumi := &fakePulumi{site: s.URL + "/"}

	r := runWith(t, pulumi, args(quick, "--url", s.URL+"/?p=1")...)

	if r.code != 0 || s.hits.Load() == 0 {
		t.Errorf("exit %d after %d requests, want 0 after some\n%s", r.code, s.hits.Load(), r.stderr)
	}
	if got := pulumi.ran(); got != "pulumi stack output --json" {
		t.Errorf("pulumi ran %q, want pulumi stack output --json (the selected stack)", got)
	}
}

// Not parallel: the signal reaches every run in the process.
func TestInterruptStillReportsWhatWasMeasured(t *testing.T) {
	s := newSite(t, http.StatusOK, 0)
	report := filepath.Join(t.TempDir(), "load.json")
	done := make(chan result)
	go func() {
		var stdout, stderr strings.Builder
		code := run([]string{"--url", s.URL, "--allow-host", "127.0.0.1", "--rates", "20", "--step-duration", "30s", "--report", report}, &stdout, &stderr, (&fakePulumi{fail: "error: no stack selected"}).run)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	for deadline := time.Now().Add(5 * time.Second); s.hits.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end after SIGINT")
	}

	if r.code != 1 || !strings.Contains(r.stdout, "interrupted during step 1 of 1") || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("exit %d, stdout %q, stderr %q: want 1, the table and the interruption", r.code, r.stdout, r.stderr)
	}
	doc := readReport(t, report)
	if !doc.Interrupted || doc.Passed || len(doc.Steps) != 1 || !doc.Steps[0].Interrupted || doc.Steps[0].Requests < 5 {
		t.Errorf("report = %+v, want the interrupted step's requests", doc)
	}
}
