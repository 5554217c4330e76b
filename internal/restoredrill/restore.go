// Package restoredrill is the restore drill (`go run ./cmd/drill restore`): it restores the
// stack's database and measures the two numbers a restore is judged by.
//
//   - RPO, the data a restore would lose: the age of the newest restorable point when the
//     restore is requested (RDS's LatestRestorableTime; from a snapshot, the snapshot's age).
//   - RTO, the time a restore takes: from the request until the site serves from the restored
//     database (the stack mode), or until the restored instance is available (the scratch
//     mode, which touches no server: a lower bound).
//
// The stack mode restores through the stack (config dbRestore, then `pulumi up`), so that the
// program creates the new instance and hands the servers its endpoint through the settings
// parameter; the scratch mode only asks RDS for a copy beside the stack's database and
// deletes it again.
package restoredrill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/drill"
	"github.com/example/scalable-wordpress/internal/stack"
)

// RDS is the RDS calls the drill makes: reads of the database and its snapshots, and, in
// the scratch mode only, the restore and the delete of its own copy.
type RDS interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBSnapshots(ctx context.Context, in *rds.DescribeDBSnapshotsInput, optFns ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
	RestoreDBInstanceToPointInTime(ctx context.Context, in *rds.RestoreDBInstanceToPointInTimeInput, optFns ...func(*rds.Options)) (*rds.RestoreDBInstanceToPointInTimeOutput, error)
	RestoreDBInstanceFromDBSnapshot(ctx context.Context, in *rds.RestoreDBInstanceFromDBSnapshotInput, optFns ...func(*rds.Options)) (*rds.RestoreDBInstanceFromDBSnapshotOutput, error)
	DeleteDBInstance(ctx context.Context, in *rds.DeleteDBInstanceInput, optFns ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)
}

// SSM reads the settings parameter that names the database endpoint the servers use.
type SSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// FromKind is what a restore starts from.
type FromKind int

// The three sources of the dbRestore contract.
const (
	FromLatest   FromKind = iota // the newest restorable point
	FromTime                     // a point in time
	FromSnapshot                 // a snapshot: named, or (Snapshot "") the newest
)

// From is the restore's source, as --from and config dbRestore.from spell it.
type From struct {
	Kind     FromKind
	Time     time.Time
	Snapshot string // FromSnapshot: the snapshot's identifier; "" is the newest, resolved before the restore
}

// ParseFrom reads --from: "latest", an RFC 3339 UTC time ("2026-04-12T10:00:00Z"),
// "snapshot" (the newest snapshot of the database) or "snapshot:<id>".
func ParseFrom(s string) (From, error) {
	switch {
	case s == "latest":
		return From{Kind: FromLatest}, nil
	case s == "snapshot":
		return From{Kind: FromSnapshot}, nil
	case strings.HasPrefix(s, "snapshot:"):
		id := strings.TrimPrefix(s, "snapshot:")
		if id == "" {
			return From{}, fmt.Errorf("--from %q names no snapshot", s)
		}
		return From{Kind: FromSnapshot, Snapshot: id}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return From{}, fmt.Errorf("--from %q: want latest, snapshot, snapshot:<id> or an RFC 3339 UTC time such as 2026-04-12T10:00:00Z", s)
	}
	return From{Kind: FromTime, Time: t}, nil
}

// String is the value of config dbRestore.from (a newest snapshot resolved first).
func (f From) String() string {
	switch f.Kind {
	case FromTime:
		return f.Time.UTC().Format(time.RFC3339)
	case FromSnapshot:
		if f.Snapshot == "" {
			return "snapshot"
		}
		return "snapshot:" + f.Snapshot
	}
	return "latest"
}

var labelRE = regexp.MustCompile(`^[a-z0-9-]{1,20}$`)

// Label is the drill's dbRestore.id at t: "drill-" and the UTC time to the second (18
// characters, within the contract's 20).
func Label(t time.Time) string { return "drill-" + t.UTC().Format("060102150405") }

