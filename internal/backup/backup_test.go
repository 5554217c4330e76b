package backup

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbackup "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

const (
	fsARN    = "arn:aws:elasticfilesystem:ap-northeast-1:123456789012:file-system/fs-0123456789abcdef0"
	roleARN  = "arn:aws:iam::123456789012:role/uploads-backup-role-abc123"
	pointARN = "arn:aws:backup:ap-northeast-1:123456789012:recovery-point:0a1b2c3d-4e5f"
	stackRef = "org/scalable-wordpress/prod"
)

// virtualClock advances only when the code sleeps.
type virtualClock struct{ now time.Time }

func (c *virtualClock) Now() time.Time { return c.now }
func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// fakeBackup is AWS Backup running one job through states, one per look.
type fakeBackup struct {
	states   []types.BackupJobState // the job's state at each DescribeBackupJob; the last repeats
	message  string
	startErr error
	started  *awsbackup.StartBackupJobInput
	looks    int
}

func (f *fakeBackup) StartBackupJob(_ context.Context, in *awsbackup.StartBackupJobInput, _ ...func(*awsbackup.Options)) (*awsbackup.StartBackupJobOutput, error) {
	if f.startErr != nil {
		return nil, f.startErr
	}
	f.started = in
	return &awsbackup.StartBackupJobOutput{BackupJobId: aws.String("job-1"), RecoveryPointArn: aws.String(pointARN)}, nil
}

func (f *fakeBackup) DescribeBackupJob(_ context.Context, in *awsbackup.DescribeBackupJobInput, _ ...func(*awsbackup.Options)) (*awsbackup.DescribeBackupJobOutput, error) {
	if aws.ToString(in.BackupJobId) != "job-1" {
		return nil, errors.New("no such job " + aws.ToString(in.BackupJobId))
	}
	s := f.states[min(f.looks, len(f.states)-1)]
	f.looks++
	out := &awsbackup.DescribeBackupJobOutput{BackupJobId: in.BackupJobId, State: s, PercentDone: aws.String("50.0")}
	if s == types.BackupJobStateCompleted {
		out.RecoveryPointArn = aws.String(pointARN)
	}
	if s == types.BackupJobStateFailed {
		out.StatusMessage = aws.String(f.message)
	}
	return out, nil
}

// The backup command never restores.
func (f *fakeBackup) GetRecoveryPointRestoreMetadata(context.Context, *awsbackup.GetRecoveryPointRestoreMetadataInput, ...func(*awsbackup.Options)) (*awsbackup.GetRecoveryPointRestoreMetadataOutput, error) {
	return nil, errors.New("the backup command read a recovery point")
}

func (f *fakeBackup) StartRestoreJob(context.Context, *awsbackup.StartRestoreJobInput, ...func(*awsbackup.Options)) (*awsbackup.StartRestoreJobOutput, error) {
	return nil, errors.New("the backup command started a restore job")
}

func (f *fakeBackup) DescribeRestoreJob(context.Context, *awsbackup.DescribeRestoreJobInput, ...func(*awsbackup.Options)) (*awsbackup.DescribeRestoreJobOutput, error) {
	return nil, errors.New("the backup command followed a restore job")
}

// deployed is a deployed, non-ephemeral stack's outputs as far as the command reads them.
const deployed = `{"region":"ap-northeast-1","ephemeral":false,"uploadsFileSystemId":"fs-0123456789abcdef0","uploadsFileSystemArn":"` + fsARN + `","uploadsBackupRoleArn":"` + roleARN + `"}`

func runBackup(t *testing.T, f *fakeBackup, outputs string, args ...string) (int, string, *virtualClock) {
	t.Helper()
	var out bytes.Buffer
	clk := &virtualClock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	code := Main(context.Background(), append([]string{"--stack", stackRef}, args...), Env{
		Stdout: &out, Stderr: &out, Clock: clk,
		Run: func(_ context.Context, _, name string, a ...string) ([]byte, error) {
			if name != "pulumi" || strings.Join(a, " ") != "stack output --json --stack "+stackRef {
				return nil, errors.New("unexpected command " + strings.Join(a, " "))
			}
			if outputs == "" {
				return nil, errors.New("no stack " + stackRef)
			}
			return []byte(outputs), nil
		},
		AWS: func(_ context.Context, region string) (Backup, error) {
			if region != "ap-northeast-1" {
				return nil, errors.New("wrong region " + region)
			}
			return f, nil
		},
	})
	return code, out.String(), clk
}

