package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/scalable-wordpress/internal/stack"
)

const rdsInstance = "aws:rds/instance:Instance"

// restoreKey is a dbRestore value.
func restoreKey(id, from string) string { return fmt.Sprintf(`{"id":%q,"from":%q}`, id, from) }

// restoredUp runs the program after last with config, failing on an error.
func restoredUp(t *testing.T, last map[string]any, config map[string]string) *stackRun {
	t.Helper()
	r := runProgramAfter(t, last, config)
	if r.err != nil {
		t.Fatalf("program failed: %v", r.err)
	}
	return r
}

// instance is the RDS instance of a generation's resource name, failing without it.
func (r *stackRun) instance(t *testing.T, name string) *recorded {
	t.Helper()
	x := r.m.Named(rdsInstance, name)
	if x == nil {
		var names []string
		for _, db := range r.ofType(rdsInstance) {
			names = append(names, db.Name)
		}
		t.Fatalf("no RDS instance %s; the program declares %v", name, names)
	}
	return x
}

// tag is a resource's tag.
func tag(x *recorded, key string) string {
	v := unsecret(x.Inputs["tags"])
	if !v.IsObject() {
		return ""
	}
	return propString(v.ObjectValue()[resourceKey(key)])
}

// sameDatabase fails unless db is base: the same URN and replace-forcing inputs (a
// replacement would be a new, empty database).
func sameDatabase(t *testing.T, what string, base, db *recorded) {
	t.Helper()
	if db.URN != base.URN {
		t.Errorf("%s: the database's URN changes (%s -> %s): Pulumi would replace it", what, base.URN, db.URN)
	}
	for _, k := range dbReplaceKeys {
		if fmt.Sprint(db.Inputs[resourceKey(k)]) != fmt.Sprint(base.Inputs[resourceKey(k)]) {
			t.Errorf("%s: %s's %s changes (%v -> %v): that replaces it", what, db.URN, k, base.Inputs[resourceKey(k)], db.Inputs[resourceKey(k)])
		}
	}
}

// sameServers fails unless the web tier (launch template, group, servers) is declared as in
// base: a restore reaches the servers through the settings alone.
func sameServers(t *testing.T, what string, base, r *stackRun) {
	t.Helper()
	for _, typ := range []string{"aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/group:Group", "aws:ec2/instance:Instance"} {
		for _, b := range base.ofType(typ) {
			x := r.byURN(b.URN)
			if x == nil {
				t.Errorf("%s: %s is gone", what, b.URN)
				continue
			}
			if fmt.Sprint(x.Inputs) != fmt.Sprint(b.Inputs) {
				t.Errorf("%s: %s changes: a restore must not touch the servers\nbefore %v\nafter  %v", what, b.URN, b.Inputs, x.Inputs)
			}
		}
	}
}

// settingsFor is the settings' database endpoint, master credential and refresh digest.
func settingsFor(t *testing.T, r *stackRun) (host, master, version string) {
	t.Helper()
	for _, p := range r.ofType("aws:ssm/parameter:Parameter") {
		switch {
		case strings.HasSuffix(p.Str("name"), "/"+dbHostParameterLeaf):
			host = p.Str("insecureValue")
		case strings.HasSuffix(p.Str("name"), "/"+dbMasterSecretParameterLeaf):
			master = p.Str("insecureValue")
		}
	}
	for _, a := range r.ofType("aws:ssm/association:Association") {
		if v := unsecret(a.Inputs["parameters"]); v.IsObject() && v.ObjectValue()["settingsVersion"].HasValue() {
			version = propString(v.ObjectValue()["settingsVersion"])
		}
	}
	return host, master, version
}

// masterSecretOf is the secret RDS keeps an instance's master credential in.
func masterSecretOf(db *recorded) string {
	s := db.Outputs["masterUserSecrets"]
	if !s.IsArray() || len(s.ArrayValue()) == 0 {
		return ""
	}
	return propString(s.ArrayValue()[0].ObjectValue()["secretArn"])
}

