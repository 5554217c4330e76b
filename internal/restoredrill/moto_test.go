package restoredrill

// The scratch mode against moto_server (RDS as moto implements it) on a loopback port:
// CreateDBInstance, then the drill's DescribeDBInstances, DescribeDBSnapshots,
// RestoreDBInstanceToPointInTime (and from a snapshot), the wait and DeleteDBInstance,
// checked against a second implementation of RDS's API. Without moto_server the test skips,
// except in CI (CI=true), where it fails.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/mototest"
)

// boundedClock is the wall clock with short sleeps: moto's restores are available at once,
// and the drill's loop stays bounded by its count whatever moto answers.
type boundedClock struct{ clock.Real }

func (boundedClock) Sleep(ctx context.Context, _ time.Duration) error {
	return clock.Real{}.Sleep(ctx, 50*time.Millisecond)
}

func TestScratchAgainstMoto(t *testing.T) {
	url := mototest.Start(t, "the restore drill's moto test")
	c := rds.New(rds.Options{Region: testRegion, BaseEndpoint: aws.String(url), Credentials: mototest.Credentials})
	ctx := context.Background()
	tags := []rdstypes.Tag{{Key: aws.String("project"), Value: aws.String(testProject)}, {Key: aws.String("stack"), Value: aws.String(testStack)}}
	if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(testDB), Engine: aws.String("mysql"),
		DBInstanceClass: aws.String("db.t4g.micro"), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password-123"),
		AllocatedStorage: aws.Int32(20), BackupRetentionPeriod: aws.Int32(7), VpcSecurityGroupIds: []string{"sg-0db"}, Tags: tags}); err != nil {
		t.Fatalf("create the stack's database: %v", err)
	}
	if _, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(testDB), DBSnapshotIdentifier: aws.String("manual-1")}); err != nil {
		t.Fatal(err)
	}

	drill := func(args ...string) (int, string, *Report) {
		t.Helper()
		var out bytes.Buffer
		path := filepath.Join(t.TempDir(), "report.json")
		outputs := fmt.Sprintf(`{"region":%q,"dbIdentifier":%q}`, testRegion, testDB)
		code := Main(ctx, append([]string{"--stack", testStack, "--project", testProject, "--report", path, "--yes", "--scratch",
			"--interval", "1s", "--timeout", "1m"}, args...), Env{
			Stdout: &out, Stderr: &out, Clock: boundedClock{}, HTTP: http.DefaultClient,
			Run: func(context.Context, string, string, ...string) ([]byte, error) { return []byte(outputs), nil },
			AWS: func(_ context.Context, region string) (RDS, SSM, error) {
				if region != testRegion {
					return nil, nil, errors.New("wrong region " + region)
				}
				return c, nil, nil
			},
		})
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("no report: %v\n%s", err, out.String())
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return code, out.String(), &r
	}
	gone := func(id string) bool {
		_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		var nf *rdstypes.DBInstanceNotFoundFault
		return errors.As(err, &nf)
	}

	code, out, r := drill("--label", "pitr")
	if code != ExitPassed {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if r.Restored != testDB+"-pitr" || r.Endpoint == "" || r.LatestRestorable == "" || r.NewestSnapshot == "" || !strings.HasPrefix(r.Cleanup, "deleting") {
		t.Errorf("report %+v\n%s", r, out)
	}
	if !gone(r.Restored) || gone(testDB) {
		t.Errorf("after the drill: scratch gone %v, the stack's database gone %v", gone(r.Restored), gone(testDB))
	}

	code, out, r = drill("--label", "snap", "--from", "snapshot:manual-1")
	if code != ExitPassed || r.From != "snapshot:manual-1" || !gone(testDB+"-snap") {
		t.Fatalf("exit %d, report %+v:\n%s", code, r, out)
	}
}
