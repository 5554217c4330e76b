package updates

// What plugins and themes share: wordpress.org's info API (1.2), their archives as zips, and
// the security heuristic over a changelog.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// packageInfo is the part of a plugin_information or theme_information answer the updater
// reads. An unknown or closed package is a 404 whose JSON says why in error (and, for a closed
// plugin, reason_text).
type packageInfo struct {
	Error      string          `json:"error"`
	ReasonText string          `json:"reason_text"`
	Slug       string          `json:"slug"`
	Version    string          `json:"version"`
	Sections   json.RawMessage `json:"sections"` // {"changelog": "<h4>1.2.3</h4>…", …}; [] when empty
}

// info asks wordpress.org's info API about a plugin or theme.
func info(ctx context.Context, f *Fetcher, api, kind, slug string) (packageInfo, error) {
	q := url.Values{"action": {kind + "_information"}, "request[slug]": {slug}}
	u := strings.TrimSuffix(api, "/") + "/" + kind + "s/info/1.2/?" + q.Encode()
	var pi packageInfo
	err := f.GetJSON(ctx, u, &pi)
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		_ = json.Unmarshal(se.Body, &pi) // an answer without JSON still means "no such package"
		if pi.Error == "" {
			pi.Error = "not found"
		}
	} else if err != nil {
		return pi, err
	}
	switch {
	case pi.Error == "closed":
		return pi, fmt.Errorf("%s %s is closed on wordpress.org (reason: %s) and gets no more releases: remove or replace it", kind, slug, or(pi.ReasonText, "not given"))
	case pi.Error != "":
		return pi, fmt.Errorf("wordpress.org has no %s %s (%s): is the slug right?", kind, slug, pi.Error)
	case pi.Slug != slug:
		return pi, fmt.Errorf("%s answered for %q, not %s", u, pi.Slug, slug)
	}
	return pi, nil
}

// section is one of the answer's sections ("changelog"), "" when absent.
func (pi packageInfo) section(name string) string {
	var sections map[string]any
	if json.Unmarshal(pi.Sections, &sections) != nil {
		return ""
	}
	s, _ := sections[name].(string)
	return s
}

// newerPin is the package at wordpress.org's version when it is newer than the pin; ok is false
// when it is not (never propose an older or the same version).
func newerPin(kind string, pinned wporg.Package, offered string) (wporg.Package, bool, error) {
	if compareVersions(offered, pinned.Version) <= 0 {
		return wporg.Package{}, false, nil
	}
	next := wporg.Package{Slug: pinned.Slug, Version: offered}
	if _, ok := wporg.ParsePackage(next.String()); !ok {
		return next, false, fmt.Errorf("%s %s: wordpress.org's version %q is not one the config accepts", kind, pinned.Slug, offered)
	}
	return next, true, nil
}

// maxUnpacked bounds what the updater reads out of one zip (plugins are a few MB).
const maxUnpacked = 512 << 20

// walkZip calls fn with each file under folder/ in a zip archive (its path below the folder);
// the image build installs that folder and nothing else. It fails when the folder is absent.
func walkZip(archive []byte, folder string, fn func(rel string, r io.Reader) error) error {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return fmt.Errorf("not a zip archive: %w", err)
	}
	budget := int64(maxUnpacked)
	found := false
	for _, zf := range zr.File {
		rel, ok := strings.CutPrefix(zf.Name, folder+"/")
		if !ok {
			continue
		}
		found = true
		if rel == "" || zf.FileInfo().IsDir() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
		lr := &io.LimitedReader{R: rc, N: budget + 1}
		err = fn(rel, lr)
		if err == nil {
			_, err = io.Copy(io.Discard, lr) // what fn left unread counts too, and its CRC is checked at the end
		}
		_ = rc.Close() // a read-only entry; its errors came from reading it
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
		if budget = lr.N - 1; budget < 0 {
			return fmt.Errorf("unpacks to more than %d bytes", int64(maxUnpacked))
		}
	}
	if !found {
		return fmt.Errorf("holds no %s/ folder, which the image build installs", folder)
	}
	return nil
}

// securityWords are what the heuristic looks for in a changelog, in any case.
var securityWords = regexp.MustCompile(`(?i)security|vulnerab|xss|csrf|cve`)

// securityWordList names them in notes.
const securityWordList = `"security", "vulnerab…", "XSS", "CSRF" or "CVE"`

var (
	htmlHeading = regexp.MustCompile(`(?is)<h[1-6][^>]*>(.*?)</h[1-6]>`)
	htmlTag     = regexp.MustCompile(`<[^>]*>`)
	// headingVersion is the version a changelog heading names ("5.3.5", "Version 5.3.5 - 2026-01-02").
	headingVersion = regexp.MustCompile(`\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.]+)?`)
)

// changelogSince returns the versions, and the text, of a changelog's entries after from up to
// to. Entries start at headings naming a version: wordpress.org renders a readme's "= 1.2.3 ="
// lines as <h4>1.2.3</h4>.
func changelogSince(html, from, to string) (versions []string, text string) {
	heads := htmlHeading.FindAllStringSubmatchIndex(html, -1)
	var b strings.Builder
	for i, h := range heads {
		v := headingVersion.FindString(htmlTag.ReplaceAllString(html[h[2]:h[3]], " "))
		if v == "" || compareVersions(v, from) <= 0 || compareVersions(v, to) > 0 {
			continue
		}
		end := len(html)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		versions = append(versions, v)
		b.WriteString(htmlTag.ReplaceAllString(html[h[0]:end], " "))
		b.WriteString("\n")
	}
	return versions, b.String()
}

// securityHeuristic flags an update whose changelog entries since the pin mention security;
// the note says it is a heuristic, and what it found.
func securityHeuristic(changelog, where, from, to string) (bool, string) {
	versions, text := changelogSince(changelog, from, to)
	if len(versions) == 0 {
		return false, fmt.Sprintf("Not known: %s has no entry headed with a version after %s up to %s. "+
			"(A heuristic: wordpress.org marks no plugin or theme release as a security release; read the changelog.)", where, from, to)
	}
	found := uniqueFold(securityWords.FindAllString(text, -1))
	if len(found) == 0 {
		return false, fmt.Sprintf("Not flagged: %s's entries for %s do not mention %s. "+
			"(A heuristic: wordpress.org marks no plugin or theme release as a security release; read the changelog.)", where, strings.Join(versions, ", "), securityWordList)
	}
	return true, fmt.Sprintf("%s's entries for %s mention %s. (A heuristic: wordpress.org marks no plugin or theme release "+
		"as a security release; the updater looks for %s in the entries after the pinned version.)", where, strings.Join(versions, ", "), quoteAll(found), securityWordList)
}

// uniqueFold is words without repeats, ignoring case, in order.
func uniqueFold(words []string) []string {
	var out []string
	for _, w := range words {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, w) }) {
			out = append(out, w)
		}
	}
	return out
}

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}

// slugs names packages in messages.
func slugs(pkgs []wporg.Package) string {
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.Slug
	}
	return strings.Join(names, ", ")
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
