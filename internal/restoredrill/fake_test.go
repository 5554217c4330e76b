package restoredrill

// A simulated stack for the restore drill: an RDS whose restores become available after a
// number of polls, the settings parameter, the pulumi CLI (config set, up, stack output) and
// the site on a loopback port, all on a virtual clock.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const (
	testProject = "scalable-wordpress"
	testStack   = "dev"
	testRegion  = "ap-northeast-1"
	testDB      = "scalable-wordpress-dev-db"
	restoredDB  = "scalable-wordpress-dev-db-drill"
	testParam   = "/scalable-wordpress/dev/db-host"
	upTakes     = 20 * time.Minute
)

var epoch = time.Date(2026, 4, 12, 10, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fakeDB struct {
	status    string
	pollsLeft int // describes until a new instance is available (-1: never)
	tags      map[string]string
	latest    time.Time
}

func endpoint(id string) string { return id + ".abc123.ap-northeast-1.rds.amazonaws.com" }

type fakeRDS struct {
	mu        sync.Mutex
	clock     *fakeClock
	dbs       map[string]*fakeDB
	snapshots []rdstypes.DBSnapshot
	polls     int // describes a restored instance takes to be available
	pitr      []*rds.RestoreDBInstanceToPointInTimeInput
	fromSnap  []*rds.RestoreDBInstanceFromDBSnapshotInput
	deleted   []*rds.DeleteDBInstanceInput
}

func newFakeRDS(c *fakeClock) *fakeRDS {
	return &fakeRDS{clock: c, polls: 4, dbs: map[string]*fakeDB{testDB: {status: "available",
		tags: map[string]string{"project": testProject, "stack": testStack}, latest: epoch.Add(-5 * time.Minute)}},
		snapshots: []rdstypes.DBSnapshot{
			{DBSnapshotIdentifier: aws.String("rds:" + testDB + "-2026-04-12-03-00"), SnapshotType: aws.String("automated"), Status: aws.String("available"), SnapshotCreateTime: aws.Time(epoch.Add(-7 * time.Hour))},
			{DBSnapshotIdentifier: aws.String("pre-upgrade"), SnapshotType: aws.String("manual"), Status: aws.String("available"), SnapshotCreateTime: aws.Time(epoch.Add(-2 * time.Hour))},
			{DBSnapshotIdentifier: aws.String("in-progress"), SnapshotType: aws.String("manual"), Status: aws.String("creating"), SnapshotCreateTime: aws.Time(epoch.Add(-time.Minute))},
		}}
}

func (f *fakeRDS) DescribeDBInstances(_ context.Context, in *rds.DescribeDBInstancesInput, _ ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.DBInstanceIdentifier)
	db := f.dbs[id]
	if db == nil {
		return nil, &rdstypes.DBInstanceNotFoundFault{Message: aws.String("DBInstance " + id + " not found")}
	}
	if db.status == "creating" && db.pollsLeft > 0 {
		if db.pollsLeft--; db.pollsLeft == 0 {
			db.status = "available"
		}
	}
	out := rdstypes.DBInstance{DBInstanceIdentifier: aws.String(id), DBInstanceStatus: aws.String(db.status), DBInstanceClass: aws.String("db.t4g.micro"),
		DBSubnetGroup:     &rdstypes.DBSubnetGroup{DBSubnetGroupName: aws.String("scalable-wordpress-dev-db-subnets")},
		VpcSecurityGroups: []rdstypes.VpcSecurityGroupMembership{{VpcSecurityGroupId: aws.String("sg-0db")}}}
	if !db.latest.IsZero() {
		out.LatestRestorableTime = aws.Time(db.latest)
	}
	if db.status == "available" {
		out.Endpoint = &rdstypes.Endpoint{Address: aws.String(endpoint(id)), Port: aws.Int32(3306)}
	}
	for k, v := range db.tags {
		out.TagList = append(out.TagList, rdstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &rds.DescribeDBInstancesOutput{DBInstances: []rdstypes.DBInstance{out}}, nil
}

func (f *fakeRDS) DescribeDBSnapshots(_ context.Context, in *rds.DescribeDBSnapshotsInput, _ ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error) {
	if aws.ToString(in.DBInstanceIdentifier) != testDB {
		return &rds.DescribeDBSnapshotsOutput{}, nil
	}
	return &rds.DescribeDBSnapshotsOutput{DBSnapshots: f.snapshots}, nil
}

func (f *fakeRDS) create(id string, tags []rdstypes.Tag) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dbs[id] != nil {
		return fmt.Errorf("DBInstanceAlreadyExists: %s", id)
	}
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	f.dbs[id] = &fakeDB{status: "creating", pollsLeft: f.polls, tags: m}
	return nil
}

func (f *fakeRDS) RestoreDBInstanceToPointInTime(_ context.Context, in *rds.RestoreDBInstanceToPointInTimeInput, _ ...func(*rds.Options)) (*rds.RestoreDBInstanceToPointInTimeOutput, error) {
	f.pitr = append(f.pitr, in)
	return &rds.RestoreDBInstanceToPointInTimeOutput{}, f.create(aws.ToString(in.TargetDBInstanceIdentifier), in.Tags)
}

func (f *fakeRDS) RestoreDBInstanceFromDBSnapshot(_ context.Context, in *rds.RestoreDBInstanceFromDBSnapshotInput, _ ...func(*rds.Options)) (*rds.RestoreDBInstanceFromDBSnapshotOutput, error) {
	f.fromSnap = append(f.fromSnap, in)
	return &rds.RestoreDBInstanceFromDBSnapshotOutput{}, f.create(aws.ToString(in.DBInstanceIdentifier), in.Tags)
}

func (f *fakeRDS) DeleteDBInstance(_ context.Context, in *rds.DeleteDBInstanceInput, _ ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, in)
	delete(f.dbs, aws.ToString(in.DBInstanceIdentifier))
	return &rds.DeleteDBInstanceOutput{}, nil
}

