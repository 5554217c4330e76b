package restoredrill

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The stack mode sets dbRestore, runs pulumi up, follows the parameter to the new endpoint
// and the site until it serves, and measures from the request: RPO the newest restorable
// point's age (5 minutes), RTO pulumi up (20 minutes) and the parameter's three reads.
func TestStackModeMeasuresRPOAndRTO(t *testing.T) {
	w := newWorld(t)
	code, out, r := w.main("--yes", "--canary-url", w.site.URL+"/drill-canary/", "--canary-text", "Restore drill canary",
		"--rpo-target", "10m", "--rto-target", "30m")
	if code != ExitPassed || r == nil {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	label := "drill-260412100000"
	want := []string{
		"pulumi stack output --json --stack dev",
		"pulumi config set --path dbRestore.id " + label + " --stack dev",
		"pulumi config set --path dbRestore.from latest --stack dev",
		"pulumi up --yes --stack dev",
		"pulumi stack output --json --stack dev",
	}
	if !slices.Equal(w.commands, want) {
		t.Errorf("pulumi commands:\n%s\nwant:\n%s", strings.Join(w.commands, "\n"), strings.Join(want, "\n"))
	}
	if r.RPOSeconds != 300 || r.LatestRestorable != "2026-04-12T09:55:00Z" || r.Requested != "2026-04-12T10:00:00Z" {
		t.Errorf("RPO %v (latest %s, requested %s), want 300 s", r.RPOSeconds, r.LatestRestorable, r.Requested)
	}
	// pulumi up, then the parameter's first two reads show the old endpoint (15 s apart).
	if want := (upTakes + 2*15*time.Second).Seconds(); r.RTOSeconds != want {
		t.Errorf("RTO %v s, want %v", r.RTOSeconds, want)
	}
	var names []string
	for _, p := range r.Phases {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"config", "pulumi up", "switch", "serve"}) {
		t.Errorf("phases %v", names)
	}
	if r.Restored != restoredDB || r.Endpoint != endpoint(restoredDB) || r.Label != label || !r.Passed || len(r.Violations) != 0 {
		t.Errorf("report %+v", r)
	}
	if r.SnapshotAgeSeconds == nil || *r.SnapshotAgeSeconds != 7200 || r.NewestSnapshot != "pre-upgrade" {
		t.Errorf("newest snapshot %s, age %v: want pre-upgrade (the creating one is not restorable), 7200 s", r.NewestSnapshot, r.SnapshotAgeSeconds)
	}
	if !strings.Contains(out, "PASSED") || !strings.Contains(out, "RPO 5m0s") || !strings.Contains(out, "RTO 20m30s") {
		t.Errorf("summary:\n%s", out)
	}
}

// Targets missed and a canary the restored site no longer serves fail the drill (exit 1).
func TestMissedTargetsAndALostCanaryFail(t *testing.T) {
	w := newWorld(t)
	w.canaries[restoredDB] = false
	code, out, r := w.main("--yes", "--canary-url", w.site.URL+"/drill-canary/", "--rpo-target", "1m", "--rto-target", "10m",
		"--timeout", "5m", "--interval", "30s")
	if code != ExitFailed || r == nil {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, out)
	}
	joined := strings.Join(r.Violations, "\n")
	for _, want := range []string{"RPO 5m0s (target 1m0s)", "RTO ", "canary: " + w.site.URL + "/drill-canary/ answers 404"} {
		if !strings.Contains(joined, want) {
			t.Errorf("violations lack %q:\n%s", want, joined)
		}
	}
}

