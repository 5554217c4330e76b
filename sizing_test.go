package main

// The sizing formula of boot/sizing.sh (memory and vCPUs -> PHP-FPM pool, OPcache, Apache),
// run by bash itself: the servers run exactly this file. The site test checks that php-fpm and
// Apache accept what it writes, and the capacity benchmark measures it under load.

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// phpSizing runs php_sizing MEMORY_MIB VCPUS and returns its name=value lines.
func phpSizing(t *testing.T, memoryMiB, vcpus int) map[string]string {
	t.Helper()
	out, err := exec.Command("bash", "-c", `source boot/sizing.sh && php_sizing "$1" "$2"`, "sizing",
		strconv.Itoa(memoryMiB), strconv.Itoa(vcpus)).CombinedOutput()
	if err != nil {
		t.Fatalf("php_sizing %d %d: %v\n%s", memoryMiB, vcpus, err, out)
	}
	s := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("php_sizing printed %q, want name=value", line)
		}
		s[k] = v
	}
	return s
}

func sizingInt(t *testing.T, s map[string]string, key string) int {
	t.Helper()
	n, err := strconv.Atoi(s[key])
	if err != nil {
		t.Fatalf("%s = %q, want a number", key, s[key])
	}
	return n
}

func TestSizingFitsThePoolInMemory(t *testing.T) {
	cases := []struct {
		name                 string
		memoryMiB, vcpus     int
		children, opcacheMiB int
	}{
		// MemTotal as Amazon Linux 2023 reports it (a little under the type's GiB).
		{"t3.nano, 0.5 GiB: the floor of two workers", 452, 2, 2, 64},
		{"t3.micro, 1 GiB (the default)", 916, 2, 7, 64},
		{"t4g.small, 2 GiB", 1874, 2, 16, 117},
		{"t3.small, 2 GiB, one vCPU allowed: the CPU cap", 1874, 1, 8, 117},
		{"m7g.xlarge, 16 GiB, 4 vCPUs: the CPU cap, OPcache at its ceiling", 15700, 4, 32, 256},
		{"r7g.large, 16 GiB, 2 vCPUs", 15700, 2, 16, 256},
		{"c7g.4xlarge, 32 GiB, 16 vCPUs: large machines are CPU bound", 31500, 16, 128, 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := phpSizing(t, c.memoryMiB, c.vcpus)
			children, opcache := sizingInt(t, s, "max_children"), sizingInt(t, s, "opcache_mib")
			if children != c.children || opcache != c.opcacheMiB {
				t.Errorf("%d MiB, %d vCPUs: %d workers and %d MiB OPcache, want %d and %d", c.memoryMiB, c.vcpus, children, opcache, c.children, c.opcacheMiB)
			}
			if s["pm"] != "static" || s["max_requests"] != "500" || s["terminate_timeout"] != "60s" {
				t.Errorf("pool %v: want pm static, 500 requests per worker, 60s terminate timeout", s)
			}
			if children > 8*c.vcpus {
				t.Errorf("%d workers on %d vCPUs: more than 8 per vCPU", children, c.vcpus)
			}
			// Above the two-worker floor, the workers' budget plus the reserves fit in memory.
			used := 256 + c.memoryMiB/16 + 64 + opcache + 64*children
			if children > 2 && used > c.memoryMiB {
				t.Errorf("%d MiB budgeted on a %d MiB machine", used, c.memoryMiB)
			}
			// Overload: Apache opens at most the workers plus a queue as long to PHP, answers
			// the rest 503 within 100 ms, and has threads for all of them and some to spare
			// (static files, the health check), or overload would wait in its accept queue.
			queue, conns, threads := sizingInt(t, s, "queue"), sizingInt(t, s, "php_connections"), sizingInt(t, s, "threads")
			if queue != children || conns != children+queue || s["acquire_ms"] != "100" {
				t.Errorf("queue %d, %d connections to PHP, acquire %s ms: want a queue of one per worker (%d), workers + queue, 100 ms", queue, conns, s["acquire_ms"], children)
			}
			if threads < 2*conns {
				t.Errorf("Apache's %d threads cannot hold %d requests to PHP and as many answered 503 or static", threads, conns)
			}
		})
	}
}

func TestSizingGrowsWithMemory(t *testing.T) {
	previous := 0
	for _, memory := range []int{452, 916, 1874, 3800, 7800} {
		children := sizingInt(t, phpSizing(t, memory, 64), "max_children")
		if children < previous {
			t.Errorf("%d MiB: %d workers, fewer than %d with less memory", memory, children, previous)
		}
		previous = children
	}
}
