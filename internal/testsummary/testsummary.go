// Package testsummary reads the events of `go test -json` and says, in one line, what
// passed, what failed, what was skipped and why, and which lab tests (built only with the
// lab tag, since they need root and Debian's packages) this run did not build. `make test`
// prints it, so that a quick run never passes for a run of everything.
package testsummary

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// LabTag is the build tag of the tests that need root and Debian's packages.
const LabTag = "lab"

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// Summary is what a run did.
type Summary struct {
	Passed, Failed, Skipped int
	// SkipReasons are the skipped tests by the reason they gave.
	SkipReasons map[string][]string
	// FailedPackages failed without a failing test of their own: a build error, a panic
	// outside a test, or a TestMain that failed.
	FailedPackages []string
}

// OK reports whether nothing failed.
func (s Summary) OK() bool { return s.Failed == 0 && len(s.FailedPackages) == 0 }

// fileLine is the "file_test.go:12: " that t.Skip puts before its message.
var fileLine = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// Read consumes the events, writes what a person needs to follow the run to w (a line per
// package, the whole output of each failing test, build errors), and returns the summary.
// Lines that are not JSON (go's own errors before any test runs) are passed through.
func Read(r io.Reader, w io.Writer) (Summary, error) {
	s := Summary{SkipReasons: map[string][]string{}}
	output := map[string][]string{} // by package and test
	failedTests := map[string]int{} // by package
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output", "build-output":
			if e.Test == "" && e.Action == "build-output" {
				fmt.Fprint(w, e.Output)
			}
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				s.packageResult(w, e, failedTests[e.Package], output[key])
				break
			}
			switch e.Action {
			case "pass":
				s.Passed++
			case "fail":
				s.Failed++
				failedTests[e.Package]++
				fmt.Fprintf(w, "--- FAIL: %s (%s)\n%s", e.Test, e.Package, strings.Join(output[key], ""))
			case "skip":
				s.Skipped++
				reason := skipReason(output[key])
				s.SkipReasons[reason] = append(s.SkipReasons[reason], e.Test)
			}
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read go test -json: %w", err)
	}
	return s, nil
}

// packageResult prints a package's end, as go test does, and counts a failure that no test
// explains.
func (s *Summary) packageResult(w io.Writer, e event, failedTests int, output []string) {
	switch e.Action {
	case "pass":
		fmt.Fprintf(w, "ok   %s %.1fs\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(w, "?    %s [no test files]\n", e.Package)
	case "fail":
		fmt.Fprintf(w, "FAIL %s %.1fs\n", e.Package, e.Elapsed)
		if failedTests == 0 {
			s.FailedPackages = append(s.FailedPackages, e.Package)
			fmt.Fprint(w, strings.Join(output, ""))
		}
	}
}

// skipReason is the message a skipped test gave: its last line of output before "--- SKIP",
// without the file and line.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		return fileLine.ReplaceAllString(l, "")
	}
	return "no reason given"
}

// Line is the one-line summary: the counts, each skip reason with its tests, and the lab
// tests that were not built.
func (s Summary) Line(notBuilt []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
	if len(s.FailedPackages) > 0 {
		fmt.Fprintf(&b, ", %d packages failed outside their tests (%s)", len(s.FailedPackages), strings.Join(s.FailedPackages, ", "))
	}
	for _, reason := range slices.Sorted(maps.Keys(s.SkipReasons)) {
		fmt.Fprintf(&b, "; skipped %s: %s", strings.Join(s.SkipReasons[reason], ", "), reason)
	}
	if len(notBuilt) > 0 {
		fmt.Fprintf(&b, "; not run: %d lab tests (%s), which need root and Debian's packages: `make ci` runs them",
			len(notBuilt), strings.Join(notBuilt, ", "))
	}
	return b.String()
}

// LabTests are the test functions in dir's test files that build only with LabTag, sorted.
func LabTests(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		src, err := os.ReadFile(name) //nolint:gosec // the project's own test files
		if err != nil {
			return nil, err
		}
		if !labOnly(src) {
			continue
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") && fn.Name.Name != "TestMain" {
				out = append(out, fn.Name.Name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// labOnly reports whether a file's //go:build line requires LabTag: the file builds with
// the tag and not without it.
func labOnly(src []byte) bool {
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "package ") {
			return false
		}
		if !constraint.IsGoBuild(line) {
			continue
		}
		expr, err := constraint.Parse(line)
		if err != nil {
			return false
		}
		with := func(lab bool) func(string) bool {
			return func(tag string) bool { return tag != LabTag || lab }
		}
		return expr.Eval(with(true)) && !expr.Eval(with(false))
	}
	return false
}
