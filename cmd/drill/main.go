// Command drill is the hands-on's availability check as one command: it probes the site
// while stopping a web server and while failing the database over, and reports the
// failures, latencies, outage and the database's AZ before and after.
//
//	go run ./cmd/drill --stack dev            # asks before acting
//	go run ./cmd/drill --stack dev --dry-run  # prints the plan, changes nothing
package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/example/scalable-wordpress/internal/drill"
)

func main() {
	// Ctrl-C cancels the drill; it then starts again any server it stopped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := drill.Main(ctx, os.Args[1:], drill.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Run:   runCommand,
		AWS:   awsClients,
		HTTP:  drill.HTTPClient(),
		Clock: drill.RealClock{},
	})
	stop()
	os.Exit(code)
}

func runCommand(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	return cmd.Output()
}

func awsClients(ctx context.Context, region string) (drill.EC2, drill.ELB, drill.RDS, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, nil, nil, err
	}
	return ec2.NewFromConfig(cfg), elbv2.NewFromConfig(cfg), rds.NewFromConfig(cfg), nil
}
