package drill

// The drill's summary table and exit code.

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Exit codes of the drill command.
const (
	ExitPassed = 0 // every threshold met
	ExitFailed = 1 // a threshold missed, an alarm that should have fired did not, or the site was unhealthy before the drill
	ExitError  = 2 // could not run: bad input, AWS error, refused, interrupted
)

// ExitCode decides the command's exit status from the report and the run's error.
func ExitCode(r *Report, err error) int {
	switch {
	case err != nil:
		return ExitError
	case r == nil || !r.Passed:
		return ExitFailed
	}
	return ExitPassed
}

// WriteTable prints the phases as a table, the alarms each phase fired, then the verdict.
func WriteTable(w io.Writer, r *Report, err error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tREQUESTS\tFAILURES\tFAILED\tSLOW\tP50\tP99\tOUTAGE\tRECOVERY\tAZ BEFORE\tAZ AFTER\tSECONDS")
	for _, p := range r.Phases {
		recovery := "-"
		if p.RecoverySeconds > 0 {
			recovery = fmt.Sprintf("%.0fs", p.RecoverySeconds)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%d\t%s\t%s\t%.1fs\t%s\t%s\t%s\t%.0f\n", p.Name, p.Requests, p.Failures, p.FailedPercent, p.Slow,
			time.Duration(p.P50).Round(time.Millisecond), time.Duration(p.P99).Round(time.Millisecond),
			p.OutageSeconds, recovery, dash(p.AZBefore), dash(p.AZAfter), p.Seconds)
	}
	_ = tw.Flush()
	for _, p := range r.Phases {
		if len(p.AlarmsFired) > 0 {
			fmt.Fprintf(w, "alarms fired during %s: %s\n", p.Name, strings.Join(p.AlarmsFired, ", "))
		}
	}
	switch {
	case r.Interrupted:
		fmt.Fprintf(w, "INTERRUPTED: %v\n", err)
	case err != nil:
		fmt.Fprintf(w, "ERROR: %v\n", err)
	case r.DryRun:
		fmt.Fprintln(w, "DRY RUN: nothing was changed")
	case r.Passed:
		fmt.Fprintln(w, "PASSED: every threshold met")
	default:
		fmt.Fprintf(w, "FAILED:\n  %s\n", strings.Join(r.Violations, "\n  "))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
