package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestThresholdsJudgeEachStep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		th       Thresholds
		step     StepResult
		breaches []string // substrings, one per expected breach; none: pass
	}{
		{"healthy", Thresholds{MaxP95: 800 * time.Millisecond, MaxErrorRate: 1},
			StepResult{Requests: 100, Successes: 100, P95Ms: 120}, nil},
		{"slow", Thresholds{MaxP95: 800 * time.Millisecond, MaxErrorRate: 1},
			StepResult{Requests: 100, Successes: 100, P95Ms: 912}, []string{"p95 912ms > max 800ms"}},
		{"failing", Thresholds{MaxP95: 800 * time.Millisecond, MaxErrorRate: 1},
			StepResult{Requests: 100, Successes: 98, P95Ms: 100}, []string{"error rate 2.00% > max 1%"}},
		{"slow and failing", Thresholds{MaxP95: time.Second, MaxErrorRate: 1},
			StepResult{Requests: 10, Successes: 0, P95Ms: 10000}, []string{"p95", "error rate 100.00%"}},
		{"at the limits", Thresholds{MaxP95: 800 * time.Millisecond, MaxErrorRate: 1},
			StepResult{Requests: 100, Successes: 99, P95Ms: 800}, nil},
		{"no error allowed", Thresholds{MaxErrorRate: 0},
			StepResult{Requests: 1000, Successes: 999, P95Ms: 5000}, []string{"error rate 0.10% > max 0%"}},
		{"nothing checked", Thresholds{MaxErrorRate: NoErrorLimit},
			StepResult{Requests: 10, Successes: 0, P95Ms: 5000}, nil},
		{"no responses", Thresholds{MaxErrorRate: NoErrorLimit}, StepResult{}, []string{"no responses"}},
	}
	for _, c := range cases {
		v := c.th.Check(c.step)
		if v.Pass != (len(c.breaches) == 0) || len(v.Breaches) != len(c.breaches) {
			t.Errorf("%s: verdict %+v, want breaches %q", c.name, v, c.breaches)
			continue
		}
		for i, want := range c.breaches {
			if !strings.Contains(v.Breaches[i], want) {
				t.Errorf("%s: breach %q, want it to say %q", c.name, v.Breaches[i], want)
			}
		}
	}
}
