//go:build lab

package main

// The capacity benchmark: one web server of the real site (the site test's stand-ins: real
// WordPress, PHP-FPM, Apache, MariaDB and HAProxy) inside a memory limit of the default
// instance type's RAM, driven through the load balancer by the load test's engine
// (internal/loadtest, the engine of `go run ./cmd/loadtest`). For the front page and for a
// logged-in wp-admin page it finds the sustainable rate, holds it, then offers 2x and 10x
// that rate and comes back to 1x.
//
// The rates are measurements of this machine, reported, never asserted (machines are
// noisy). What is asserted is how overload ends: nothing killed by the OOM killer, the
// excess answered with 503s (not timeouts or resets), the server still in rotation, and
// the site serving again at the sustainable rate once the burst is over.
//
//	go test -run TestCapacity -v .                     # a short ramp (in CI), ~3 minutes
//	CAPACITY_FULL=1 go test -run TestCapacity -v .     # the README's figures, ~8 minutes
//	CAPACITY_INSTANCE=t3.small ...                     # another 2-vCPU type's memory

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/scalable-wordpress/internal/loadtest"
)

// instanceMemory is the RAM of the instance types the benchmark can stand in for: each has 2
// vCPUs, as this machine has 2 cores, so only memory differs.
var instanceMemory = map[string]int64{"t3.micro": 1 << 30, "t3.small": 2 << 30, "t3.medium": 4 << 30}

// capacityInstance is the type the benchmark measures: CAPACITY_INSTANCE, by default the
// program's default instance type.
func capacityInstance(t *testing.T) (string, int64) {
	t.Helper()
	name := os.Getenv("CAPACITY_INSTANCE")
	if name == "" {
		name = defaultInstanceType(t)
	}
	memory, ok := instanceMemory[name]
	if !ok {
		t.Fatalf("CAPACITY_INSTANCE %q: want one of %v (2-vCPU types, as this machine has 2 cores)", name, slices.Sorted(maps.Keys(instanceMemory)))
	}
	return name, memory
}

// Sustainable means: at most 1% errors, a p95 within a second, and the offered rate achieved.
var sustainable = loadtest.Thresholds{MaxP95: time.Second, MaxErrorRate: 1}

// capacityPhase is one page's measurement.
type capacityPhase struct {
	Page           string                         `json:"page"`
	SustainableRps float64                        `json:"sustainableRps"`
	Ramp           []loadtest.StepResult          `json:"ramp"`
	Steps          map[string]loadtest.StepResult `json:"steps"`
	OOMKills       int64                          `json:"oomKills"`
	PeakMiB        int64                          `json:"peakMiB"`
	TargetAfter    string                         `json:"targetAfter"`
}

