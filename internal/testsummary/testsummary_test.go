package testsummary

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A run with a pass, a failure, two skips for one reason, a build failure and go's own
// error line: every one is counted and reported, and nothing that failed reads as OK.
func TestReadCountsAndReports(t *testing.T) {
	events := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.1}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: want 2, got 3\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.1}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:12: shellcheck is not installed\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"--- SKIP: TestC (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Test":"TestD/sub","Output":"    d_test.go:3: shellcheck is not installed\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestD/sub"}`,
		`{"Action":"fail","Package":"p","Elapsed":1.5}`,
		`{"ImportPath":"q","Action":"build-output","Output":"q/x.go:3:1: syntax error\n"}`,
		`{"Action":"output","Package":"q","Output":"FAIL\tq [build failed]\n"}`,
		`{"Action":"fail","Package":"q","Elapsed":0}`,
		`go: warning: something outside the test binary`,
	}, "\n")
	var out bytes.Buffer
	s, err := Read(strings.NewReader(events), &out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Passed != 1 || s.Failed != 1 || s.Skipped != 2 || s.OK() {
		t.Errorf("summary %+v: want 1 passed, 1 failed, 2 skipped, not OK", s)
	}
	if !slices.Equal(s.FailedPackages, []string{"q"}) {
		t.Errorf("failed packages %v, want q (a build failure; p failed through its test)", s.FailedPackages)
	}
	for _, want := range []string{"--- FAIL: TestB (p)\n    b_test.go:9: want 2, got 3", "FAIL p 1.5s", "q/x.go:3:1: syntax error", "go: warning: something outside"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	line := s.Line([]string{"TestSite"})
	for _, want := range []string{"1 passed, 1 failed, 2 skipped", "1 packages failed outside their tests (q)",
		"skipped TestC, TestD/sub: shellcheck is not installed", "not run: 1 lab tests (TestSite)", "make ci"} {
		if !strings.Contains(line, want) {
			t.Errorf("summary line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("the summary is not one line: %q", line)
	}
}

func TestCleanRunIsOK(t *testing.T) {
	s, err := Read(strings.NewReader(`{"Action":"pass","Package":"p","Test":"TestA"}`+"\n"+`{"Action":"pass","Package":"p"}`), &bytes.Buffer{})
	if err != nil || !s.OK() || s.Line(nil) != "1 passed, 0 failed, 0 skipped" {
		t.Errorf("clean run: %+v %v %q", s, err, s.Line(nil))
	}
}

// Only files that build with the lab tag and not without it hold lab tests.
func TestLabTestsAreTheTaggedFiles(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"lab_test.go":       "//go:build lab\n\npackage p\n\nfunc TestLab(t *testing.T) {}\nfunc TestMain(m *testing.M) {}\nfunc helper() {}\n",
		"both_test.go":      "//go:build lab && linux\n\npackage p\n\nfunc TestLabLinux(t *testing.T) {}\n",
		"notlab_test.go":    "//go:build !lab\n\npackage p\n\nfunc TestNotLab(t *testing.T) {}\n",
		"plain_test.go":     "package p\n\n// +build lab is not a constraint here\nfunc TestPlain(t *testing.T) {}\n",
		"comment_test.go":   "// A comment first.\n\n//go:build lab\n\npackage p\n\nfunc TestCommented(t *testing.T) {}\n",
		"notatest.go":       "//go:build lab\n\npackage p\n\nfunc TestNotInATestFile() {}\n",
		"other_lab_test.go": "//go:build lab || integration\n\npackage p\n\nfunc TestEither(t *testing.T) {}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LabTests(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"TestCommented", "TestLab", "TestLabLinux"}; !slices.Equal(got, want) {
		t.Errorf("lab tests %v, want %v", got, want)
	}
	if _, err := LabTests(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("a folder without test files has no lab tests, got %v", err)
	}
}