// pitr is a field of an instance's restoreToPointInTime input ("" without it).
func pitr(db *recorded, field string) string {
	return propString(db.Obj("restoreToPointInTime")[resourceKey(field)])
}

// lineageOf is the dbLineage output of a run, decoded as the operator commands decode it.
func lineageOf(t *testing.T, r *stackRun) []stack.DBGeneration {
	t.Helper()
	b, err := json.Marshal(r.outputs)
	if err != nil {
		t.Fatal(err)
	}
	var o stack.Outputs
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("outputs do not decode into stack.Outputs: %v", err)
	}
	return o.DBLineage
}

// A restore creates a new instance from the serving one with the stack's placement and
// settings, keeps the one that served (same URN and replace-forcing inputs, marked, deletion
// protection on, retained when it leaves the program), and hands the servers the new
// endpoint and master credential through the settings, with no change to the servers.
func TestRestoreCreatesANewDatabaseAndKeepsTheServingOne(t *testing.T) {
	at := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	for _, tc := range []struct {
		from string
		want func(t *testing.T, db *recorded)
	}{
		{restoreLatest, func(t *testing.T, db *recorded) {
			if got := pitr(db, "sourceDbInstanceIdentifier"); got != "db-db" {
				t.Errorf("restored from %q, want the serving instance db-db", got)
			}
			if pitr(db, "useLatestRestorableTime") != "true" || pitr(db, "restoreTime") != "" {
				t.Errorf("restoreToPointInTime %v, want useLatestRestorableTime", db.Inputs["restoreToPointInTime"])
			}
		}},
		{at, func(t *testing.T, db *recorded) {
			if pitr(db, "sourceDbInstanceIdentifier") != "db-db" || pitr(db, "restoreTime") != at ||
				pitr(db, "useLatestRestorableTime") == "true" {
				t.Errorf("restoreToPointInTime %v, want db-db at %s", db.Inputs["restoreToPointInTime"], at)
			}
		}},
		{"snapshot:nightly-2026-12-01", func(t *testing.T, db *recorded) {
			if db.Str("snapshotIdentifier") != "nightly-2026-12-01" || db.Inputs["restoreToPointInTime"].HasValue() {
				t.Errorf("snapshotIdentifier %q restoreToPointInTime %v, want the snapshot", db.Str("snapshotIdentifier"), db.Inputs["restoreToPointInTime"])
			}
		}},
	} {
		t.Run(tc.from, func(t *testing.T) {
			config := map[string]string{"dbDeletionProtection": "true"}
			base := restoredUp(t, nil, config)
			config["dbRestore"] = restoreKey("r1", tc.from)
			r := restoredUp(t, base.outputs, config)
			if n := len(r.ofType(rdsInstance)); n != 2 {
				t.Fatalf("%d RDS instances, want the serving one and the restore", n)
			}
			was, old, db := base.instance(t, "db"), r.instance(t, "db"), r.instance(t, "db-r1")
			sameDatabase(t, "the restore", was, old)
			if old.Str("deletionProtection") != "true" || tag(old, "serving") != "false" || !old.RetainOnDelete || old.Protect {
				t.Errorf("%s: deletionProtection %s, serving=%s, retainOnDelete %v, protect %v; want AWS's deletion protection, serving=false, "+
					"retainOnDelete and no protect (so that dbRetire can take it out of the stack without deleting it)",
					old.URN, old.Str("deletionProtection"), tag(old, "serving"), old.RetainOnDelete, old.Protect)
			}
			tc.want(t, db)
			for _, k := range []string{"dbSubnetGroupName", "parameterGroupName", "vpcSecurityGroupIds", "instanceClass", "multiAz", "storageEncrypted",
				"storageType", "allocatedStorage", "maxAllocatedStorage", "backupRetentionPeriod", "copyTagsToSnapshot", "publiclyAccessible",
				"engine", "engineVersion", "port", "manageMasterUserPassword", "deletionProtection", "skipFinalSnapshot"} {
				if fmt.Sprint(db.Inputs[resourceKey(k)]) != fmt.Sprint(was.Inputs[resourceKey(k)]) {
					t.Errorf("%s: %s = %v, want the serving database's %v", db.URN, k, db.Inputs[resourceKey(k)], was.Inputs[resourceKey(k)])
				}
			}
			if tag(db, "serving") != "true" || tag(db, "project") != testProject || tag(db, "stack") != testStack || !db.Protect {
				t.Errorf("%s: tags %v protect %v, want the stack's tags, serving=true, protected like the database it replaces", db.URN, db.Inputs["tags"], db.Protect)
			}
			if db.Str("finalSnapshotIdentifier") == "" || db.Str("finalSnapshotIdentifier") == was.Str("finalSnapshotIdentifier") {
				t.Errorf("%s: final snapshot %q, want one of its own", db.URN, db.Str("finalSnapshotIdentifier"))
			}
			host, master, version := settingsFor(t, r)
			_, _, baseVersion := settingsFor(t, base)
			if host != out(db, "address") || master != masterSecretOf(db) || master == masterSecretOf(was) {
				t.Errorf("settings: db-host %q master %q, want the restored database's %q and its own master secret %q", host, master, out(db, "address"), masterSecretOf(db))
			}
			if version == baseVersion {
				t.Error("the settings refresh's digest did not change: the running servers would keep the old endpoint")
			}
			sameServers(t, "the restore", base, r)
			// The refresh runs once the servers can use the new database: its endpoint and
			// master credential published, their role allowed to read that credential.
			assoc := r.m.Named("aws:ssm/association:Association", "settings-refresh")
			for _, dep := range []*recorded{handoffParameter(t, r, host), handoffParameter(t, r, master), r.m.Named("aws:iam/rolePolicy:RolePolicy", "web-read-db-master")} {
				if dep == nil || !slices.Contains(assoc.Deps, dep.URN) {
					t.Errorf("%s does not wait for %v: the refresh could run before the servers can use the restored database", assoc.URN, dep)
				}
			}
			if p := graphOf(base).pathTo(base.m.Named("aws:ssm/association:Association", "settings-refresh").URN, was.URN); p != nil {
				t.Errorf("without a restore the refresh waits for RDS: %v", p)
			}
			if r.outputs[stack.KeyDBIdentifier] != out(db, "identifier") {
				t.Errorf("output %s = %v, want the serving (restored) database %s", stack.KeyDBIdentifier, r.outputs[stack.KeyDBIdentifier], out(db, "identifier"))
			}
			for _, a := range r.ofType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if d := unsecret(a.Inputs["dimensions"]); d.IsObject() && d.ObjectValue()["DBInstanceIdentifier"].HasValue() &&
					propString(d.ObjectValue()["DBInstanceIdentifier"]) != out(db, "identifier") {
					t.Errorf("%s watches %s, want the serving database", a.URN, propString(d.ObjectValue()["DBInstanceIdentifier"]))
				}
			}
			want := []stack.DBGeneration{{ID: originalGeneration, Identifier: "db-db"},
				{ID: "r1", From: tc.from, Identifier: "db-r1-db", Serving: true}}
			if !strings.HasPrefix(tc.from, restoreSnapshotPrefix) {
				want[1].Source = "db-db"
			}
			if got := lineageOf(t, r); !slices.Equal(got, want) {
				t.Errorf("lineage %+v, want %+v", got, want)
			}
		})
	}
}

