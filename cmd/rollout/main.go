// Command rollout follows the instance refresh that `pulumi up` started on the stack's Auto
// Scaling group until it ends, with its progress (checkpoints and bake time included), and
// once it has succeeded removes the stack's golden images older than the newest imagesKept
// (never one in use). Exit codes: 0 the refresh succeeded (or nothing rolled), 1 it failed or
// was cancelled, 2 the watcher could not run, 3 it rolled back (the release before serves),
// 4 the rollback failed (the group may run both releases), 5 it outran --timeout.
//
//	go run ./cmd/rollout --stack dev
//	go run ./cmd/rollout --stack dev --since 2026-11-24T10:00:00Z   # only this deploy's refresh
//	go run ./cmd/rollout images --stack dev --dry-run               # the images, what pruning would remove
//	go run ./cmd/rollout images --stack dev --keep 0 --region ap-northeast-1   # after pulumi destroy
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/images"
	"github.com/example/scalable-wordpress/internal/rollout"
	"github.com/example/scalable-wordpress/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := rollout.Main(ctx, os.Args[1:], rollout.Env{
		Stdout: os.Stdout, Stderr: os.Stderr,
		Run:    stack.Exec,
		AWS:    awsClients,
		EC2:    ec2Client,
		Clock:  clock.Real{},
		Getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}

func awsClients(ctx context.Context, region string) (rollout.AutoScaling, rollout.ELB, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, nil, err
	}
	return autoscaling.NewFromConfig(cfg), elbv2.NewFromConfig(cfg), nil
}

func ec2Client(ctx context.Context, region string) (images.EC2, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, err
	}
	return ec2.NewFromConfig(cfg), nil
}