// A release without dbRestore: pulumi up changes nothing, and the drill says so (exit 2).
func TestAStackThatDoesNotSwitchCannotBeDrilled(t *testing.T) {
	w := newWorld(t)
	w.upSwitch = false
	code, out, r := w.main("--yes")
	if code != ExitError || r == nil || !strings.Contains(r.Error, "does this release support config dbRestore") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The scratch mode restores beside the database (its subnet group, security groups, class;
// single-AZ, tagged), waits for it and deletes it without a final snapshot; the stack is not
// touched and the RTO ends when the copy is available.
func TestScratchModeRestoresAndDeletes(t *testing.T) {
	w := newWorld(t)
	code, out, r := w.main("--yes", "--scratch", "--label", "weekly")
	if code != ExitPassed || r == nil {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if len(w.commands) != 1 || w.ssm.reads != 0 {
		t.Errorf("the scratch mode touched the stack: %v, %d parameter reads", w.commands, w.ssm.reads)
	}
	if len(w.rds.pitr) != 1 {
		t.Fatalf("restores: %d", len(w.rds.pitr))
	}
	in := w.rds.pitr[0]
	scratch := testDB + "-weekly"
	if aws.ToString(in.TargetDBInstanceIdentifier) != scratch || aws.ToString(in.SourceDBInstanceIdentifier) != testDB ||
		!aws.ToBool(in.UseLatestRestorableTime) || in.RestoreTime != nil || aws.ToString(in.DBSubnetGroupName) != "scalable-wordpress-dev-db-subnets" ||
		!slices.Equal(in.VpcSecurityGroupIds, []string{"sg-0db"}) || aws.ToBool(in.MultiAZ) || aws.ToBool(in.PubliclyAccessible) || aws.ToBool(in.DeletionProtection) {
		t.Errorf("restore input %+v", in)
	}
	if len(w.rds.deleted) != 1 || aws.ToString(w.rds.deleted[0].DBInstanceIdentifier) != scratch || !aws.ToBool(w.rds.deleted[0].SkipFinalSnapshot) {
		t.Errorf("deletes %+v", w.rds.deleted)
	}
	if w.rds.dbs[testDB] == nil {
		t.Error("the stack's database is gone")
	}
	// Four describes, 15 s apart: available at the fourth, 45 s after the request.
	if r.RTOSeconds != 45 || r.RPOSeconds != 300 || r.Restored != scratch || !strings.Contains(r.Cleanup, "deleting "+scratch) {
		t.Errorf("report %+v", r)
	}
	if !strings.Contains(out, "a lower bound") {
		t.Errorf("summary:\n%s", out)
	}
}

// A restore that never becomes available is given up on, within the bound, and deleted all
// the same.
func TestScratchTimeoutStillDeletes(t *testing.T) {
	w := newWorld(t)
	w.rds.polls = -1
	code, out, r := w.main("--yes", "--scratch", "--timeout", "2m", "--interval", "30s")
	if code != ExitError || r == nil || !strings.Contains(r.Error, "gave up waiting for RDS instance") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if len(w.rds.deleted) != 1 || w.clock.Now().Sub(epoch) > 3*time.Minute {
		t.Errorf("deletes %d, took %s", len(w.rds.deleted), w.clock.Now().Sub(epoch))
	}
}

// From a snapshot: the newest available one, resolved before the restore; the RPO is its age.
func TestScratchFromTheNewestSnapshot(t *testing.T) {
	w := newWorld(t)
	code, out, r := w.main("--yes", "--scratch", "--from", "snapshot")
	if code != ExitPassed || len(w.rds.fromSnap) != 1 || aws.ToString(w.rds.fromSnap[0].DBSnapshotIdentifier) != "pre-upgrade" {
		t.Fatalf("exit %d, restores %+v:\n%s", code, w.rds.fromSnap, out)
	}
	if r.RPOSeconds != 7200 || r.From != "snapshot:pre-upgrade" || r.RestorePoint != "2026-04-12T08:00:00Z" {
		t.Errorf("report %+v", r)
	}
}

// The drill refuses what it must not or cannot restore, and changes nothing.
func TestRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		setup func(w *world)
		args  []string
		want  string
	}{
		"foreign database":  {func(w *world) { w.rds.dbs[testDB].tags["stack"] = "prod" }, []string{"--yes"}, `its tag stack is "prod"`},
		"no backups":        {func(w *world) { w.rds.dbs[testDB].latest = time.Time{} }, []string{"--yes", "--scratch"}, "no restorable point"},
		"unknown snapshot":  {nil, []string{"--yes", "--scratch", "--from", "snapshot:nope"}, "snapshot nope of RDS instance"},
		"snapshot creating": {nil, []string{"--yes", "--scratch", "--from", "snapshot:in-progress"}, `"creating", not available`},
		"future time":       {nil, []string{"--yes", "--from", "2026-04-12T09:58:00Z"}, "after the newest restorable point"},
		"bad from":          {nil, []string{"--from", "yesterday"}, "want latest, snapshot"},
		"bad label":         {nil, []string{"--label", "Drill_1"}, "--label"},
		"canary in scratch": {nil, []string{"--scratch", "--canary-url", "http://x/"}, "--canary-url needs the stack mode"},
		"canary not there":  {func(w *world) { w.canaries[testDB] = false }, []string{"--yes", "--canary-url", "CANARY"}, "the canary must be there before the restore"},
		"site down":         {func(w *world) { w.site.Close() }, []string{"--yes"}, "the site does not serve before the drill"},
		"not confirmed":     {nil, nil, "not confirmed"},
		"no stack":          {nil, []string{"--stack", ""}, "pass --stack"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			if c.setup != nil {
				c.setup(w)
			}
			for i, a := range c.args {
				c.args[i] = strings.ReplaceAll(a, "CANARY", w.site.URL+"/drill-canary/")
			}
			code, out, _ := w.main(c.args...)
			if code != ExitError || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, ExitError, c.want, out)
			}
			if len(w.rds.pitr)+len(w.rds.fromSnap)+len(w.rds.deleted) != 0 || len(w.config) != 0 {
				t.Errorf("changed something: %d restores, %d deletes, config %v", len(w.rds.pitr)+len(w.rds.fromSnap), len(w.rds.deleted), w.config)
			}
		})
	}
}