// The up after a restore (the key unchanged), and an up with the key cleared, declare the
// same databases with the same inputs: nothing is restored again or replaced, the restored
// database keeps serving. A second restore adds a generation from the serving one.
func TestRestoringAgainOrClearingTheKeyReplacesNothing(t *testing.T) {
	base := restoredUp(t, nil, nil)
	restore := map[string]string{"dbRestore": restoreKey("r1", restoreLatest)}
	first := restoredUp(t, base.outputs, restore)
	for what, config := range map[string]map[string]string{"the key unchanged": restore, "the key cleared": nil, "the key {}": {"dbRestore": "{}"}} {
		r := restoredUp(t, first.outputs, config)
		if len(r.ofType(rdsInstance)) != 2 {
			t.Errorf("%s: %d RDS instances, want the two", what, len(r.ofType(rdsInstance)))
		}
		for _, db := range first.ofType(rdsInstance) {
			again := r.byURN(db.URN)
			if again == nil {
				t.Errorf("%s: %s is no longer declared", what, db.URN)
				continue
			}
			if fmt.Sprint(again.Inputs) != fmt.Sprint(db.Inputs) || again.RetainOnDelete != db.RetainOnDelete {
				t.Errorf("%s: %s changes\nbefore %v\nafter  %v", what, db.URN, db.Inputs, again.Inputs)
			}
		}
		host, master, version := settingsFor(t, r)
		h1, m1, v1 := settingsFor(t, first)
		if host != h1 || master != m1 || version != v1 {
			t.Errorf("%s: the settings change (%s %s %s -> %s %s %s)", what, h1, m1, v1, host, master, version)
		}
		sameServers(t, what, first, r)
		if !slices.Equal(lineageOf(t, r), lineageOf(t, first)) {
			t.Errorf("%s: lineage %+v, want %+v", what, lineageOf(t, r), lineageOf(t, first))
		}
	}

	second := restoredUp(t, restoredUp(t, first.outputs, nil).outputs, map[string]string{"dbRestore": restoreKey("r2", restoreLatest)})
	if n := len(second.ofType(rdsInstance)); n != 3 {
		t.Fatalf("a second restore: %d RDS instances, want 3", n)
	}
	sameDatabase(t, "a second restore", first.instance(t, "db-r1"), second.instance(t, "db-r1"))
	sameDatabase(t, "a second restore", first.instance(t, "db"), second.instance(t, "db"))
	r1, r2 := second.instance(t, "db-r1"), second.instance(t, "db-r2")
	if got := pitr(r2, "sourceDbInstanceIdentifier"); got != out(r1, "identifier") {
		t.Errorf("the second restore comes from %q, want the serving generation r1 (%s)", got, out(r1, "identifier"))
	}
	if tag(r1, "serving") != "false" || !r1.RetainOnDelete || tag(r2, "serving") != "true" {
		t.Errorf("after the second restore: r1 serving=%s retain %v, r2 serving=%s", tag(r1, "serving"), r1.RetainOnDelete, tag(r2, "serving"))
	}
	if host, _, _ := settingsFor(t, second); host != out(r2, "address") {
		t.Errorf("db-host %q, want r2's %q", host, out(r2, "address"))
	}
}