// Target is what the drill needs from the stack's outputs.
type Target struct {
	Project, Stack  string // the tags the database must carry
	StackRef        string // --stack as given, for the pulumi CLI
	Region          string
	SiteURL         string
	DBIdentifier    string
	DBHostParameter string
}

// TargetFrom is the drill's view of a stack's outputs.
func TargetFrom(o stack.Outputs) Target {
	return Target{Region: o.Region, SiteURL: o.SiteURL, DBIdentifier: o.DBIdentifier, DBHostParameter: o.DBHostParameter}
}

// Options are the drill's knobs.
type Options struct {
	Scratch        bool // restore to a scratch instance, then delete it; the stack is not touched
	From           From
	Label          string        // dbRestore.id (and the scratch instance's suffix); "" is Label(now)
	Interval       time.Duration // between polls
	Timeout        time.Duration // bound on each wait
	RequestTimeout time.Duration // per HTTP request
	RPOTarget      time.Duration // 0: none
	RTOTarget      time.Duration // 0: none
	CanaryURL      string        // a page written before the drill that the restored site must serve
	CanaryText     string        // text the canary page must contain ("" : a 200 is enough)
	DryRun, Yes    bool
}

// DefaultOptions are the command's defaults.
func DefaultOptions() Options {
	return Options{From: From{Kind: FromLatest}, Interval: 15 * time.Second, Timeout: 90 * time.Minute, RequestTimeout: 10 * time.Second}
}

// Drill restores one stack's database and measures it.
type Drill struct {
	Target Target
	Opts   Options
	RDS    RDS
	SSM    SSM
	Pulumi stack.Runner // the pulumi CLI (stack mode)
	Dir    string       // the project folder
	HTTP   *http.Client
	Clock  clock.Clock
	Out    io.Writer
	// Confirm asks the operator to go ahead with the plan; only called without Yes.
	Confirm func(plan string) (bool, error)

	requests int
}

// Phase is one timed step of the drill.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	Detail  string  `json:"detail"`
}

// Report is the drill's outcome, also written as JSON. Times are RFC 3339 UTC; "" unknown.
type Report struct {
	Project   string `json:"project"`
	Stack     string `json:"stack"`
	Mode      string `json:"mode"` // stack or scratch
	From      string `json:"from"`
	Label     string `json:"label"`
	SiteURL   string `json:"siteUrl,omitempty"`
	Source    string `json:"source"`   // the database restored from
	Restored  string `json:"restored"` // the instance restored to
	Endpoint  string `json:"endpoint"` // the restored instance's address
	Requested string `json:"requested"`
	// LatestRestorable is the source's newest restorable point at the request; RPOSeconds its
	// age then, or, from a snapshot, the snapshot's age.
	LatestRestorable   string   `json:"latestRestorable"`
	NewestSnapshot     string   `json:"newestSnapshot"`
	NewestSnapshotTime string   `json:"newestSnapshotTime"`
	SnapshotAgeSeconds *float64 `json:"snapshotAgeSeconds"` // the newest snapshot's age at the request (null: none)
	RestorePoint       string   `json:"restorePoint"`
	RPOSeconds         float64  `json:"rpoSeconds"`
	RTOSeconds         float64  `json:"rtoSeconds"`
	RPOTargetSeconds   float64  `json:"rpoTargetSeconds,omitempty"`
	RTOTargetSeconds   float64  `json:"rtoTargetSeconds,omitempty"`
	CanaryURL          string   `json:"canaryUrl,omitempty"`
	Canary             string   `json:"canary,omitempty"` // what the canary showed after the restore
	Cleanup            string   `json:"cleanup,omitempty"`
	Phases             []Phase  `json:"phases"`
	DryRun             bool     `json:"dryRun"`
	Plan               string   `json:"plan"`
	Violations         []string `json:"violations"`
	Passed             bool     `json:"passed"`
	Interrupted        bool     `json:"interrupted"`
	Error              string   `json:"error,omitempty"`
}

