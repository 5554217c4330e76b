package backup

// The backup command (`go run ./cmd/backup --stack S`): the uploads' final backup, which the
// destroy workflow takes before `pulumi destroy` deletes the file system. `backup restore`
// (restorecli.go) restores a recovery point of the uploads into a new file system.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Exit codes: the backup completed (or the stack needs none); the job failed; the command
// could not run; the job outran --timeout.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitCouldNot = 2
	ExitTimedOut = 5
)

// DefaultTimeout bounds the wait: an uploads library of a few GB backs up in minutes, and the
// destroy job's session (an hour) must still hold the destroy after it.
const DefaultTimeout = 40 * time.Minute

// Env is everything the command needs from the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Run            stack.Runner
	AWS            func(ctx context.Context, region string) (Backup, error)
	Clock          clock.Clock
}

// Main runs the command with args and returns the exit code; args starting with "restore"
// run the restore.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && args[0] == "restore" {
		return restoreMain(ctx, args[1:], env)
	}
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		stackRef, dir, vault string
		keepDays             int
		timeout, poll        time.Duration
	)
	fs.StringVar(&stackRef, "stack", "", "Pulumi stack whose uploads to back up (required; its outputs name the file system, the role and the region)")
	fs.StringVar(&dir, "cwd", ".", "project folder (holds Pulumi.yaml)")
	fs.StringVar(&vault, "vault", DefaultVault, "AWS Backup vault the recovery point goes to (EFS's automatic backups create the default one; with uploadsBackup false name one that exists)")
	fs.IntVar(&keepDays, "keep-days", DefaultKeepDays, "days the recovery point is kept")
	fs.DurationVar(&timeout, "timeout", DefaultTimeout, "how long to wait for the job to complete")
	fs.DurationVar(&poll, "poll", 30*time.Second, "time between two looks at the job")
	if err := fs.Parse(args); err != nil {
		return ExitCouldNot
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "backup: "+format+"\n", a...)
		return ExitCouldNot
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected arguments %q", fs.Args())
	case stackRef == "":
		return fail("pass --stack: the stack whose uploads to back up")
	case keepDays < 1:
		return fail("--keep-days %d: want 1 or more", keepDays)
	case timeout <= 0 || poll <= 0:
		return fail("--timeout and --poll must be positive")
	}
	var o stack.Outputs
	if err := stack.Read(ctx, env.Run, dir, stackRef, &o); err != nil {
		return fail("%v", err)
	}
	switch {
	case o.Ephemeral:
		fmt.Fprintf(env.Stdout, "stack %s is ephemeral (a throwaway): no final backup of its uploads\n", stackRef)
		return ExitOK
	case o.UploadsFileSystemID == "" && o.Region == "":
		fmt.Fprintf(env.Stdout, "stack %s exports no outputs (never deployed, or destroyed): no uploads to back up\n", stackRef)
		return ExitOK
	case o.UploadsFileSystemARN == "" || o.UploadsBackupRoleARN == "":
		return fail("stack %s exports no %s or %s (deployed before the final backup existed): run pulumi up on it first, so that it has the backup role",
			stackRef, stack.Key(func(o *stack.Outputs) any { return &o.UploadsFileSystemARN }), stack.KeyUploadsBackupRole)
	}
	client, err := env.AWS(ctx, o.Region)
	if err != nil {
		return fail("AWS configuration for %s: %v", o.Region, err)
	}
	r := Runner{Backup: client, Clock: env.Clock, Out: env.Stdout}
	res, err := r.Run(ctx, Job{FileSystemARN: o.UploadsFileSystemARN, RoleARN: o.UploadsBackupRoleARN, Vault: vault,
		KeepDays: keepDays, Timeout: timeout, Poll: poll})
	switch {
	case errors.Is(err, ErrTimedOut):
		fmt.Fprintf(env.Stderr, "backup: %v\n", err)
		return ExitTimedOut
	case err != nil && res.JobID == "":
		return fail("%v", err)
	case err != nil:
		fmt.Fprintf(env.Stderr, "backup: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "backup job %s COMPLETED: recovery point %s (vault %s, kept %d days)\n", res.JobID, res.RecoveryPoint, vault, keepDays)
	return ExitOK
}
