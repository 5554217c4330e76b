// Command testsummary is the fast test command's reporter: `go test -json ./... |
// go run ./tools/testsummary` prints each package's result and every failure as go test
// does, then one line saying what passed, failed and was skipped (and why), and which lab
// tests the run did not build. It exits 1 when anything failed.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/example/scalable-wordpress/internal/testsummary"
)

func main() {
	dir := flag.String("lab-dir", ".", "folder whose lab-tagged test files list the tests this run did not build")
	label := flag.String("label", "tests", "the word before the summary's colon")
	flag.Parse()
	s, err := testsummary.Read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lab, err := testsummary.LabTests(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "list the lab tests: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %s\n", *label, s.Line(lab))
	if !s.OK() {
		os.Exit(1)
	}
}
