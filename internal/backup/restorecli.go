package backup

// The restore command (`go run ./cmd/backup restore --stack S --recovery-point ARN`): one
// recovery point of the stack's uploads restored into a new file system, which the command
// names; the stack and its serving file system are left as they are.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/example/scalable-wordpress/internal/stack"
)

// DefaultRestoreTimeout bounds the wait: AWS Backup restores EFS at some hundreds of MB a
// minute, and a few GB of media in well under an hour. A restore that outruns it goes on.
const DefaultRestoreTimeout = 2 * time.Hour

// recoveryPointRe is an AWS Backup recovery point's ARN (an EFS backup's: a UUID).
var recoveryPointRe = regexp.MustCompile(`^arn:aws[a-z-]*:backup:([a-z0-9-]+):\d{12}:recovery-point:[A-Za-z0-9-]{1,100}$`)

// restoreMain runs `backup restore` with args and returns the exit code.
func restoreMain(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("backup restore", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		stackRef, dir, point, vault string
		timeout, poll               time.Duration
	)
	fs.StringVar(&stackRef, "stack", "", "Pulumi stack whose uploads to restore (required; its outputs name the backup role and the region)")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&point, "recovery-point", "", "ARN of the AWS Backup recovery point of the uploads to restore (required; aws backup list-recovery-points-by-resource)")
	fs.StringVar(&vault, "vault", DefaultVault, "AWS Backup vault that holds the recovery point")
	fs.DurationVar(&timeout, "timeout", DefaultRestoreTimeout, "how long to wait for the restore job to complete")
	fs.DurationVar(&poll, "poll", 30*time.Second, "time between two looks at the job")
	if err := fs.Parse(args); err != nil {
		return ExitCouldNot
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "backup restore: "+format+"\n", a...)
		return ExitCouldNot
	}
	m := recoveryPointRe.FindStringSubmatch(point)
	switch {
	case fs.NArg() > 0:
		return fail("unexpected arguments %q", fs.Args())
	case stackRef == "":
		return fail("pass --stack: the stack whose uploads to restore")
	case point == "":
		return fail("pass --recovery-point: the ARN of the uploads' recovery point (aws backup list-recovery-points-by-resource --resource-arn <uploadsFileSystemArn>)")
	case m == nil:
		return fail("--recovery-point %q: not an AWS Backup recovery point ARN (arn:aws:backup:<region>:<account>:recovery-point:<id>)", point)
	case timeout <= 0 || poll <= 0:
		return fail("--timeout and --poll must be positive")
	}
	var o stack.Outputs
	if err := stack.Read(ctx, env.Run, dir, stackRef, &o); err != nil {
		return fail("%v", err)
	}
	switch {
	case o.Region == "":
		return fail("stack %s exports no outputs (never deployed, or destroyed): restore into a deployed stack", stackRef)
	case o.UploadsBackupRoleARN == "":
		return fail("stack %s exports no %s (deployed before the final backup existed): run pulumi up on it first, so that it has the backup role",
			stackRef, stack.KeyUploadsBackupRole)
	case m[1] != o.Region:
		return fail("--recovery-point is in %s and stack %s in %s: copy the recovery point to %s first (aws backup start-copy-job), then restore the copy",
			m[1], stackRef, o.Region, o.Region)
	}
	client, err := env.AWS(ctx, o.Region)
	if err != nil {
		return fail("AWS configuration for %s: %v", o.Region, err)
	}
	token := "uploads-restore-" + env.Clock.Now().UTC().Format("20060102t150405z")
	r := Runner{Backup: client, Clock: env.Clock, Out: env.Stdout}
	res, err := r.Restore(ctx, Restore{RecoveryPointARN: point, Vault: vault, RoleARN: o.UploadsBackupRoleARN, CreationToken: token, Timeout: timeout, Poll: poll})
	switch {
	case errors.Is(err, ErrRestoreTimedOut):
		fmt.Fprintf(env.Stderr, "backup restore: %v\n", err)
		return ExitTimedOut
	case err != nil && res.JobID == "":
		return fail("%v", err)
	case err != nil:
		fmt.Fprintf(env.Stderr, "backup restore: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "restore job %s COMPLETED: new file system %s (%s), creation token %s\n", res.JobID, res.FileSystemID, res.FileSystemARN, token)
	fmt.Fprintf(env.Stdout, "%s\n", strings.Join([]string{
		"the stack still serves its file system " + o.UploadsFileSystemID + ": nothing of the stack changed.",
		"The new file system " + res.FileSystemID + " holds the restored files; it is not in the stack, has no mount target",
		"and is billed until you delete it (docs/operations.md#restoring-the-uploads).",
	}, "\n"))
	return ExitOK
}