func TestBackupCommand(t *testing.T) {
	running := []types.BackupJobState{types.BackupJobStateCreated, types.BackupJobStateRunning}
	for _, c := range []struct {
		name     string
		fake     *fakeBackup
		outputs  string
		args     []string
		code     int
		says     []string
		started  bool
		maxWaits time.Duration // the virtual time the command may have waited
	}{
		{name: "completes: prints the recovery point", fake: &fakeBackup{states: append(running, types.BackupJobStateCompleted)}, outputs: deployed,
			code: ExitOK, says: []string{"backup job job-1 COMPLETED: recovery point " + pointARN, "vault aws/efs/automatic-backup-vault", "kept 35 days"}, started: true, maxWaits: time.Minute},
		{name: "fails", fake: &fakeBackup{states: append(running, types.BackupJobStateFailed), message: "Access denied to the file system"}, outputs: deployed,
			code: ExitFailed, says: []string{"job-1 ended FAILED: Access denied to the file system"}, started: true, maxWaits: time.Minute},
		{name: "aborted", fake: &fakeBackup{states: []types.BackupJobState{types.BackupJobStateAborted}}, outputs: deployed,
			code: ExitFailed, says: []string{"ended ABORTED"}, started: true},
		{name: "times out", fake: &fakeBackup{states: running}, outputs: deployed, args: []string{"--timeout", "10m", "--poll", "1m"},
			code: ExitTimedOut, says: []string{"did not complete in time", "job-1 is RUNNING after 10m0s"}, started: true, maxWaits: 10 * time.Minute},
		{name: "cannot start", fake: &fakeBackup{startErr: errors.New("AccessDeniedException: iam:PassRole")}, outputs: deployed,
			code: ExitCouldNot, says: []string{"start the backup of " + fsARN, "iam:PassRole"}},
		{name: "another vault and retention", fake: &fakeBackup{states: []types.BackupJobState{types.BackupJobStateCompleted}}, outputs: deployed,
			args: []string{"--vault", "uploads-final", "--keep-days", "90"}, code: ExitOK, says: []string{"vault uploads-final, kept 90 days"}, started: true},
		{name: "an ephemeral stack needs none", fake: &fakeBackup{}, outputs: `{"region":"ap-northeast-1","ephemeral":true,"uploadsFileSystemArn":"` + fsARN + `","uploadsBackupRoleArn":"` + roleARN + `"}`,
			code: ExitOK, says: []string{"is ephemeral", "no final backup"}},
		{name: "a destroyed stack has nothing", fake: &fakeBackup{}, outputs: `{}`, code: ExitOK, says: []string{"no uploads to back up"}},
		{name: "deployed before the backup role", fake: &fakeBackup{}, outputs: `{"region":"ap-northeast-1","uploadsFileSystemId":"fs-0123456789abcdef0"}`,
			code: ExitCouldNot, says: []string{"uploadsBackupRoleArn", "run pulumi up on it first"}},
		{name: "outputs unreadable", fake: &fakeBackup{}, outputs: "", code: ExitCouldNot, says: []string{"no stack " + stackRef}},
		{name: "no stack", fake: &fakeBackup{}, outputs: deployed, args: []string{"--stack", ""}, code: ExitCouldNot, says: []string{"pass --stack"}},
		{name: "stray arguments", fake: &fakeBackup{}, outputs: deployed, args: []string{"now"}, code: ExitCouldNot, says: []string{"unexpected arguments"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, clk := runBackup(t, c.fake, c.outputs, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, s := range c.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			if (c.fake.started != nil) != c.started {
				t.Fatalf("a backup job was started: %v, want %v", c.fake.started != nil, c.started)
			}
			if waited := clk.now.Sub(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)); waited > c.maxWaits {
				t.Errorf("waited %s, at most %s", waited, c.maxWaits)
			}
			if in := c.fake.started; in != nil {
				if aws.ToString(in.ResourceArn) != fsARN || aws.ToString(in.IamRoleArn) != roleARN {
					t.Errorf("started a backup of %s as %s, want the stack's file system as its backup role", aws.ToString(in.ResourceArn), aws.ToString(in.IamRoleArn))
				}
				if in.Lifecycle == nil || aws.ToInt64(in.Lifecycle.DeleteAfterDays) < 1 {
					t.Errorf("the recovery point has no expiry: %+v", in.Lifecycle)
				}
			}
		})
	}
}