// Errors the report classifies.
var (
	ErrRefused     = drill.ErrRefused
	ErrInterrupted = errors.New("interrupted")
	ErrGaveUp      = errors.New("gave up waiting")
)

func (d *Drill) logf(format string, args ...any) {
	if d.Out != nil {
		fmt.Fprintf(d.Out, format+"\n", args...)
	}
}

func awsErr(ctx context.Context, call string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w during AWS %s", ErrInterrupted, call)
	}
	return fmt.Errorf("AWS %s: %w", call, err)
}

// Validate names the first missing input, as the output or flag that sets it.
func (d *Drill) Validate() error {
	t, o := d.Target, d.Opts
	missing := func(output, flag string) error {
		return fmt.Errorf("stack output %s is missing or empty: deploy the stack first, or pass %s", output, flag)
	}
	switch {
	case t.Project == "":
		return errors.New("project name unknown: run from the project folder (Pulumi.yaml) or pass --project")
	case t.Stack == "":
		return errors.New("stack name unknown: pass --stack")
	case t.Region == "":
		return missing(stack.KeyRegion, "--region")
	case t.DBIdentifier == "":
		return missing(stack.KeyDBIdentifier, "--db")
	case !o.Scratch && t.SiteURL == "":
		return missing(stack.KeySiteURL, "--url")
	case !o.Scratch && t.DBHostParameter == "":
		return fmt.Errorf("stack output %s is missing or empty: the stack mode follows it to the new endpoint", stack.KeyDBHostParameter)
	case o.Scratch && o.CanaryURL != "":
		return errors.New("--canary-url needs the stack mode: a scratch instance serves no site")
	case o.Label != "" && !labelRE.MatchString(o.Label):
		return fmt.Errorf("--label %q: want 1-20 of a-z, 0-9 and -", o.Label)
	case o.Interval <= 0 || o.RequestTimeout <= 0 || o.Timeout < o.Interval:
		return errors.New("--interval and --request-timeout must be positive, --timeout at least one --interval")
	case o.RPOTarget < 0 || o.RTOTarget < 0:
		return errors.New("--rpo-target and --rto-target must not be negative")
	}
	return nil
}

// source is what the drill read of the database it restores from.
type source struct {
	status           string
	latestRestorable time.Time // zero: none (automated backups off)
	subnetGroup      string
	securityGroups   []string
	class            string
	tags             map[string]string
	newestSnapshot   string
	newestSnapTime   time.Time
	chosenSnapTime   time.Time // the snapshot the restore starts from (FromSnapshot)
}

func (d *Drill) describe(ctx context.Context, id string) (*rdstypes.DBInstance, error) {
	out, err := d.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		var nf *rdstypes.DBInstanceNotFoundFault
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, awsErr(ctx, "RDS DescribeDBInstances "+id, err)
	}
	if len(out.DBInstances) != 1 {
		return nil, nil
	}
	return &out.DBInstances[0], nil
}

