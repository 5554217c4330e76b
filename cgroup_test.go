//go:build lab

package main

// memoryCgroup is a memory limit for a lab server, as an instance's RAM is: the converge
// script reads it as the machine's memory (boot/sizing.sh), and the kernel's OOM killer acts
// inside it as it would on an instance that ran out. cgroup v2 where the machine has it,
// else v1's memory controller.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type memoryCgroup struct {
	dir string
	v2  bool
}

// newMemoryCgroup creates the group with a limit of limit bytes and no swap; the test's
// cleanup kills what still runs in it and removes it.
func newMemoryCgroup(t *testing.T, name string, limit int64) *memoryCgroup {
	t.Helper()
	cg := &memoryCgroup{}
	switch {
	case fileExists("/sys/fs/cgroup/cgroup.controllers"):
		cg.v2, cg.dir = true, filepath.Join("/sys/fs/cgroup", name)
		_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0o644)
	case fileExists("/sys/fs/cgroup/memory/memory.limit_in_bytes"):
		cg.dir = filepath.Join("/sys/fs/cgroup/memory", name)
	default:
		t.Fatal("no memory cgroup controller (neither /sys/fs/cgroup/cgroup.controllers nor /sys/fs/cgroup/memory)")
	}
	if err := os.Mkdir(cg.dir, 0o755); err != nil && !os.IsExist(err) {
		t.Fatalf("create cgroup %s: %v", cg.dir, err)
	}
	t.Cleanup(cg.remove)
	limits := map[string]string{"memory.max": strconv.FormatInt(limit, 10), "memory.swap.max": "0"}
	if !cg.v2 {
		limits = map[string]string{"memory.limit_in_bytes": strconv.FormatInt(limit, 10), "memory.memsw.limit_in_bytes": strconv.FormatInt(limit, 10)}
	}
	for _, file := range []string{"memory.max", "memory.limit_in_bytes", "memory.swap.max", "memory.memsw.limit_in_bytes"} {
		value, ok := limits[file]
		if !ok {
			continue
		}
		path := filepath.Join(cg.dir, file)
		if !fileExists(path) && strings.Contains(file, "sw") { // no swap accounting: no swap to forbid
			continue
		}
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			t.Fatalf("set %s: %v", path, err)
		}
	}
	return cg
}

// counter reads one "name value" line of a cgroup stat file.
func (cg *memoryCgroup) counter(file, name string) int64 {
	b, _ := os.ReadFile(filepath.Join(cg.dir, file))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

// oomKills is how many processes the OOM killer ended in the group (-1: not reported).
func (cg *memoryCgroup) oomKills() int64 {
	if cg.v2 {
		return cg.counter("memory.events", "oom_kill")
	}
	return cg.counter("memory.oom_control", "oom_kill")
}

// peakBytes is the most memory the group has used.
func (cg *memoryCgroup) peakBytes() int64 {
	file := "memory.max_usage_in_bytes"
	if cg.v2 {
		file = "memory.peak"
	}
	b, _ := os.ReadFile(filepath.Join(cg.dir, file))
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// procsFile is where a process joins the group.
func (cg *memoryCgroup) procsFile() string { return filepath.Join(cg.dir, "cgroup.procs") }

// pids are the processes in the group.
func (cg *memoryCgroup) pids() []int {
	b, _ := os.ReadFile(cg.procsFile())
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// remove kills what runs in the group and removes it (a group with processes cannot go).
func (cg *memoryCgroup) remove() {
	for range 50 {
		pids := cg.pids()
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := os.Remove(cg.dir); err != nil && !os.IsNotExist(err) {
		fmt.Fprintf(os.Stderr, "cgroup %s not removed: %v\n", cg.dir, err)
	}
}
