package main

// WordPress releases move forward only. A release's first server runs wp_upgrade on the
// shared database once (boot/install.php); from then on the schema is the new release's, and
// older code on it sends every administrator to "Database Update Required". So:
//
//   - a wordpressVersion older than the one the stack's last `pulumi up` deployed is refused
//     before anything is created or changed, unless the owner says the database went back too
//     (allowWordPressDowngrade, after restoring the pre-upgrade snapshot);
//   - a new major or minor release (7.0 → 7.1, not 7.1 → 7.1.1, which keeps the schema) first
//     takes a manual snapshot of the database, named after both releases; the new release's
//     servers (the launch template, or the fixed servers) wait for it, so it is older than any
//     wp_upgrade of that release. It is kept when the stack moves on or is destroyed
//     (retainOnDelete): it is the way back.
//
// What was deployed last is read from the stack's own outputs (wordpressVersion, and the
// release the last upgrade came from; the network's address plan, which fixed.go checks),
// through a stack reference to the stack itself: readLastDeploy is the one place that reads it.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/scalable-wordpress/internal/stack"
	"github.com/example/scalable-wordpress/internal/wporg"
)

// lastDeploy is what the stack's previous `pulumi up` recorded: zero on a new stack.
type lastDeploy struct {
	WordPressVersion string // the release its servers run (and its database was upgraded to)
	UpgradedFrom     string // the release before the last major/minor upgrade; "" before any
	Snapshot         string // the snapshot taken before that upgrade
	// Network is the address plan the stack was deployed with; a key's field is zero (""
	// or nil) when the last deploy did not export it (a new stack, or one deployed before).
	Network deployedNetwork
	// DBIdentifier is the serving database's RDS identifier, and DBLineage every generation
	// of the database (dbrestore.go); a stack deployed before the lineage has only the first.
	DBIdentifier string
	DBLineage    []stack.DBGeneration
	// UploadsRestore is the restored uploads file system that served; zero for the stack's own.
	UploadsRestore stack.UploadsRestore
}

// deployedNetwork is the network's keys fixed at creation, as the last deploy exported them.
type deployedNetwork struct {
	VpcCidr            string
	AvailabilityZones  []string
	PublicSubnetCidrs  []string
	PrivateSubnetCidrs []string
}

// readLastDeploy reads the stack's own last outputs. A new stack has none: every field "".
func readLastDeploy(ctx *pulumi.Context) (lastDeploy, error) {
	org := ctx.Organization()
	if org == "" {
		org = "organization" // the local backend's
	}
	name := org + "/" + ctx.Project() + "/" + ctx.Stack()
	ref, err := pulumi.NewStackReference(ctx, "last-deploy", &pulumi.StackReferenceArgs{Name: pulumi.String(name)})
	if err != nil {
		return lastDeploy{}, fmt.Errorf("read the stack's last outputs (%s): %w", name, err)
	}
	var o stack.Outputs
	if err := decodeOutputs(ref, &o); err != nil {
		return lastDeploy{}, err
	}
	last := lastDeploy{WordPressVersion: o.WordPressVersion, UpgradedFrom: o.WordPressUpgradedFrom, Snapshot: o.PreUpgradeSnapshot,
		Network:      deployedNetwork{VpcCidr: o.VpcCidr, AvailabilityZones: o.AvailabilityZones, PublicSubnetCidrs: o.PublicSubnetCidrs, PrivateSubnetCidrs: o.PrivateSubnetCidrs},
		DBIdentifier: o.DBIdentifier, DBLineage: o.DBLineage}
	if o.UploadsRestore != nil {
		last.UploadsRestore = *o.UploadsRestore
	}
	return last, nil
}

// decodeOutputs reads every output the stack reference holds into the typed outputs (an
// output the last deploy did not export stays zero), through encoding/json as the commands
// decode `pulumi stack output --json`.
func decodeOutputs(ref *pulumi.StackReference, o *stack.Outputs) error {
	held := map[string]any{}
	for _, key := range stack.Keys() {
		d, err := ref.GetOutputDetails(key)
		if err != nil {
			return fmt.Errorf("read the stack's last output %s: %w", key, err)
		}
		if v := d.Value; v != nil {
			held[key] = v
		} else if d.SecretValue != nil {
			held[key] = d.SecretValue
		}
	}
	b, err := json.Marshal(held)
	if err != nil {
		return fmt.Errorf("read the stack's last outputs: %w", err)
	}
	if err := json.Unmarshal(b, o); err != nil {
		return fmt.Errorf("the stack's last outputs do not decode as this program's (internal/stack): %w", err)
	}
	return nil
}

// release is one WordPress release number, x.y or x.y.z (z = 0 when absent).
type release [3]int