// readSource reads the database and its snapshots, and resolves --from snapshot to the
// newest.
func (d *Drill) readSource(ctx context.Context) (source, error) {
	id := d.Target.DBIdentifier
	db, err := d.describe(ctx, id)
	if err != nil {
		return source{}, err
	}
	if db == nil {
		return source{}, fmt.Errorf("RDS instance %s was not found in %s", id, d.Target.Region)
	}
	s := source{status: aws.ToString(db.DBInstanceStatus), latestRestorable: aws.ToTime(db.LatestRestorableTime),
		class: aws.ToString(db.DBInstanceClass), tags: map[string]string{}}
	if db.DBSubnetGroup != nil {
		s.subnetGroup = aws.ToString(db.DBSubnetGroup.DBSubnetGroupName)
	}
	for _, g := range db.VpcSecurityGroups {
		s.securityGroups = append(s.securityGroups, aws.ToString(g.VpcSecurityGroupId))
	}
	for _, t := range db.TagList {
		s.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	// Automated and manual snapshots alike (no SnapshotType); the newest available one.
	var marker *string
	for page := 0; page < 20; page++ {
		out, err := d.RDS.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(id), Marker: marker})
		if err != nil {
			return s, awsErr(ctx, "RDS DescribeDBSnapshots "+id, err)
		}
		for _, snap := range out.DBSnapshots {
			at := aws.ToTime(snap.SnapshotCreateTime)
			if aws.ToString(snap.Status) == "available" && at.After(s.newestSnapTime) {
				s.newestSnapshot, s.newestSnapTime = aws.ToString(snap.DBSnapshotIdentifier), at
			}
			if d.Opts.From.Kind == FromSnapshot && aws.ToString(snap.DBSnapshotIdentifier) == d.Opts.From.Snapshot {
				if aws.ToString(snap.Status) != "available" {
					return s, fmt.Errorf("snapshot %s is %q, not available", d.Opts.From.Snapshot, aws.ToString(snap.Status))
				}
				s.chosenSnapTime = at
			}
		}
		if marker = out.Marker; aws.ToString(marker) == "" {
			break
		}
	}
	return s, nil
}

// check refuses what the drill cannot restore from.
func (d *Drill) check(s source) error {
	id := d.Target.DBIdentifier
	for k, want := range map[string]string{"project": d.Target.Project, "stack": d.Target.Stack} {
		if got := s.tags[k]; got != want {
			return fmt.Errorf("refusing to restore RDS instance %s: its tag %s is %q, want %q (it does not belong to stack %s/%s)", id, k, got, want, d.Target.Project, d.Target.Stack)
		}
	}
	if s.status != "available" {
		return fmt.Errorf("RDS instance %s is %q, not available", id, s.status)
	}
	switch f := d.Opts.From; f.Kind {
	case FromLatest, FromTime:
		if s.latestRestorable.IsZero() {
			return fmt.Errorf("RDS instance %s has no restorable point (automated backups off: dbBackupRetentionDays 0?)", id)
		}
		if f.Kind == FromTime && f.Time.After(s.latestRestorable) {
			return fmt.Errorf("--from %s is after the newest restorable point %s", f, s.latestRestorable.UTC().Format(time.RFC3339))
		}
	case FromSnapshot:
		if f.Snapshot == "" && s.newestSnapshot == "" {
			return fmt.Errorf("RDS instance %s has no available snapshot", id)
		}
		if f.Snapshot != "" && s.chosenSnapTime.IsZero() {
			return fmt.Errorf("snapshot %s of RDS instance %s was not found", f.Snapshot, id)
		}
	}
	return nil
}

