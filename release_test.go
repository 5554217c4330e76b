package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/stack"
)

// The release plan over what the last deploy recorded: forward moves pass, a new major or
// minor release takes its snapshot, a patch release keeps the branch's, going back is refused.
func TestReleasesMoveForwardOnly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want      string
		allow     bool
		last      lastDeploy
		upgraded  string // the plan's UpgradedFrom
		snapshot  string
		upgrade   bool
		refused   bool
		refusedOn []string // what the refusal must say
	}{
		{name: "a new stack", want: "7.1"},
		{name: "the same release", want: "7.1", last: lastDeploy{WordPressVersion: "7.1"}},
		{name: "x.y and x.y.0 are the same release", want: "7.1.0", last: lastDeploy{WordPressVersion: "7.1"}},
		{name: "a minor upgrade", want: "7.1", last: lastDeploy{WordPressVersion: "7.0.3"},
			upgraded: "7.0.3", snapshot: "7.0.3-to-7.1", upgrade: true},
		{name: "a major upgrade", want: "8.0.1", last: lastDeploy{WordPressVersion: "7.2"},
			upgraded: "7.2", snapshot: "7.2-to-8.0", upgrade: true},
		{name: "the deploy after an upgrade keeps its snapshot", want: "7.1",
			last: lastDeploy{WordPressVersion: "7.1", UpgradedFrom: "7.0.3"}, upgraded: "7.0.3", snapshot: "7.0.3-to-7.1"},
		{name: "a patch release keeps the branch's snapshot and takes none", want: "7.1.2",
			last: lastDeploy{WordPressVersion: "7.1", UpgradedFrom: "7.0.3"}, upgraded: "7.0.3", snapshot: "7.0.3-to-7.1"},
		{name: "a patch release on a branch never upgraded to", want: "7.1.2", last: lastDeploy{WordPressVersion: "7.1.1"}},
		{name: "a lower patch release", want: "7.1.1", last: lastDeploy{WordPressVersion: "7.1.2"}, refused: true,
			refusedOn: []string{"config wordpressVersion: 7.1.1", "WordPress 7.1.2", "want 7.1.2 or later", "allowWordPressDowngrade"}},
		{name: "a lower minor release names the way back", want: "7.0.3",
			last:    lastDeploy{WordPressVersion: "7.1", UpgradedFrom: "7.0.3", Snapshot: "db-abc-pre-wordpress-7-0-3-to-7-1"},
			refused: true, refusedOn: []string{"Database Update Required", "db-abc-pre-wordpress-7-0-3-to-7-1", "docs/operations.md#going-back-a-wordpress-release", "allowWordPressDowngrade: true"}},
		{name: "the owner says the database went back", want: "7.0.3", allow: true,
			last: lastDeploy{WordPressVersion: "7.1", UpgradedFrom: "7.0.3", Snapshot: "db-abc-pre-wordpress-7-0-3-to-7-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := planRelease(Config{WordPressVersion: tc.want, AllowWordPressDowngrade: tc.allow}, tc.last)
			if tc.refused {
				if err == nil {
					t.Fatalf("WordPress %s after %s: accepted, want refused", tc.want, tc.last.WordPressVersion)
				}
				for _, s := range tc.refusedOn {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("the refusal does not say %q:\n%v", s, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.UpgradedFrom != tc.upgraded || p.Snapshot != tc.snapshot || p.Upgrade != tc.upgrade {
				t.Errorf("plan %+v, want upgraded from %q, snapshot %q, upgrade %v", p, tc.upgraded, tc.snapshot, tc.upgrade)
			}
		})
	}
}

// A downgrade is refused before the program registers anything but its read of the last
// outputs.
func TestDowngradeIsRefusedBeforeAnyResource(t *testing.T) {
	checkRefused(t, map[string]any{stack.KeyWordPressVersion: "7.1"}, map[string]string{"wordpressVersion": "7.0"}, "config wordpressVersion: 7.0")
	if r := runProgramAfter(t, map[string]any{stack.KeyWordPressVersion: "7.1"},
		map[string]string{"wordpressVersion": "7.0", "allowWordPressDowngrade": "true"}); r.err != nil {
		t.Errorf("with allowWordPressDowngrade: %v", r.err)
	}
}

// The program reads its last outputs from its own stack.
func TestLastDeployIsTheStacksOwn(t *testing.T) {
	r := mustRun(t, nil)
	refs := r.ofType("pulumi:pulumi:StackReference")
	if len(refs) != 1 || refs[0].Str("name") != "organization/"+testProject+"/"+testStack {
		t.Fatalf("stack references %v, want one to organization/%s/%s", refs, testProject, testStack)
	}
}

// A minor upgrade snapshots the database before any server of the release boots, keeps the
// snapshot when it leaves the program, and says where it is.
func TestUpgradeSnapshotsTheDatabaseFirst(t *testing.T) {
	for _, mode := range []string{modeAutoScaling, modeFixed} {
		t.Run(mode, func(t *testing.T) {
			r := runProgramAfter(t, map[string]any{stack.KeyWordPressVersion: "6.9.1"}, map[string]string{"wordpressVersion": "7.0", "webTierMode": mode})
			if r.err != nil {
				t.Fatal(r.err)
			}
			snap := r.one(t, "aws:rds/snapshot:Snapshot")
			db := r.one(t, "aws:rds/instance:Instance")
			if got, want := snap.Str("dbSnapshotIdentifier"), out(db, "identifier")+"-pre-wordpress-6-9-1-to-7-0"; got != want {
				t.Errorf("snapshot identifier %q, want %q (named after both releases)", got, want)
			}
			if snap.Str("dbInstanceIdentifier") != out(db, "identifier") {
				t.Errorf("snapshot of %q, want the stack's database %q", snap.Str("dbInstanceIdentifier"), out(db, "identifier"))
			}
			if !snap.RetainOnDelete {
				t.Error("the pre-upgrade snapshot is not retainOnDelete: the next upgrade or a destroy would delete the way back")
			}
			var gated []*recorded
			if mode == modeAutoScaling {
				gated = r.ofType("aws:ec2/launchTemplate:LaunchTemplate")
			} else {
				gated = r.ofType("aws:ec2/instance:Instance")
			}
			if len(gated) == 0 {
				t.Fatal("no launch template or server")
			}
			for _, x := range gated {
				if !slices.Contains(x.Deps, snap.URN) {
					t.Errorf("%s does not wait for the pre-upgrade snapshot: a server of the new release could upgrade the database first", x.URN)
				}
			}
			if r.outputs[stack.KeyWordPressUpgradedFrom] != "6.9.1" || r.outputs[stack.KeyPreUpgradeSnapshot] != snap.Str("dbSnapshotIdentifier") {
				t.Errorf("outputs %s=%v %s=%v, want 6.9.1 and the snapshot", stack.KeyWordPressUpgradedFrom, r.outputs[stack.KeyWordPressUpgradedFrom],
					stack.KeyPreUpgradeSnapshot, r.outputs[stack.KeyPreUpgradeSnapshot])
			}
		})
	}
	// No snapshot without an upgrade; nothing waits for one.
	for _, last := range []map[string]any{nil, {stack.KeyWordPressVersion: "7.0"}} {
		r := runProgramAfter(t, last, map[string]string{"wordpressVersion": "7.0"})
		if r.err != nil {
			t.Fatal(r.err)
		}
		if got := r.ofType("aws:rds/snapshot:Snapshot"); len(got) != 0 {
			t.Errorf("after %v: %d snapshots, want none", last, len(got))
		}
		if _, ok := r.outputs[stack.KeyPreUpgradeSnapshot]; ok {
			t.Errorf("after %v: output %s without an upgrade", last, stack.KeyPreUpgradeSnapshot)
		}
	}
}
