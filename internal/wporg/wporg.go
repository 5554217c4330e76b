// Package wporg is what the program and the updater (internal/updates) must agree on about
// wordpress.org: the pins' syntax (a release number, slug@version[:sha256]) and where each
// pinned archive is published. It is one place so that a pin the updater proposes passes the
// program's config check, and the archive the updater verified is the one the image build
// downloads (boot/converge.sh.tmpl builds the plugin and theme URLs as PackageArchiveURL and
// PluginChecksumsURL do; a test of the root package renders the script and compares).
package wporg

import (
	"regexp"
	"slices"
	"strings"
)

// ReleaseRe is a WordPress release number: x.y or x.y.z (submatches: major, minor, ".patch").
var ReleaseRe = regexp.MustCompile(`^([1-9][0-9]?)\.([0-9]{1,2})(\.[0-9]{1,2})?$`)

// packageRe is a plugin or theme of wordpress.org pinned to a version (slug@version), with the
// archive's SHA-256 after a colon (required for themes).
var packageRe = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,99})@([0-9A-Za-z][0-9A-Za-z.+-]{0,31})(?::([0-9a-f]{64}))?$`)

// Package is one plugin or theme pin: its wordpress.org slug, its version and, for a theme,
// its archive's SHA-256 (wordpress.org publishes none for themes).
type Package struct {
	Slug, Version, SHA256 string
}

// ParsePackage reads a slug@version[:sha256] pin; ok is false when entry is not one.
func ParsePackage(entry string) (p Package, ok bool) {
	m := packageRe.FindStringSubmatch(entry)
	if m == nil {
		return Package{}, false
	}
	return Package{Slug: m[1], Version: m[2], SHA256: m[3]}, true
}

// String is the pin as a config list holds it: slug@version, with :sha256 when set.
func (p Package) String() string {
	s := p.Slug + "@" + p.Version
	if p.SHA256 != "" {
		s += ":" + p.SHA256
	}
	return s
}

// downloadHosts maps the supported WordPress locales to the host that publishes their release
// archives (and the .sha1 beside each). The host is not derivable from the locale (pt_BR
// lives on br.wordpress.org), so the list is explicit.
var downloadHosts = map[string]string{
	"en_US": "wordpress.org",
	"ja":    "ja.wordpress.org",
	"de_DE": "de.wordpress.org",
	"es_ES": "es.wordpress.org",
	"fr_FR": "fr.wordpress.org",
	"it_IT": "it.wordpress.org",
	"ko_KR": "ko.wordpress.org",
	"nl_NL": "nl.wordpress.org",
	"pt_BR": "br.wordpress.org",
	"ru_RU": "ru.wordpress.org",
	"zh_CN": "cn.wordpress.org",
	"zh_TW": "tw.wordpress.org",
}

// Locales are the supported locales, sorted.
func Locales() []string {
	out := make([]string, 0, len(downloadHosts))
	for l := range downloadHosts {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Supported says whether the program can install the locale's release archives.
func Supported(locale string) bool {
	_, ok := downloadHosts[locale]
	return ok
}

// ArchiveURL is where a release's archive for a supported locale is published; the checksum
// is the same URL with ".sha1" appended.
func ArchiveURL(locale, version string) string {
	host := downloadHosts[locale]
	if locale == "en_US" {
		return "https://" + host + "/wordpress-" + version + ".tar.gz"
	}
	return "https://" + host + "/wordpress-" + version + "-" + locale + ".tar.gz"
}

// DownloadsURL publishes every plugin's and theme's archives, and the plugins' checksums.
const DownloadsURL = "https://downloads.wordpress.org"

// Package kinds, as downloads.wordpress.org names their folders.
const (
	KindPlugin = "plugin"
	KindTheme  = "theme"
)

// PackageArchiveURL is where a pinned plugin's or theme's .zip is published under base
// (DownloadsURL, or a stand-in in tests).
func PackageArchiveURL(base, kind string, p Package) string {
	return strings.TrimSuffix(base, "/") + "/" + kind + "/" + p.Slug + "." + p.Version + ".zip"
}

// PluginChecksumsURL is where wordpress.org publishes a plugin version's per-file checksums
// ({"files": {"path": {"sha256": "…" or ["…", …]}}}) under base.
func PluginChecksumsURL(base string, p Package) string {
	return strings.TrimSuffix(base, "/") + "/plugin-checksums/" + p.Slug + "/" + p.Version + ".json"
}
