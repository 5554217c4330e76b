// Command rollout follows the instance refresh that `pulumi up` started on the stack's Auto
// Scaling group until it ends, with its progress, and exits 0 only when the new servers
// serve: 1 when the refresh failed, was cancelled, rolled back or ran out of time, 2 when it
// could not watch.
//
//	go run ./cmd/rollout --stack dev
//	go run ./cmd/rollout --stack dev --since 2026-11-24T10:00:00Z   # only this deploy's refresh
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/rollout"
	"github.com/example/scalable-wordpress/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := rollout.Main(ctx, os.Args[1:], rollout.Env{
		Stdout: os.Stdout, Stderr: os.Stderr,
		Run:   stack.Exec,
		AWS:   awsClients,
		Clock: clock.Real{},
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