// dbRetire takes a generation that no longer serves out of the stack: it was
// retainOnDelete, so Pulumi forgets it and RDS keeps it. The lineage remembers it retired.
func TestRetireDropsANonServingGeneration(t *testing.T) {
	base := restoredUp(t, nil, nil)
	restored := restoredUp(t, base.outputs, map[string]string{"dbRestore": restoreKey("r1", restoreLatest)})
	if old := restored.instance(t, "db"); !old.RetainOnDelete {
		t.Fatalf("%s is not retainOnDelete: retiring it would delete it", old.URN)
	}
	retired := restoredUp(t, restored.outputs, map[string]string{"dbRetire": `["original"]`})
	if x := retired.m.Named(rdsInstance, "db"); x != nil {
		t.Errorf("%s is still declared after dbRetire", x.URN)
	}
	sameDatabase(t, "a retire", restored.instance(t, "db-r1"), retired.instance(t, "db-r1"))
	want := []stack.DBGeneration{{ID: originalGeneration, Identifier: "db-db", Retired: true},
		{ID: "r1", From: restoreLatest, Source: "db-db", Identifier: "db-r1-db", Serving: true}}
	if got := lineageOf(t, retired); !slices.Equal(got, want) {
		t.Errorf("lineage %+v, want %+v", got, want)
	}
	// The key left set, or cleared, changes nothing after.
	for _, config := range []map[string]string{{"dbRetire": `["original"]`}, nil} {
		again := restoredUp(t, retired.outputs, config)
		if len(again.ofType(rdsInstance)) != 1 || !slices.Equal(lineageOf(t, again), want) {
			t.Errorf("%v after the retire: %d instances, lineage %+v", config, len(again.ofType(rdsInstance)), lineageOf(t, again))
		}
	}
}

