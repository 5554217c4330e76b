// Command drill is the hands-on's availability check as one command: it probes the site
// while losing a web server (terminated without draining; its Auto Scaling group replaces
// it; in the fixed mode, drained, stopped and started) and while failing the database over,
// and reports the failures, latencies, error window, recovery, the database's AZ before and
// after, and which of the stack's alarms fired.
//
//	go run ./cmd/drill --stack dev            # asks before acting
//	go run ./cmd/drill --stack dev --dry-run  # prints the plan, changes nothing
//
// Its restore subcommand is the restore drill: it restores the stack's database (through
// the stack's config dbRestore and pulumi up, or with --scratch to a scratch instance it
// deletes again) and reports the RPO and the RTO.
//
//	go run ./cmd/drill restore --stack dev --dry-run           # the plan and the RPO now
//	go run ./cmd/drill restore --stack dev --scratch           # the stack is not touched
//	go run ./cmd/drill restore --stack dev --canary-url https://example.com/drill-canary/
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/example/scalable-wordpress/internal/clock"

	"github.com/example/scalable-wordpress/internal/drill"
	"github.com/example/scalable-wordpress/internal/restoredrill"
	"github.com/example/scalable-wordpress/internal/stack"
)

func main() {
	// Ctrl-C cancels the drill; it then puts back any server it drained or stopped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if len(os.Args) > 1 && os.Args[1] == "restore" {
		code := restoredrill.Main(ctx, os.Args[2:], restoredrill.Env{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
			Run:   stack.Exec,
			AWS:   restoreClients,
			HTTP:  drill.HTTPClient(),
			Clock: clock.Real{},
		})
		stop()
		os.Exit(code)
	}
	code := drill.Main(ctx, os.Args[1:], drill.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Run:   stack.Exec,
		AWS:   awsClients,
		HTTP:  drill.HTTPClient(),
		Clock: drill.RealClock{},
	})
	stop()
	os.Exit(code)
}

func awsClients(ctx context.Context, region string) (drill.Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return drill.Clients{}, err
	}
	return drill.Clients{EC2: ec2.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), RDS: rds.NewFromConfig(cfg),
		ASG: autoscaling.NewFromConfig(cfg), CW: cloudwatch.NewFromConfig(cfg)}, nil
}

func restoreClients(ctx context.Context, region string) (restoredrill.RDS, restoredrill.SSM, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, nil, err
	}
	return rds.NewFromConfig(cfg), ssm.NewFromConfig(cfg), nil
}
