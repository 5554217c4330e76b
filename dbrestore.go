package main

// Restoring the database by configuration, nothing lost (docs/operations.md, "Restoring the
// database"). The config says what to DO: dbRestore asks for one new restore, {"id": a label,
// "from": "latest" | an RFC 3339 UTC time | "snapshot:<identifier or ARN>"}. The stack's own
// last outputs remember what EXISTS: dbLineage lists every generation of the database (the
// original and each restore), the RDS identifier of each, which one serves and which were
// retired. Every up declares every generation that is not retired, so:
//
//   - a new id adds a generation restored from the serving one (a point in time of it, or a
//     snapshot), which then serves: the servers get its endpoint and master credential through
//     the settings (the SSM association), nothing else of theirs changes;
//   - the up after it, or the key cleared, declares the same: the restored database keeps
//     serving and nothing is replaced (each generation's restore inputs come from the lineage,
//     not from the key);
//   - the generation that served stays, tagged serving=false, with AWS's deletion protection on
//     and retainOnDelete, until dbRetire lists it: it then leaves the stack and stays in RDS for
//     its owner to delete by hand.
//
// Anything else is refused before any resource is registered, with one error naming the key.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/example/scalable-wordpress/internal/stack"
)

// originalGeneration is the id of the database the stack created first (resource "db").
const originalGeneration = "original"

// The forms of dbRestore's from.
const (
	restoreLatest         = "latest"
	restoreSnapshotPrefix = "snapshot:"
)

// dbGeneration is one database of the lineage (the stack output's shape).
type dbGeneration = stack.DBGeneration

// DBRestore is the dbRestore key: one new restore; zero when the key is absent or {}.
type DBRestore struct {
	ID   string // a label: a-z, 0-9 and hyphens, 1 to 20
	From string // "latest", an RFC 3339 UTC time, or "snapshot:<identifier or ARN>"
}

var (
	restoreIDRe  = regexp.MustCompile(`^[a-z0-9-]{1,20}$`)
	snapshotIDRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,254}$`)
	// A manual or automated snapshot, possibly shared from another account.
	snapshotARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:[A-Za-z][A-Za-z0-9:-]{0,254}$`)
	// An RFC 3339 time in UTC, to the second: what RestoreTime takes.
	restoreTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
)

const restoreForm = `want {"id": "<label: a-z, 0-9 and hyphens, 1 to 20>", "from": "latest" | "<RFC 3339 UTC time, e.g. 2026-12-04T10:00:00Z>" | "snapshot:<DB snapshot identifier or ARN>"}, or {} for no new restore`

// parseDBRestore checks the key's shape (not what it asks of the lineage: planDBLineage).
func parseDBRestore(raw map[string]string) (DBRestore, error) {
	if len(raw) == 0 {
		return DBRestore{}, nil
	}
	shown := fmt.Sprintf("%v", raw)
	for k := range raw {
		if k != "id" && k != "from" {
			return DBRestore{}, invalid("dbRestore", shown, "unknown field %q: %s", k, restoreForm)
		}
	}
	r := DBRestore{ID: raw["id"], From: raw["from"]}
	switch {
	case !restoreIDRe.MatchString(r.ID):
		return r, invalid("dbRestore", shown, "id %q: %s", r.ID, restoreForm)
	case r.ID == originalGeneration:
		return r, invalid("dbRestore", shown, "id %q names the stack's first database; choose another label", r.ID)
	case r.From == restoreLatest:
	case strings.HasPrefix(r.From, restoreSnapshotPrefix):
		snap := strings.TrimPrefix(r.From, restoreSnapshotPrefix)
		if !snapshotIDRe.MatchString(snap) && !snapshotARNRe.MatchString(snap) {
			return r, invalid("dbRestore", shown, "from %q: not a DB snapshot identifier or ARN; %s", r.From, restoreForm)
		}
	default:
		if _, err := time.Parse(time.RFC3339, r.From); err != nil || !restoreTimeRe.MatchString(r.From) {
			return r, invalid("dbRestore", shown, "from %q: %s", r.From, restoreForm)
		}
	}
	return r, nil
}

// parseDBRetire checks dbRetire's entries: generation ids, each once.
func parseDBRetire(ids []string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if id != originalGeneration && !restoreIDRe.MatchString(id) {
			return invalid("dbRetire", fmt.Sprintf("%q", id), `want the ids of database generations (dbRestore's ids, or "original"), e.g. ["original"]`)
		}
		if seen[id] {
			return invalid("dbRetire", fmt.Sprintf("%q", id), "listed twice; list each generation once")
		}
		seen[id] = true
	}
	return nil
}

