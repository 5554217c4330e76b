package backup

// The uploads' restore (`go run ./cmd/backup restore --stack S --recovery-point ARN`): an AWS
// Backup restore job of one recovery point of the uploads into a NEW file system, encrypted,
// in general-purpose mode like the stack's, keeping the directory layout (the access point's
// /uploads is where it was). AWS Backup restores EFS either into the same file system, under
// an aws-backup-restore_<time> folder at its root, or into a new one: the servers mount through
// the access point rooted at /uploads and may not use root access, so they would never see
// the first; the second is a whole file system the stack can hand them. The command only
// creates it: the serving file system is not touched, and nothing of the stack changes.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbackup "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

// Restore is one restore of a recovery point into a new file system.
type Restore struct {
	RecoveryPointARN string
	Vault            string // the vault that holds it
	RoleARN          string // the stack's backup role (output uploadsBackupRoleArn)
	// CreationToken makes the new file system's creation idempotent, and names it in EFS.
	CreationToken string
	Timeout       time.Duration // how long to wait for COMPLETED
	Poll          time.Duration // between two looks at the job
}

// RestoreResult is the job's ID, its last state and, once it completed, the new file system.
type RestoreResult struct {
	JobID         string
	State         types.RestoreJobStatus
	FileSystemARN string
	FileSystemID  string
	// SourceFileSystemID is the file system the recovery point is a backup of.
	SourceFileSystemID string
}

// restoreMetadata is what AWS Backup's EFS restore takes: the backed-up file system's ID (from
// the recovery point's own metadata), and a new file system, encrypted (with EFS's AWS-managed
// key, as the stack's), general purpose, named by the creation token.
func restoreMetadata(r Restore, source string) map[string]string {
	return map[string]string{
		"file-system-id":  source,
		"newFileSystem":   "true",
		"Encrypted":       "true",
		"PerformanceMode": "generalPurpose",
		"CreationToken":   r.CreationToken,
	}
}

// ErrRestoreTimedOut is a restore job still running when the wait ends.
var ErrRestoreTimedOut = errors.New("restore job did not complete in time")

// Restore starts the restore job and waits until it ends. The error is ErrRestoreTimedOut
// (wrapped) when the job outran r.Timeout (it goes on in AWS), or says why it failed.
func (r *Runner) Restore(ctx context.Context, j Restore) (RestoreResult, error) {
	var res RestoreResult
	meta, err := r.Backup.GetRecoveryPointRestoreMetadata(ctx, &awsbackup.GetRecoveryPointRestoreMetadataInput{
		BackupVaultName: aws.String(j.Vault), RecoveryPointArn: aws.String(j.RecoveryPointARN),
	})
	if err != nil {
		return res, fmt.Errorf("read recovery point %s in vault %s: %w", j.RecoveryPointARN, j.Vault, err)
	}
	res.SourceFileSystemID = meta.RestoreMetadata["file-system-id"]
	if t := aws.ToString(meta.ResourceType); t != "EFS" || res.SourceFileSystemID == "" {
		return res, fmt.Errorf("recovery point %s is a backup of %s %q, not of an EFS file system: pass one of the uploads'", j.RecoveryPointARN, t, res.SourceFileSystemID)
	}
	start, err := r.Backup.StartRestoreJob(ctx, &awsbackup.StartRestoreJobInput{
		RecoveryPointArn: aws.String(j.RecoveryPointARN),
		IamRoleArn:       aws.String(j.RoleARN),
		ResourceType:     aws.String("EFS"),
		Metadata:         restoreMetadata(j, res.SourceFileSystemID),
		IdempotencyToken: aws.String(j.CreationToken),
		// The project's tags come with it, so that the deploy role may manage it (its
		// EFS rights are on the project's tagged file systems).
		CopySourceTagsToRestoredResource: true,
	})
	if err != nil {
		return res, fmt.Errorf("start the restore of %s: %w", j.RecoveryPointARN, err)
	}
	res.JobID = aws.ToString(start.RestoreJobId)
	fmt.Fprintf(r.Out, "restore job %s: %s (a backup of %s) into a new file system (creation token %s)\n", res.JobID, j.RecoveryPointARN, res.SourceFileSystemID, j.CreationToken)
	deadline := r.Clock.Now().Add(j.Timeout)
	for {
		d, err := r.Backup.DescribeRestoreJob(ctx, &awsbackup.DescribeRestoreJobInput{RestoreJobId: aws.String(res.JobID)})
		if err != nil {
			return res, fmt.Errorf("follow restore job %s: %w", res.JobID, err)
		}
		res.State = d.Status
		switch d.Status {
		case types.RestoreJobStatusCompleted:
			res.FileSystemARN = aws.ToString(d.CreatedResourceArn)
			id, ok := fileSystemID(res.FileSystemARN)
			if !ok {
				return res, fmt.Errorf("restore job %s COMPLETED but names no EFS file system (created resource %q)", res.JobID, res.FileSystemARN)
			}
			res.FileSystemID = id
			return res, nil
		case types.RestoreJobStatusFailed, types.RestoreJobStatusAborted:
			return res, fmt.Errorf("restore job %s ended %s: %s", res.JobID, d.Status, aws.ToString(d.StatusMessage))
		}
		fmt.Fprintf(r.Out, "  %s %s%%\n", d.Status, aws.ToString(d.PercentDone))
		if !r.Clock.Now().Add(j.Poll).Before(deadline) {
			return res, fmt.Errorf("%w: job %s is %s after %s (it goes on in AWS Backup: follow it with aws backup describe-restore-job --restore-job-id %s)",
				ErrRestoreTimedOut, res.JobID, d.Status, j.Timeout, res.JobID)
		}
		if err := r.Clock.Sleep(ctx, j.Poll); err != nil {
			return res, err
		}
	}
}

// fileSystemID is the ID at the end of an EFS file system's ARN.
func fileSystemID(arn string) (string, bool) {
	_, id, ok := strings.Cut(arn, ":file-system/")
	if !ok || !strings.HasPrefix(id, "fs-") || !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":elasticfilesystem:") {
		return "", false
	}
	return id, true
}
