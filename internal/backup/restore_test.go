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

const newFSARN = "arn:aws:elasticfilesystem:ap-northeast-1:123456789012:file-system/fs-0fedcba9876543210"

// fakeRestore is AWS Backup running one restore job through states, one per look.
type fakeRestore struct {
	fakeBackup
	states   []types.RestoreJobStatus // the job's state at each DescribeRestoreJob; the last repeats
	created  string                   // the created resource once COMPLETED; newFSARN when ""
	message  string
	startErr error
	started  *awsbackup.StartRestoreJobInput
	looks    int
	kind     string // the recovery point's resource type; "EFS" when ""
	vault    string // the vault the metadata was read from
}

func (f *fakeRestore) GetRecoveryPointRestoreMetadata(_ context.Context, in *awsbackup.GetRecoveryPointRestoreMetadataInput, _ ...func(*awsbackup.Options)) (*awsbackup.GetRecoveryPointRestoreMetadataOutput, error) {
	if aws.ToString(in.RecoveryPointArn) != pointARN {
		return nil, errors.New("ResourceNotFoundException: " + aws.ToString(in.RecoveryPointArn))
	}
	f.vault = aws.ToString(in.BackupVaultName)
	if f.kind != "" {
		return &awsbackup.GetRecoveryPointRestoreMetadataOutput{ResourceType: aws.String(f.kind), RestoreMetadata: map[string]string{"DBInstanceIdentifier": "db"}}, nil
	}
	return &awsbackup.GetRecoveryPointRestoreMetadataOutput{ResourceType: aws.String("EFS"),
		RestoreMetadata: map[string]string{"file-system-id": "fs-0aaaabbbbccccdddd", "PerformanceMode": "maxIO", "newFileSystem": "false"}}, nil
}

func (f *fakeRestore) StartRestoreJob(_ context.Context, in *awsbackup.StartRestoreJobInput, _ ...func(*awsbackup.Options)) (*awsbackup.StartRestoreJobOutput, error) {
	if f.startErr != nil {
		return nil, f.startErr
	}
	f.started = in
	return &awsbackup.StartRestoreJobOutput{RestoreJobId: aws.String("restore-1")}, nil
}

func (f *fakeRestore) DescribeRestoreJob(_ context.Context, in *awsbackup.DescribeRestoreJobInput, _ ...func(*awsbackup.Options)) (*awsbackup.DescribeRestoreJobOutput, error) {
	if aws.ToString(in.RestoreJobId) != "restore-1" {
		return nil, errors.New("no such job " + aws.ToString(in.RestoreJobId))
	}
	s := f.states[min(f.looks, len(f.states)-1)]
	f.looks++
	out := &awsbackup.DescribeRestoreJobOutput{RestoreJobId: in.RestoreJobId, Status: s, PercentDone: aws.String("40.0")}
	switch s {
	case types.RestoreJobStatusCompleted:
		out.CreatedResourceArn = aws.String(newFSARN)
		if f.created != "" {
			out.CreatedResourceArn = aws.String(f.created)
		}
	case types.RestoreJobStatusFailed:
		out.StatusMessage = aws.String(f.message)
	}
	return out, nil
}