// A stack deployed before the lineage existed (no dbLineage output) has one database, the
// original, whose identifier the dbIdentifier output records.
func TestRestoreOnAStackFromBeforeTheLineage(t *testing.T) {
	last := map[string]any{stack.KeyWordPressVersion: "7.1", stack.KeyDBIdentifier: "db-0123abcd"}
	r := restoredUp(t, last, map[string]string{"dbRestore": restoreKey("r1", restoreLatest)})
	if got := pitr(r.instance(t, "db-r1"), "sourceDbInstanceIdentifier"); got != "db-0123abcd" {
		t.Errorf("restored from %q, want the recorded db-0123abcd", got)
	}
}

// A new stack may start from a snapshot (a staging stack from production's backup): its
// first database is that restore, and there is no empty one beside it.
func TestNewStackFromASnapshot(t *testing.T) {
	r := restoredUp(t, nil, map[string]string{"dbRestore": restoreKey("seed", "snapshot:arn:aws:rds:ap-northeast-1:123456789012:snapshot:prod-nightly")})
	dbs := r.ofType(rdsInstance)
	if len(dbs) != 1 || dbs[0].Name != "db-seed" || dbs[0].Str("snapshotIdentifier") != "arn:aws:rds:ap-northeast-1:123456789012:snapshot:prod-nightly" {
		t.Fatalf("want one instance db-seed from the snapshot, got %v", dbs)
	}
	if host, _, _ := settingsFor(t, r); host != out(dbs[0], "address") {
		t.Errorf("db-host %q, want the restored database's", host)
	}
}

