// Package backup takes the final backup of a stack's uploads before it is destroyed: an AWS
// Backup on-demand job of the uploads file system (output uploadsFileSystemArn), run as the
// role the program made for it (output uploadsBackupRoleArn, which may back up that file
// system only), into the vault where EFS's automatic backups go
// (aws/efs/automatic-backup-vault), kept KeepDays. It waits, bounded, until the job has
// COMPLETED and names the recovery point; anything else is a failure, so that the destroy
// workflow stops before the file system and its media are deleted.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbackup "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/pipeline"
)

// Backup is the AWS Backup calls the command makes: start a backup or a restore job, and
// follow it.
type Backup interface {
	StartBackupJob(ctx context.Context, in *awsbackup.StartBackupJobInput, optFns ...func(*awsbackup.Options)) (*awsbackup.StartBackupJobOutput, error)
	DescribeBackupJob(ctx context.Context, in *awsbackup.DescribeBackupJobInput, optFns ...func(*awsbackup.Options)) (*awsbackup.DescribeBackupJobOutput, error)
	GetRecoveryPointRestoreMetadata(ctx context.Context, in *awsbackup.GetRecoveryPointRestoreMetadataInput, optFns ...func(*awsbackup.Options)) (*awsbackup.GetRecoveryPointRestoreMetadataOutput, error)
	StartRestoreJob(ctx context.Context, in *awsbackup.StartRestoreJobInput, optFns ...func(*awsbackup.Options)) (*awsbackup.StartRestoreJobOutput, error)
	DescribeRestoreJob(ctx context.Context, in *awsbackup.DescribeRestoreJobInput, optFns ...func(*awsbackup.Options)) (*awsbackup.DescribeRestoreJobOutput, error)
}

// DefaultVault is where EFS's automatic backups go (uploadsBackup): the final backup joins
// them, so one vault holds every recovery point of the uploads.
// The pipeline's deploy role may start a job into this vault only (internal/pipeline).
const DefaultVault = pipeline.UploadsBackupVault

// DefaultKeepDays is how long the final recovery point is kept: as long as the daily ones.
const DefaultKeepDays = 35

// Job is one on-demand backup to take.
type Job struct {
	FileSystemARN string
	RoleARN       string
	Vault         string
	KeepDays      int
	Timeout       time.Duration // how long to wait for COMPLETED
	Poll          time.Duration // between two looks at the job
}

// ErrTimedOut is a job still running when the wait ends.
var ErrTimedOut = errors.New("backup job did not complete in time")

// Result is the job's ID, its last state and, once it completed, its recovery point.
type Result struct {
	JobID         string
	State         types.BackupJobState
	RecoveryPoint string
}

// Runner starts and follows backup jobs.
type Runner struct {
	Backup Backup
	Clock  clock.Clock
	Out    io.Writer
}

// Run starts the job and waits until it ends. The error is ErrTimedOut (wrapped) when the job
// outran j.Timeout (it goes on in AWS), or says why it failed.
func (r *Runner) Run(ctx context.Context, j Job) (Result, error) {
	var res Result
	start, err := r.Backup.StartBackupJob(ctx, &awsbackup.StartBackupJobInput{
		BackupVaultName: aws.String(j.Vault),
		ResourceArn:     aws.String(j.FileSystemARN),
		IamRoleArn:      aws.String(j.RoleARN),
		Lifecycle:       &types.Lifecycle{DeleteAfterDays: aws.Int64(int64(j.KeepDays))},
	})
	if err != nil {
		return res, fmt.Errorf("start the backup of %s into vault %s: %w", j.FileSystemARN, j.Vault, err)
	}
	res.JobID = aws.ToString(start.BackupJobId)
	res.RecoveryPoint = aws.ToString(start.RecoveryPointArn)
	fmt.Fprintf(r.Out, "backup job %s: %s into vault %s, kept %d days\n", res.JobID, j.FileSystemARN, j.Vault, j.KeepDays)
	deadline := r.Clock.Now().Add(j.Timeout)
	for {
		d, err := r.Backup.DescribeBackupJob(ctx, &awsbackup.DescribeBackupJobInput{BackupJobId: aws.String(res.JobID)})
		if err != nil {
			return res, fmt.Errorf("follow backup job %s: %w", res.JobID, err)
		}
		res.State = d.State
		if p := aws.ToString(d.RecoveryPointArn); p != "" {
			res.RecoveryPoint = p
		}
		switch d.State {
		case types.BackupJobStateCompleted:
			return res, nil
		case types.BackupJobStateFailed, types.BackupJobStateAborted, types.BackupJobStateExpired, types.BackupJobStatePartial:
			return res, fmt.Errorf("backup job %s ended %s: %s", res.JobID, d.State, aws.ToString(d.StatusMessage))
		}
		fmt.Fprintf(r.Out, "  %s %s%%\n", d.State, aws.ToString(d.PercentDone))
		if !r.Clock.Now().Add(j.Poll).Before(deadline) {
			return res, fmt.Errorf("%w: job %s is %s after %s (it goes on in AWS Backup)", ErrTimedOut, res.JobID, d.State, j.Timeout)
		}
		if err := r.Clock.Sleep(ctx, j.Poll); err != nil {
			return res, err
		}
	}
}
