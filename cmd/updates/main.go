// Command updates finds newer releases of what a stack file pins (the WordPress release, its
// plugins and themes), verifies their archives as the image build will, and rewrites one pin
// at a time for the updates workflow (.github/workflows/updates.yml), which opens a pull
// request per update. Exit codes: 0 done, 1 a source failed or an update was refused, 2 it
// could not run.
//
//	go run ./cmd/updates check --stack-file Pulumi.dev.yaml [--json]
//	go run ./cmd/updates apply --stack-file Pulumi.dev.yaml --from updates.json --id wordpress/7.0.1 [--pr-body]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/scalable-wordpress/internal/clock"
	"github.com/example/scalable-wordpress/internal/updates"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := updates.Main(ctx, os.Args[1:], updates.Env{Stdout: os.Stdout, Stderr: os.Stderr, Sleep: clock.Real{}.Sleep})
	stop()
	os.Exit(code)
}