func TestCapacity(t *testing.T) {
	requireLab(t)
	full := os.Getenv("CAPACITY_FULL") != ""
	instance, memory := capacityInstance(t)
	facts := siteProgramFacts(t, nil)
	var cg *memoryCgroup
	rs := startSite(t, facts, 1, func(s *webServer) {
		cg = newMemoryCgroup(t, "scalable-wordpress-capacity-"+s.name(), memory)
		s.cgroup = cg
	})
	server := rs.servers[0]
	t.Logf("sizing: %s", sizingLine(rs.boots[0].Log))

	jar := newJar()
	c := rs.l.client(labLBAddr, jar)
	login(t, c, facts.SiteURL, rs.site[settingAdminUser], labAdminPassword)
	checkDashboard(t, c, facts.SiteURL)
	// The cookies a browser sends to wp-admin: the logged-in one (path /) and the admin
	// one (path /wp-admin).
	admin, _ := url.Parse(facts.SiteURL + "/wp-admin/")
	var cookies []string
	for _, ck := range jar.Cookies(admin) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	pages := []struct {
		name, path string
		header     http.Header
	}{
		{"front page", "/", http.Header{"Host": {rs.httpHost}}},
		{"wp-admin, logged in", "/wp-admin/", http.Header{"Host": {rs.httpHost}, "Cookie": {strings.Join(cookies, "; ")}}},
	}
	var phases []capacityPhase
	for _, p := range pages {
		checkPage(t, rs.l, p.path, p.header)
		phase := measureCapacity(t, rs, cg, full, p.name, p.path, p.header)
		phases = append(phases, phase)
		checkOverload(t, phase)
	}
	report, _ := json.MarshalIndent(phases, "", "  ")
	if path := os.Getenv("CAPACITY_REPORT"); path != "" {
		if err := os.WriteFile(path, report, 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%s stand-in: server %s, %d MiB limit, peak %d MiB, OOM kills %d", instance, server.name(), memory>>20, cg.peakBytes()>>20, cg.oomKills())
	for _, ph := range phases {
		t.Logf("%s: sustainable %.1f req/s (p95 %.0f ms); 2x: %s; 10x: %s; back at 1x: %s", ph.Page, ph.SustainableRps,
			ph.Steps["hold"].P95Ms, stepLine(ph.Steps["2x"]), stepLine(ph.Steps["10x"]), stepLine(ph.Steps["return"]))
	}
}

// sizingLine is the converge journal's sizing line.
func sizingLine(journal string) string {
	for _, line := range strings.Split(journal, "\n") {
		if i := strings.Index(line, "sized for "); i >= 0 {
			return line[i:]
		}
	}
	return "(no sizing line in the journal)"
}

func stepLine(s loadtest.StepResult) string {
	return fmt.Sprintf("offered %.0f/s, served %.1f/s, p50 %.0f ms, p95 %.0f ms, %.1f%% errors %s",
		s.OfferedRps, s.AchievedRps, s.P50Ms, s.P95Ms, s.ErrorRatePercent, loadtest.FormatErrors(s.Errors))
}

// measureCapacity ramps up until the thresholds break, then holds the last sustainable rate,
// offers 2x and 10x of it, and returns to it.
func measureCapacity(t *testing.T, rs *runningSite, cg *memoryCgroup, full bool, page, path string, header http.Header) capacityPhase {
	t.Helper()
	step, hold := 3*time.Second, 5*time.Second
	rates := []float64{2, 4, 6, 8, 12, 16, 24, 32, 48, 64}
	if full {
		step, hold = 10*time.Second, 30*time.Second
		rates = []float64{2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 64}
	}
	targets := []loadtest.Target{{Method: http.MethodGet, URL: "http://" + labLBAddr + path, Header: header}}
	run := func(rates []float64, d time.Duration, stop bool, th loadtest.Thresholds) loadtest.Report {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		r, err := loadtest.Run(ctx, loadtest.Plan{Rates: rates, StepDuration: d, Timeout: 10 * time.Second, MaxWorkers: 400,
			Targets: targets, Thresholds: th, StopOnFail: stop}, nil)
		if err != nil {
			t.Fatalf("%s: load test: %v", page, err)
		}
		return r
	}
	ramp := run(rates, step, true, sustainable)
	var table strings.Builder
	_ = ramp.Table(&table)
	t.Logf("%s ramp:\n%s", page, table.String())
	best := 0.0
	for _, s := range ramp.Steps {
		if s.Verdict.Pass && s.AchievedRps >= 0.9*s.OfferedRps {
			best = s.OfferedRps
		}
	}
	if best == 0 {
		t.Fatalf("%s: not even %.0f req/s is sustainable", page, rates[0])
	}
	phase := capacityPhase{Page: page, SustainableRps: best, Ramp: ramp.Steps, Steps: map[string]loadtest.StepResult{}}
	for _, x := range []struct {
		name   string
		factor float64
	}{{"hold", 1}, {"2x", 2}, {"10x", 10}, {"return", 1}} {
		r := run([]float64{best * x.factor}, hold, false, sustainable)
		phase.Steps[x.name] = r.Steps[0]
		t.Logf("%s at %s (%.0f req/s): %s; load balancer: %v", page, x.name, best*x.factor, stepLine(r.Steps[0]), rs.l.lb.targets())
	}
	phase.OOMKills, phase.PeakMiB = cg.oomKills(), cg.peakBytes()>>20
	t.Logf("%s: Apache's error log: %s", page, apacheErrors(rs.servers[0]))
	phase.TargetAfter = rs.l.lb.targets()[rs.servers[0].name()].Status
	return phase
}

// checkOverload asserts how overload ended, not how fast the machine was.
func checkOverload(t *testing.T, ph capacityPhase) {
	t.Helper()
	if ph.OOMKills != 0 {
		t.Errorf("%s: the OOM killer ended %d processes in the server's memory limit", ph.Page, ph.OOMKills)
	}
	for name, s := range ph.Steps { // pages, never a redirect (to the login form) taken for one
		for code := range s.StatusCodes {
			if code != "200" && code != "503" {
				t.Errorf("%s at %s: status %s answered", ph.Page, name, code)
			}
		}
	}
	for _, name := range []string{"2x", "10x"} {
		s := ph.Steps[name]
		for kind, n := range s.Errors {
			if kind != "503" {
				t.Errorf("%s at %s: %d errors of kind %s; overload must be answered with fast 503s", ph.Page, name, n, kind)
			}
		}
	}
	if !strings.HasPrefix(ph.TargetAfter, "UP") {
		t.Errorf("%s: after the overload the server is %q in the load balancer, want UP", ph.Page, ph.TargetAfter)
	}
	if back := ph.Steps["return"]; back.ErrorRatePercent > 5 {
		t.Errorf("%s: back at the sustainable rate %.1f%% of requests still fail: %s", ph.Page, back.ErrorRatePercent, stepLine(back))
	}
}

// apacheErrors counts the server's Apache error log lines by module and code.
func apacheErrors(s *webServer) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "disk/var/log/httpd/error_log"))
	counts := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := apacheCode.FindStringSubmatch(line); m != nil {
			counts[m[1]+" "+m[2]]++
		}
	}
	return fmt.Sprint(counts)
}

var apacheCode = regexp.MustCompile(`\] \[([a-z_]+:[a-z]+)\] .*?(AH\d+)`)

// checkPage fails the test unless the page answers 200 with the header alone (the load test
// counts a redirect, to the login form say, as a success).
func checkPage(t *testing.T, l *lab, path string, header http.Header) {
	t.Helper()
	h := header.Clone()
	host := h.Get("Host")
	h.Del("Host")
	page, err := fetch(l.client(labLBAddr, nil), http.MethodGet, "http://"+host+path, h, nil)
	if err != nil || page.Code != http.StatusOK {
		t.Fatalf("%s: %v %s (to %q), want 200: the benchmark would measure something else", path, err, page.Status, page.Location)
	}
	if strings.HasPrefix(path, "/wp-admin/") && !strings.Contains(page.Body, "wp-admin wp-core-ui") {
		t.Fatalf("%s: not the dashboard", path)
	}
}
