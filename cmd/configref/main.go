// Command configref writes the configuration reference (docs/configuration.md) from
// Pulumi.yaml, so the page cannot drift from the defaults Pulumi applies. It runs through
// the go:generate line in config.go:
//
//	go generate ./...
//	go run ./cmd/configref -in Pulumi.yaml -out docs/configuration.md
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/example/scalable-wordpress/internal/configref"
)

func main() {
	in := flag.String("in", "Pulumi.yaml", "project file to read")
	out := flag.String("out", "docs/configuration.md", "Markdown file to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "configref:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.ReadFile(in) //nolint:gosec // the maintainer's own -in path
	if err != nil {
		return fmt.Errorf("read project file: %w", err)
	}
	page, err := configref.Render(src)
	if err != nil {
		return fmt.Errorf("render %s: %w", in, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return fmt.Errorf("create directory for %s: %w", out, err)
	}
	if err := os.WriteFile(out, page, 0o644); err != nil { //nolint:gosec // a committed page, readable like the rest of the checkout
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