func runRestore(t *testing.T, f *fakeRestore, outputs string, args ...string) (int, string, time.Duration) {
	t.Helper()
	var out bytes.Buffer
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	clk := &virtualClock{now: t0}
	code := Main(context.Background(), append([]string{"restore", "--stack", stackRef}, args...), Env{
		Stdout: &out, Stderr: &out, Clock: clk,
		Run: func(_ context.Context, _, name string, a ...string) ([]byte, error) {
			if name != "pulumi" || strings.Join(a, " ") != "stack output --json --stack "+stackRef {
				return nil, errors.New("unexpected command " + strings.Join(a, " "))
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
	return code, out.String(), clk.now.Sub(t0)
}

func TestRestoreCommand(t *testing.T) {
	running := []types.RestoreJobStatus{types.RestoreJobStatusPending, types.RestoreJobStatusRunning}
	point := []string{"--recovery-point", pointARN}
	for _, c := range []struct {
		name     string
		fake     *fakeRestore
		outputs  string
		args     []string
		code     int
		says     []string
		started  bool
		maxWaits time.Duration
	}{
		{name: "completes: prints the new file system", fake: &fakeRestore{states: append(running, types.RestoreJobStatusCompleted)}, outputs: deployed, args: point,
			code: ExitOK, says: []string{"restore job restore-1 COMPLETED: new file system fs-0fedcba9876543210 (" + newFSARN + ")",
				"creation token uploads-restore-20261204t100000z", "still serves its file system fs-0123456789abcdef0"}, started: true, maxWaits: time.Minute},
		{name: "fails", fake: &fakeRestore{states: append(running, types.RestoreJobStatusFailed), message: "Access denied: elasticfilesystem:CreateFilesystem"}, outputs: deployed, args: point,
			code: ExitFailed, says: []string{"restore-1 ended FAILED: Access denied: elasticfilesystem:CreateFilesystem"}, started: true, maxWaits: time.Minute},
		{name: "aborted", fake: &fakeRestore{states: []types.RestoreJobStatus{types.RestoreJobStatusAborted}}, outputs: deployed, args: point,
			code: ExitFailed, says: []string{"ended ABORTED"}, started: true},
		{name: "completed without a file system", fake: &fakeRestore{states: []types.RestoreJobStatus{types.RestoreJobStatusCompleted}, created: "arn:aws:s3:::bucket"}, outputs: deployed, args: point,
			code: ExitFailed, says: []string{"names no EFS file system"}, started: true},
		{name: "times out", fake: &fakeRestore{states: running}, outputs: deployed, args: append([]string{"--timeout", "10m", "--poll", "1m"}, point...),
			code: ExitTimedOut, says: []string{"restore job did not complete in time", "restore-1 is RUNNING after 10m0s", "describe-restore-job --restore-job-id restore-1"}, started: true, maxWaits: 10 * time.Minute},
		{name: "cannot start", fake: &fakeRestore{startErr: errors.New("AccessDeniedException: iam:PassRole")}, outputs: deployed, args: point,
			code: ExitCouldNot, says: []string{"start the restore of " + pointARN, "iam:PassRole"}},
		{name: "not an EFS recovery point", fake: &fakeRestore{kind: "RDS"}, outputs: deployed, args: point,
			code: ExitCouldNot, says: []string{"a backup of RDS", "not of an EFS file system"}},
		{name: "another vault", fake: &fakeRestore{states: []types.RestoreJobStatus{types.RestoreJobStatusCompleted}}, outputs: deployed, args: append([]string{"--vault", "uploads-final"}, point...),
			code: ExitOK, says: []string{"a backup of fs-0aaaabbbbccccdddd", "COMPLETED"}, started: true},
		{name: "no recovery point", fake: &fakeRestore{}, outputs: deployed, code: ExitCouldNot, says: []string{"pass --recovery-point"}},
		{name: "not a recovery point", fake: &fakeRestore{}, outputs: deployed, args: []string{"--recovery-point", fsARN}, code: ExitCouldNot, says: []string{"not an AWS Backup recovery point ARN"}},
		{name: "another region's recovery point", fake: &fakeRestore{}, outputs: deployed,
			args: []string{"--recovery-point", "arn:aws:backup:us-east-1:123456789012:recovery-point:0a1b2c3d-4e5f"}, code: ExitCouldNot, says: []string{"is in us-east-1", "start-copy-job"}},
		{name: "a destroyed stack", fake: &fakeRestore{}, outputs: `{}`, args: point, code: ExitCouldNot, says: []string{"exports no outputs"}},
		{name: "deployed before the backup role", fake: &fakeRestore{}, outputs: `{"region":"ap-northeast-1","uploadsFileSystemId":"fs-0123456789abcdef0"}`, args: point,
			code: ExitCouldNot, says: []string{"uploadsBackupRoleArn", "run pulumi up on it first"}},
		{name: "stray arguments", fake: &fakeRestore{}, outputs: deployed, args: append(point, "now"), code: ExitCouldNot, says: []string{"unexpected arguments"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, waited := runRestore(t, c.fake, c.outputs, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, s := range c.says {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			if (c.fake.started != nil) != c.started {
				t.Fatalf("a restore job was started: %v, want %v", c.fake.started != nil, c.started)
			}
			if c.fake.fakeBackup.started != nil {
				t.Errorf("restore started a backup job")
			}
			if waited > c.maxWaits {
				t.Errorf("waited %s, at most %s", waited, c.maxWaits)
			}
			in := c.fake.started
			if in == nil {
				return
			}
			if aws.ToString(in.RecoveryPointArn) != pointARN || aws.ToString(in.IamRoleArn) != roleARN || aws.ToString(in.ResourceType) != "EFS" {
				t.Errorf("restored %s as %s (%s), want the recovery point as the stack's backup role (EFS)", aws.ToString(in.RecoveryPointArn), aws.ToString(in.IamRoleArn), aws.ToString(in.ResourceType))
			}
			if wantVault := DefaultVault; !strings.Contains(strings.Join(c.args, " "), "--vault") && c.fake.vault != wantVault {
				t.Errorf("read the recovery point in vault %q, want %q", c.fake.vault, wantVault)
			}
			want := map[string]string{"file-system-id": "fs-0aaaabbbbccccdddd", "newFileSystem": "true", "Encrypted": "true", "PerformanceMode": "generalPurpose", "CreationToken": "uploads-restore-20261204t100000z"}
			if len(in.Metadata) != len(want) {
				t.Errorf("metadata %v, want %v", in.Metadata, want)
			}
			for k, v := range want {
				if in.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q (a new, encrypted file system, never the serving one)", k, in.Metadata[k], v)
				}
			}
			if !in.CopySourceTagsToRestoredResource {
				t.Errorf("the restored file system does not get the project's tags")
			}
		})
	}
}