// --dry-run reads and reports the RPO now, and changes nothing.
func TestDryRun(t *testing.T) {
	w := newWorld(t)
	code, out, r := w.main("--dry-run")
	if code != ExitPassed || r == nil || !r.DryRun || r.RPOSeconds != 300 || len(w.config) != 0 || len(w.commands) != 1 {
		t.Fatalf("exit %d, commands %v:\n%s", code, w.commands, out)
	}
	if !strings.Contains(out, "pulumi config set --path dbRestore.id") || !strings.Contains(out, "DRY RUN") {
		t.Errorf("plan:\n%s", out)
	}
}

func TestParseFrom(t *testing.T) {
	for in, want := range map[string]string{"latest": "latest", "snapshot": "snapshot", "snapshot:rds:db-2026": "snapshot:rds:db-2026",
		"2026-04-12T10:00:00Z": "2026-04-12T10:00:00Z"} {
		f, err := ParseFrom(in)
		if err != nil || f.String() != want {
			t.Errorf("ParseFrom(%q) = %v, %v; want %s", in, f, err, want)
		}
	}
	for _, bad := range []string{"", "snapshot:", "2026-04-12T10:00:00+09:00", "2026-04-12", "now"} {
		if _, err := ParseFrom(bad); err == nil {
			t.Errorf("ParseFrom(%q) accepted", bad)
		}
	}
	if l := Label(epoch); !labelRE.MatchString(l) {
		t.Errorf("Label %q breaks the dbRestore.id contract", l)
	}
	d := &Drill{Target: Target{DBIdentifier: strings.Repeat("a", 60) + "-"}, Opts: Options{Label: "drill-260412100000"}}
	if id := d.scratchID(); len(id) > 63 || strings.Contains(id, "--") || strings.HasSuffix(id, "-") {
		t.Errorf("scratch ID %q", id)
	}
}