// Every refusal: one error naming the key, before any resource but the read of the last
// outputs.
func TestRestoreRefusals(t *testing.T) {
	base := restoredUp(t, nil, nil)
	restored := restoredUp(t, base.outputs, map[string]string{"dbRestore": restoreKey("r1", restoreLatest)})
	second := restoredUp(t, restored.outputs, map[string]string{"dbRestore": restoreKey("r2", restoreLatest)})
	retired := restoredUp(t, second.outputs, map[string]string{"dbRetire": `["r1"]`})
	future := time.Now().UTC().Add(time.Hour).Truncate(time.Second).Format(time.RFC3339)
	old := time.Now().UTC().AddDate(0, 0, -8).Truncate(time.Second).Format(time.RFC3339)
	for _, tc := range []struct {
		name   string
		last   map[string]any
		config map[string]string
		says   []string
	}{
		{"not an object", base.outputs, map[string]string{"dbRestore": `"latest"`}, []string{"config dbRestore", `"id"`}},
		{"an unknown field", base.outputs, map[string]string{"dbRestore": `{"id":"r1","from":"latest","to":"x"}`}, []string{"config dbRestore", `unknown field "to"`}},
		{"no id", base.outputs, map[string]string{"dbRestore": `{"from":"latest"}`}, []string{"config dbRestore", "id"}},
		{"an id with capitals", base.outputs, map[string]string{"dbRestore": restoreKey("R1", restoreLatest)}, []string{"config dbRestore", `id "R1"`}},
		{"an id too long", base.outputs, map[string]string{"dbRestore": restoreKey(strings.Repeat("a", 21), restoreLatest)}, []string{"config dbRestore"}},
		{"the id original", base.outputs, map[string]string{"dbRestore": restoreKey("original", restoreLatest)}, []string{"config dbRestore", "first database"}},
		{"no from", base.outputs, map[string]string{"dbRestore": `{"id":"r1"}`}, []string{"config dbRestore", `from ""`}},
		{"a time not in UTC", base.outputs, map[string]string{"dbRestore": restoreKey("r1", "2026-12-04T10:00:00+09:00")}, []string{"config dbRestore", "RFC 3339 UTC"}},
		{"a date alone", base.outputs, map[string]string{"dbRestore": restoreKey("r1", "2026-12-04")}, []string{"config dbRestore"}},
		{"a bad snapshot", base.outputs, map[string]string{"dbRestore": restoreKey("r1", "snapshot:my_snap!")}, []string{"config dbRestore", "snapshot identifier"}},
		{"a time in the future", base.outputs, map[string]string{"dbRestore": restoreKey("r1", future)}, []string{"config dbRestore", "in the future"}},
		{"a time before the retention window", base.outputs, map[string]string{"dbRestore": restoreKey("r1", old)}, []string{"config dbRestore", "dbBackupRetentionDays 7", "snapshot"}},
		{"a point in time on a new stack", nil, map[string]string{"dbRestore": restoreKey("r1", restoreLatest)}, []string{"config dbRestore", "new stack may start only from a snapshot"}},
		{"an id reused for another restore", restored.outputs, map[string]string{"dbRestore": restoreKey("r1", "snapshot:nightly")}, []string{"config dbRestore", `"r1" is already`, "new label"}},
		{"a retired id reused", retired.outputs, map[string]string{"dbRestore": restoreKey("r1", restoreLatest)}, []string{"config dbRestore", "retired", "new label"}},
		{"retiring the serving generation", restored.outputs, map[string]string{"dbRetire": `["r1"]`}, []string{"config dbRetire", "serving"}},
		{"retiring the generation the restore replaces, in the same up", base.outputs,
			map[string]string{"dbRestore": restoreKey("r1", restoreLatest), "dbRetire": `["r1"]`}, []string{"config dbRetire", "serving"}},
		{"retiring the original on a new stack", nil, map[string]string{"dbRetire": `["original"]`}, []string{"config dbRetire", "serving"}},
		{"retiring an unknown generation", restored.outputs, map[string]string{"dbRetire": `["r9"]`}, []string{"config dbRetire", `no database generation "r9"`, `"original", "r1"`}},
		{"retiring one twice", restored.outputs, map[string]string{"dbRetire": `["original","original"]`}, []string{"config dbRetire", "twice"}},
		{"retire not a list", restored.outputs, map[string]string{"dbRetire": `"original"`}, []string{"config dbRetire"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkRefused(t, tc.last, tc.config, tc.says...)
		})
	}
}

// A pre-upgrade snapshot stays the snapshot of the database it was taken of: a restore on the
// same WordPress branch must not replace it with one of the restored database (taken after the
// upgrade), which the engine would do on a new instance identifier.
func TestRestoreKeepsThePreUpgradeSnapshot(t *testing.T) {
	upgraded := restoredUp(t, map[string]any{stack.KeyWordPressVersion: "6.9.1"}, map[string]string{"wordpressVersion": "7.0"})
	r := restoredUp(t, upgraded.outputs, map[string]string{"wordpressVersion": "7.0", "dbRestore": restoreKey("r1", restoreLatest)})
	snap := r.one(t, "aws:rds/snapshot:Snapshot")
	for _, k := range []string{"dbInstanceIdentifier", "dbSnapshotIdentifier"} {
		if !slices.Contains(snap.IgnoreChanges, k) {
			t.Errorf("%s: %s is not ignoreChanges: the restore would replace the pre-upgrade snapshot with one of the restored database", snap.URN, k)
		}
	}
}
