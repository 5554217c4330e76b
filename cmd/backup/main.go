// Command backup takes the final backup of a stack's uploads before it is destroyed: an AWS
// Backup on-demand job of its uploads file system, as the role the program made for it, into
// EFS's automatic-backup vault; it waits until the job has completed and prints the recovery
// point's ARN. An ephemeral stack needs none. Exit codes: 0 completed (or nothing to back
// up), 1 the job failed, 2 the command could not run, 5 the job outran --timeout.
//
//	go run ./cmd/backup --stack prod
//	go run ./cmd/backup --stack prod --vault my-vault --keep-days 90 --timeout 2h
//
// `restore` restores one recovery point of the stack's uploads into a new, encrypted file
// system, as the stack's backup role, waits until the job has completed and prints the new
// file system's ID; the stack and its serving file system are left as they are
// (docs/operations.md, "Restoring the uploads"). Same exit codes.
//
//	go run ./cmd/backup restore --stack prod --recovery-point arn:aws:backup:<region>:<account>:recovery-point:<id>
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	awsbackup "github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/example/scalable-wordpress/internal/backup"
	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := backup.Main(ctx, os.Args[1:], backup.Env{
		Stdout: os.Stdout, Stderr: os.Stderr,
		Run:   stack.Exec,
		AWS:   client,
		Clock: clock.Real{},
	})
	stop()
	os.Exit(code)
}

func client(ctx context.Context, region string) (backup.Backup, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, err
	}
	return awsbackup.NewFromConfig(cfg), nil
}