// fakeSSM is the settings parameter; a value written by pulumi up shows after switchAfter reads.
type fakeSSM struct {
	mu          sync.Mutex
	value       string
	next        string
	switchAfter int
	reads       int
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.Name) != testParam {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	f.reads++
	if f.next != "" {
		if f.switchAfter--; f.switchAfter <= 0 {
			f.value, f.next = f.next, ""
		}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(f.value)}}, nil
}

// world is a deployed stack: the fakes, the pulumi CLI and the site.
type world struct {
	t     *testing.T
	clock *fakeClock
	rds   *fakeRDS
	ssm   *fakeSSM
	site  *httptest.Server

	mu       sync.Mutex
	dbID     string          // output dbIdentifier
	serving  string          // the database the site serves from
	canaries map[string]bool // the databases that hold the canary post
	commands []string
	upSwitch bool // pulumi up restores (false: a release without dbRestore)
	config   map[string]string
}

func newWorld(t *testing.T) *world {
	c := &fakeClock{now: epoch}
	w := &world{t: t, clock: c, rds: newFakeRDS(c), ssm: &fakeSSM{value: endpoint(testDB), switchAfter: 3}, dbID: testDB, serving: testDB,
		canaries: map[string]bool{testDB: true, restoredDB: true}, upSwitch: true, config: map[string]string{}}
	w.site = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch {
		case r.URL.Path == "/":
			fmt.Fprintf(rw, "<html>WordPress on %s</html>", w.serving)
		case r.URL.Path == "/drill-canary/" && w.canaries[w.serving]:
			fmt.Fprint(rw, "<h1>Restore drill canary</h1>")
		default:
			http.NotFound(rw, r)
		}
	}))
	t.Cleanup(w.site.Close)
	return w
}

// run is the pulumi CLI.
func (w *world) run(_ context.Context, _, name string, args ...string) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cmd := name + " " + strings.Join(args, " ")
	w.commands = append(w.commands, cmd)
	switch {
	case strings.HasPrefix(cmd, "pulumi stack output --json"):
		return json.Marshal(map[string]any{"region": testRegion, "siteUrl": w.site.URL + "/", "dbIdentifier": w.dbID, "dbHostParameter": testParam})
	case strings.HasPrefix(cmd, "pulumi config set --path "):
		w.config[args[3]] = args[4]
		return nil, nil
	case strings.HasPrefix(cmd, "pulumi up --yes"):
		w.clock.advance(upTakes)
		if !w.upSwitch {
			return nil, nil
		}
		if w.config["dbRestore.id"] == "" || w.config["dbRestore.from"] == "" {
			return nil, fmt.Errorf("pulumi up without dbRestore set: %v", w.config)
		}
		w.rds.dbs[restoredDB] = &fakeDB{status: "available", tags: map[string]string{"project": testProject, "stack": testStack}}
		w.dbID = restoredDB
		w.ssm.next = endpoint(restoredDB)
		w.serving = restoredDB // the servers switch with the parameter; the site test is the point
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected command %s", cmd)
}

// main runs the command against the world.
func (w *world) main(args ...string) (int, string, *Report) {
	w.t.Helper()
	var out bytes.Buffer
	path := filepath.Join(w.t.TempDir(), "report.json")
	code := Main(context.Background(), append([]string{"--stack", testStack, "--project", testProject, "--report", path}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Run: w.run, HTTP: w.site.Client(), Clock: w.clock,
		AWS: func(_ context.Context, region string) (RDS, SSM, error) {
			if region != testRegion {
				return nil, nil, fmt.Errorf("wrong region %s", region)
			}
			return w.rds, w.ssm, nil
		},
	})
	var r *Report
	if b, err := os.ReadFile(path); err == nil {
		r = &Report{}
		if err := json.Unmarshal(b, r); err != nil {
			w.t.Fatalf("report: %v", err)
		}
	}
	return code, out.String(), r
}