// parseRelease reads a release number that wporg.ReleaseRe accepts; ok is false otherwise.
func parseRelease(v string) (r release, ok bool) {
	m := wporg.ReleaseRe.FindStringSubmatch(v)
	if m == nil {
		return r, false
	}
	r[0], r[1] = atoi(m[1]), atoi(m[2])
	if m[3] != "" {
		r[2] = atoi(m[3][1:])
	}
	return r, true
}

// compare is -1, 0 or 1 as r is older than, the same as or newer than o.
func (r release) compare(o release) int {
	for i := range r {
		if r[i] != o[i] {
			if r[i] < o[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// branch is the release's major.minor: what changes the database schema.
func (r release) branch() string { return strconv.Itoa(r[0]) + "." + strconv.Itoa(r[1]) }

// releasePlan is what this deploy does about the WordPress release.
type releasePlan struct {
	// UpgradedFrom is the release before the last major/minor upgrade, this one included:
	// the snapshot taken before it is declared while the stack stays on that branch.
	UpgradedFrom string
	// Snapshot names the pre-upgrade snapshot's releases ("7.0.3-to-7.1"); "" for none.
	Snapshot string
	// Upgrade says this deploy moves to a new branch (its snapshot is taken now).
	Upgrade bool
}

// planRelease checks that the configured release does not go back on the last deploy's and
// says which pre-upgrade snapshot the stack holds.
func planRelease(cfg Config, last lastDeploy) (releasePlan, error) {
	want, _ := parseRelease(cfg.WordPressVersion) // validated
	had, ok := parseRelease(last.WordPressVersion)
	if !ok { // a new stack (or one deployed before the output existed)
		return releasePlan{}, nil
	}
	var p releasePlan
	switch {
	case want.compare(had) < 0 && !cfg.AllowWordPressDowngrade:
		snapshot := "the snapshot taken before the upgrade"
		if last.Snapshot != "" {
			snapshot = "the snapshot taken before the upgrade (" + last.Snapshot + ")"
		}
		return p, invalid("wordpressVersion", cfg.WordPressVersion,
			"this stack's last deploy runs WordPress %s, and its database was upgraded for it: older WordPress code on a newer database schema sends every administrator to \"Database Update Required\". "+
				"WordPress only moves forward: want %s or later. To go back, restore the database from %s (docs/operations.md#going-back-a-wordpress-release), then set allowWordPressDowngrade: true for that pulumi up",
			last.WordPressVersion, last.WordPressVersion, snapshot)
	case want.branch() != had.branch() && want.compare(had) > 0:
		p.UpgradedFrom, p.Upgrade = last.WordPressVersion, true
	case want.branch() == had.branch():
		p.UpgradedFrom = last.UpgradedFrom // keep the snapshot of this branch's upgrade
	}
	if p.UpgradedFrom != "" {
		p.Snapshot = p.UpgradedFrom + "-to-" + want.branch()
	}
	return p, nil
}

// newPreUpgradeSnapshot is the manual snapshot of the database before the release plan's
// upgrade: one resource per branch (a later upgrade declares a new one; the old one leaves the
// program and, retained, stays in RDS), never replaced in place.
func newPreUpgradeSnapshot(ctx *pulumi.Context, db *Database, plan releasePlan, tags Tags) (*rds.Snapshot, error) {
	if plan.Snapshot == "" {
		return nil, nil
	}
	label := strings.ReplaceAll(plan.Snapshot, ".", "-")
	snap, err := rds.NewSnapshot(ctx, "db-pre-wordpress-"+label, &rds.SnapshotArgs{
		DbInstanceIdentifier: db.Instance.Identifier,
		DbSnapshotIdentifier: db.Instance.Identifier.ApplyT(func(id string) string { return id + "-pre-wordpress-" + label }).(pulumi.StringOutput),
		Tags:                 tags.Named("db-pre-wordpress-" + label),
	}, pulumi.Parent(db), pulumi.RetainOnDelete(true), pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "60m"}),
		// Taken once, of the database that served then: a restore (dbRestore) later on the
		// same branch must not replace it with a snapshot of the restored database, taken after
		// the upgrade (both inputs force a new snapshot).
		pulumi.IgnoreChanges([]string{"dbInstanceIdentifier", "dbSnapshotIdentifier"}))
	if err != nil {
		return nil, fmt.Errorf("snapshot the database before the WordPress %s upgrade: %w", plan.Snapshot, err)
	}
	return snap, nil
}

// resourceIf is r as a pulumi.Resource, or nil when r is nil (a typed nil pointer in an
// interface is not nil).
func resourceIf(r *rds.Snapshot) pulumi.Resource {
	if r == nil {
		return nil
	}
	return r
}
