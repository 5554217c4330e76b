package updates

// WordPress core: the newest release wordpress.org offers for the stack's locale, flagged as a
// security update when wordpress.org calls the pinned release insecure, and proposed only once
// the very archive the image build downloads matches the SHA-1 published beside it.

import (
	"context"
	"crypto/sha1" //nolint:gosec // wordpress.org publishes SHA-1 for release archives; the image build checks the same digest
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// Core is the WordPress release's source.
type Core struct {
	Fetch *Fetcher
	API   string // https://api.wordpress.org
	// Releases, when set, is the origin archives are fetched from instead of the locale's
	// host (wporg.ArchiveURL), same path: a stand-in in tests.
	Releases string
}

// Name names the source in errors.
func (Core) Name() string { return "WordPress core" }

// versionCheck is the part of the version-check API's answer (1.7) the updater reads: one
// offer per release and locale it may install ("upgrade", "latest", "autoupdate"; nightlies
// as "development").
type versionCheck struct {
	Offers []struct {
		Response string `json:"response"`
		Locale   string `json:"locale"`
		Current  string `json:"current"`
	} `json:"offers"`
}

// Check proposes the newest release of the pinned locale when it is newer than the pin.
// Never an older one: the default wordpressVersion (Pulumi.yaml) only moves forward, and the
// API may offer an older build (a locale's translation lagging, a stale cache) than a pin
// set by hand.
func (c Core) Check(ctx context.Context, pins Pins) ([]Update, error) {
	latest, err := c.latest(ctx, pins.Locale)
	if err != nil {
		return nil, err
	}
	if latest == "" || compareVersions(latest, pins.WordPress) <= 0 {
		return nil, nil
	}
	id, err := newID("wordpress", latest)
	if err != nil {
		return nil, err
	}
	security, note, err := c.security(ctx, pins.WordPress, latest)
	if err != nil {
		return nil, err
	}
	verified, err := c.verify(ctx, pins.Locale, latest)
	if err != nil {
		return nil, err
	}
	return []Update{{
		ID: id, Key: KeyWordPress, Name: "WordPress", From: pins.WordPress, To: latest,
		OldPin: pins.WordPress, NewPin: latest,
		Security: security, SecurityNote: note,
		NotesURL: releaseNotesURL(latest), Verified: verified,
	}}, nil
}

// latest is the newest release offered in locale, "" when none is (a locale's build of a new
// release comes after the English one: the next run sees it).
func (c Core) latest(ctx context.Context, locale string) (string, error) {
	u := strings.TrimSuffix(c.API, "/") + "/core/version-check/1.7/?" + url.Values{"locale": {locale}}.Encode()
	var vc versionCheck
	if err := c.Fetch.GetJSON(ctx, u, &vc); err != nil {
		return "", err
	}
	if len(vc.Offers) == 0 {
		return "", fmt.Errorf("%s offers no release at all", u)
	}
	latest := ""
	for _, o := range vc.Offers {
		if o.Locale == locale && o.Response != "development" && wporg.ReleaseRe.MatchString(o.Current) &&
			(latest == "" || compareVersions(o.Current, latest) > 0) {
			latest = o.Current
		}
	}
	return latest, nil
}

// security tells whether the update fixes a security issue: wordpress.org's stable-check API
// marks every release "latest", "outdated" or "insecure", and a pinned release it calls
// insecure has a security fix in a newer one.
func (c Core) security(ctx context.Context, pinned, latest string) (bool, string, error) {
	u := strings.TrimSuffix(c.API, "/") + "/core/stable-check/1.0/"
	var status map[string]string
	if err := c.Fetch.GetJSON(ctx, u, &status); err != nil {
		return false, "", err
	}
	switch s := status[pinned]; s {
	case "insecure":
		return true, fmt.Sprintf("wordpress.org's stable-check API marks the pinned WordPress %s insecure: %s fixes a security issue.", pinned, latest), nil
	case "":
		return false, fmt.Sprintf("Not known: wordpress.org's stable-check API does not list the pinned WordPress %s.", pinned), nil
	default:
		return false, fmt.Sprintf("Not a security release for this stack: wordpress.org's stable-check API marks the pinned WordPress %s %s, not insecure.", pinned, s), nil
	}
}

// sha1Hex is a published SHA-1 digest.
var sha1Hex = regexp.MustCompile(`^[0-9a-f]{40}$`)

// verify downloads the archive the image build will download and checks it against the SHA-1
// published beside it, as the image build does (boot/converge.sh.tmpl, install_wordpress).
func (c Core) verify(ctx context.Context, locale, version string) (string, error) {
	archive := wporg.ArchiveURL(locale, version)
	published, err := c.Fetch.Get(ctx, c.fetchURL(archive+".sha1"))
	if err != nil {
		return "", err
	}
	want := ""
	if fields := strings.Fields(string(published)); len(fields) > 0 {
		want = strings.ToLower(fields[0])
	}
	if !sha1Hex.MatchString(want) {
		return "", fmt.Errorf("%s.sha1 holds no SHA-1 digest: WordPress %s not proposed", archive, version)
	}
	body, err := c.Fetch.Get(ctx, c.fetchURL(archive))
	if err != nil {
		return "", err
	}
	sum := sha1.Sum(body) //nolint:gosec // the digest wordpress.org publishes
	if got := hex.EncodeToString(sum[:]); got != want {
		return "", fmt.Errorf("checksum mismatch: %s hashes to SHA-1 %s, not the %s published beside it: WordPress %s not proposed", archive, got, want, version)
	}
	return fmt.Sprintf("The updater downloaded %s, the archive the image build downloads (%d bytes): its SHA-1 `%s` is the digest "+
		"wordpress.org publishes at %s.sha1, which the image build checks again.", archive, len(body), want, archive), nil
}

// fetchURL is where an archive URL is fetched from: itself, or its path on Releases.
func (c Core) fetchURL(archive string) string {
	if c.Releases == "" {
		return archive
	}
	u, err := url.Parse(archive)
	if err != nil {
		return archive
	}
	return strings.TrimSuffix(c.Releases, "/") + u.Path
}

// releaseNotesURL is a release's page on wordpress.org. Its documentation names each release's
// page after the version with the dots as dashes: version-6-7-1 for 6.7.1, version-7-0 for 7.0.
func releaseNotesURL(version string) string {
	return "https://wordpress.org/documentation/wordpress-version/version-" + strings.ReplaceAll(version, ".", "-") + "/"
}