// planDBLineage is the lineage this up declares: the last deploy's, with dbRestore's new
// generation (which then serves) and dbRetire's generations retired. It refuses what would
// lose or replace a database.
func planDBLineage(cfg Config, last lastDeploy) ([]dbGeneration, error) {
	gens := slices.Clone(last.DBLineage)
	if len(gens) == 0 && last.DBIdentifier != "" {
		// A stack deployed before the lineage existed: its one database is the original.
		gens = []dbGeneration{{ID: originalGeneration, Identifier: last.DBIdentifier, Serving: true}}
	}
	if err := planRestore(cfg, &gens); err != nil {
		return nil, err
	}
	for _, id := range cfg.DBRetire {
		i := slices.IndexFunc(gens, func(g dbGeneration) bool { return g.ID == id })
		switch {
		case i < 0:
			return nil, invalid("dbRetire", fmt.Sprintf("%q", id), "this stack has no database generation %q; it has %s", id, generationIDs(gens))
		case gens[i].Serving:
			return nil, invalid("dbRetire", fmt.Sprintf("%q", id), "generation %q is the one serving the site; restore another first (dbRestore), then retire this one", id)
		}
		gens[i].Retired = true
	}
	return gens, nil
}

// planRestore adds dbRestore's generation to gens, unless it is already there.
func planRestore(cfg Config, gens *[]dbGeneration) error {
	r := cfg.DBRestore
	if r.ID == "" {
		if len(*gens) == 0 {
			*gens = []dbGeneration{{ID: originalGeneration, Serving: true}}
		}
		return nil
	}
	shown := fmt.Sprintf("{id: %s, from: %s}", r.ID, r.From)
	if i := slices.IndexFunc(*gens, func(g dbGeneration) bool { return g.ID == r.ID }); i >= 0 {
		g := (*gens)[i]
		switch {
		case g.Retired:
			return invalid("dbRestore", shown, "id %q is a retired generation's; choose a new label", r.ID)
		case g.From != r.From:
			return invalid("dbRestore", shown, "id %q is already the generation restored from %q; a new restore needs a new label", r.ID, g.From)
		}
		return nil // done by an earlier up: declared as recorded
	}
	snapshot := strings.HasPrefix(r.From, restoreSnapshotPrefix)
	if len(*gens) == 0 {
		if !snapshot {
			return invalid("dbRestore", shown, "this stack has no database yet to restore a point in time of; a new stack may start only from a snapshot (from: \"snapshot:<identifier or ARN>\")")
		}
		*gens = []dbGeneration{{ID: r.ID, From: r.From, Serving: true}}
		return nil
	}
	if !snapshot && r.From != restoreLatest {
		at, _ := time.Parse(time.RFC3339, r.From) // parseDBRestore checked it
		t := time.Now().UTC()
		if at.After(t) {
			return invalid("dbRestore", shown, "%s is in the future (it is %s)", r.From, t.Format(time.RFC3339))
		}
		if oldest := t.AddDate(0, 0, -cfg.DBBackupRetentionDays); at.Before(oldest) {
			return invalid("dbRestore", shown, "%s is older than the backup retention window (dbBackupRetentionDays %d: nothing before %s is restorable); restore a snapshot instead",
				r.From, cfg.DBBackupRetentionDays, oldest.Format(time.RFC3339))
		}
	}
	i := slices.IndexFunc(*gens, func(g dbGeneration) bool { return g.Serving })
	if i < 0 || (!snapshot && (*gens)[i].Identifier == "") {
		return invalid("dbRestore", shown, "the last deploy records no serving database to restore from (output %s); run pulumi up without dbRestore first", stack.KeyDBLineage)
	}
	next := dbGeneration{ID: r.ID, From: r.From, Serving: true}
	if !snapshot {
		next.Source = (*gens)[i].Identifier
	}
	(*gens)[i].Serving = false
	*gens = append(*gens, next)
	return nil
}

// generationIDs lists the ids of the generations that are not retired, for messages.
func generationIDs(gens []dbGeneration) string {
	var ids []string
	for _, g := range gens {
		if !g.Retired {
			ids = append(ids, fmt.Sprintf("%q", g.ID))
		}
	}
	if len(ids) == 0 {
		return "none yet"
	}
	return strings.Join(ids, ", ")
}

// generationName is the generation's resource name: "db" for the original, db-<id> after.
func generationName(base string, g dbGeneration) string {
	if g.ID == originalGeneration {
		return base
	}
	return base + "-" + g.ID
}