// rpo fills the report's RPO from what was read at the request.
func (d *Drill) rpo(r *Report, s source, at time.Time) {
	r.Requested = rfc(at)
	r.LatestRestorable = rfc(s.latestRestorable)
	r.NewestSnapshot, r.NewestSnapshotTime = s.newestSnapshot, rfc(s.newestSnapTime)
	if !s.newestSnapTime.IsZero() {
		age := at.Sub(s.newestSnapTime).Seconds()
		r.SnapshotAgeSeconds = &age
	}
	point := s.latestRestorable
	switch d.Opts.From.Kind {
	case FromTime:
		point = d.Opts.From.Time
	case FromSnapshot:
		point = s.chosenSnapTime
		if d.Opts.From.Snapshot == "" {
			point = s.newestSnapTime
		}
	}
	r.RestorePoint = rfc(point)
	// The RPO is what the stack could guarantee now: the newest point a restore could reach
	// (from a snapshot, the snapshot's age), whatever point this drill chose.
	r.RPOSeconds = at.Sub(s.latestRestorable).Seconds()
	if d.Opts.From.Kind == FromSnapshot {
		r.RPOSeconds = at.Sub(point).Seconds()
	}
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Run checks, plans, asks, restores and measures. The report is returned even on error,
// with what was measured up to that point.
func (d *Drill) Run(ctx context.Context) (*Report, error) {
	mode := "stack"
	if d.Opts.Scratch {
		mode = "scratch"
	}
	r := &Report{Project: d.Target.Project, Stack: d.Target.Stack, Mode: mode, From: d.Opts.From.String(), Source: d.Target.DBIdentifier,
		CanaryURL: d.Opts.CanaryURL, RPOTargetSeconds: d.Opts.RPOTarget.Seconds(), RTOTargetSeconds: d.Opts.RTOTarget.Seconds(),
		Phases: []Phase{}, Violations: []string{}, DryRun: d.Opts.DryRun}
	if !d.Opts.Scratch {
		r.SiteURL = d.Target.SiteURL
	}
	fail := func(err error) (*Report, error) {
		r.Error, r.Interrupted = err.Error(), errors.Is(err, ErrInterrupted)
		return r, err
	}
	if err := d.Validate(); err != nil {
		return fail(err)
	}
	if d.Opts.Label == "" {
		d.Opts.Label = Label(d.Clock.Now())
	}
	r.Label = d.Opts.Label
	s, err := d.readSource(ctx)
	if err == nil {
		err = d.check(s)
	}
	if err == nil && !d.Opts.Scratch {
		err = d.preflightSite(ctx)
	}
	if err != nil {
		return fail(err)
	}
	r.Plan = d.plan(s)
	d.logf("%s", r.Plan)
	if d.Opts.DryRun {
		d.rpo(r, s, d.Clock.Now())
		d.logf("dry run: nothing was changed (RPO now: %s)", secs(r.RPOSeconds))
		r.Passed = true
		return r, nil
	}
	if err := drill.Approve(d.Opts.Yes, d.Confirm, r.Plan); err != nil {
		return fail(err)
	}
	// The RPO is read again at the request: the question may have waited.
	if s, err = d.readSource(ctx); err == nil {
		err = d.check(s)
	}
	if err != nil {
		return fail(err)
	}
	if d.Opts.From.Kind == FromSnapshot && d.Opts.From.Snapshot == "" {
		d.Opts.From.Snapshot, s.chosenSnapTime = s.newestSnapshot, s.newestSnapTime
		r.From = d.Opts.From.String()
	}
	requested := d.Clock.Now()
	d.rpo(r, s, requested)
	d.logf("restore requested at %s from %s: newest restorable point %s (RPO %s)", r.Requested, r.From, orDash(r.LatestRestorable), secs(r.RPOSeconds))
	var done time.Time
	if d.Opts.Scratch {
		done, err = d.scratch(ctx, r, s)
	} else {
		done, err = d.viaStack(ctx, r)
	}
	if err != nil {
		return fail(err)
	}
	r.RTOSeconds = done.Sub(requested).Seconds()
	d.logf("restored: RPO %s, RTO %s", secs(r.RPOSeconds), secs(r.RTOSeconds))
	if t := d.Opts.RPOTarget; t > 0 && r.RPOSeconds > t.Seconds() {
		r.Violations = append(r.Violations, fmt.Sprintf("RPO %s (target %s)", secs(r.RPOSeconds), t))
	}
	if t := d.Opts.RTOTarget; t > 0 && r.RTOSeconds > t.Seconds() {
		r.Violations = append(r.Violations, fmt.Sprintf("RTO %s (target %s)", secs(r.RTOSeconds), t))
	}
	r.Passed = len(r.Violations) == 0
	return r, nil
}

func secs(s float64) string { return (time.Duration(s) * time.Second).String() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (d *Drill) plan(s source) string {
	var b strings.Builder
	t := d.Target
	fmt.Fprintf(&b, "Restore drill for %s/%s (%s): restore RDS instance %s from %s (newest restorable point %s, newest snapshot %s %s)\n",
		t.Project, t.Stack, t.Region, t.DBIdentifier, d.Opts.From, orDash(rfc(s.latestRestorable)), orDash(s.newestSnapshot), rfc(s.newestSnapTime))
	if d.Opts.Scratch {
		fmt.Fprintf(&b, "  1. RESTORE it to a new instance %s (%s, single-AZ, in subnet group %s, security groups %s): a second database is billed while it exists\n",
			d.scratchID(), s.class, orDash(s.subnetGroup), strings.Join(s.securityGroups, ","))
		fmt.Fprintf(&b, "  2. wait until it is available (RTO: request to available; no server uses it)\n")
		fmt.Fprintf(&b, "  3. DELETE it, without a final snapshot (also on error, timeout or Ctrl-C)\n")
	} else {
		fmt.Fprintf(&b, "  1. pulumi config set --path dbRestore.id %s, dbRestore.from %s; pulumi up --yes on stack %s:\n", d.Opts.Label, d.Opts.From, t.StackRef)
		b.WriteString("     the program creates a NEW database instance from it and the servers are handed its endpoint; the stack then SERVES FROM THE RESTORED DATA\n")
		fmt.Fprintf(&b, "  2. wait until the settings parameter %s names the new instance's endpoint and %s answers 200 (RTO: request to that)\n", t.DBHostParameter, t.SiteURL)
		if d.Opts.CanaryURL != "" {
			fmt.Fprintf(&b, "  3. check that the canary %s still answers 200%s: data written before the drill survived\n", d.Opts.CanaryURL, quoted(d.Opts.CanaryText))
		} else {
			b.WriteString("  3. no --canary-url: what the restored database holds is not checked, only that the site serves from it\n")
		}
	}
	fmt.Fprintf(&b, "  Each wait gives up after %s, polling every %s.", d.Opts.Timeout, d.Opts.Interval)
	if d.Opts.RPOTarget > 0 || d.Opts.RTOTarget > 0 {
		fmt.Fprintf(&b, " Targets: RPO %s, RTO %s.", orNone(d.Opts.RPOTarget), orNone(d.Opts.RTOTarget))
	}
	return b.String()
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" containing %q", s)
}

func orNone(t time.Duration) string {
	if t == 0 {
		return "none"
	}
	return t.String()
}

// poll calls check every Interval until it reports done, Timeout passes or ctx ends: the
// drill's only loop, bounded in both time and count. check's string says what is still
// missing, for the error when the wait gives up.
func (d *Drill) poll(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	start := d.Clock.Now()
	state := ""
	for i := 0; i <= int(d.Opts.Timeout/d.Opts.Interval); i++ {
		done, st, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if st != state {
			d.logf("  %6.0fs  %s", d.Clock.Now().Sub(start).Seconds(), st)
			state = st
		}
		if d.Clock.Now().Sub(start) >= d.Opts.Timeout {
			break
		}
		if d.Clock.Sleep(ctx, d.Opts.Interval) != nil {
			return fmt.Errorf("%w while waiting %s", ErrInterrupted, what)
		}
	}
	return fmt.Errorf("%w %s after %s: %s", ErrGaveUp, what, d.Opts.Timeout, state)
}

// phase times f as a phase of the report.
func (d *Drill) phase(r *Report, name string, f func() (string, error)) error {
	start := d.Clock.Now()
	d.logf("%s ...", name)
	detail, err := f()
	if err != nil && detail == "" {
		detail = err.Error()
	}
	p := Phase{Name: name, Seconds: d.Clock.Now().Sub(start).Seconds(), Detail: detail}
	r.Phases = append(r.Phases, p)
	d.logf("%s: %s (%s)", name, detail, secs(p.Seconds))
	return err
}
