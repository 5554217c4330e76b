package main

// The front page stays a front page: short, naming the two test commands, linking every
// guide in docs/; and no link in the documentation points at nothing.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Limits of the front page (README.md); the rest belongs in docs/.
const (
	readmeMaxLines = 200
	readmeMaxBytes = 20 * 1024
)

func TestREADMEIsAFrontPage(t *testing.T) {
	readme := readSource(t, "README.md")
	if n := strings.Count(readme, "\n"); n > readmeMaxLines {
		t.Errorf("README.md has %d lines, want at most %d: move detail into docs/", n, readmeMaxLines)
	}
	if len(readme) > readmeMaxBytes {
		t.Errorf("README.md has %d bytes, want at most %d", len(readme), readmeMaxBytes)
	}
	makefile := readSource(t, "Makefile")
	for _, target := range []string{"test", "ci"} {
		if !strings.Contains(readme, "make "+target) || !regexp.MustCompile(`(?m)^`+target+`:`).MatchString(makefile) {
			t.Errorf("README and Makefile must both have `make %s`", target)
		}
	}
	pages, err := filepath.Glob("docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no guides in docs/ (%v)", err)
	}
	for _, p := range append(pages, "CHANGELOG.md") {
		if !strings.Contains(readme, "]("+p+")") && !strings.Contains(readme, "]("+p+"#") {
			t.Errorf("README.md does not link %s", p)
		}
	}
}

// mdLink is a Markdown link's target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestDocumentationLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob("docs/*.md")
	for _, page := range append(pages, "README.md", "CHANGELOG.md") {
		for _, m := range mdLink.FindAllStringSubmatch(readSource(t, page), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links %s, which does not exist", page, m[1])
			}
		}
	}
}
