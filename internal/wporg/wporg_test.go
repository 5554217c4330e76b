package wporg

import "testing"

func TestArchiveURL(t *testing.T) {
	for locale, want := range map[string]string{
		"ja":    "https://ja.wordpress.org/wordpress-7.0-ja.tar.gz",
		"en_US": "https://wordpress.org/wordpress-7.0.tar.gz",
		"pt_BR": "https://br.wordpress.org/wordpress-7.0-pt_BR.tar.gz",
		"de_DE": "https://de.wordpress.org/wordpress-7.0-de_DE.tar.gz",
	} {
		if got := ArchiveURL(locale, "7.0"); got != want {
			t.Errorf("ArchiveURL(%q) = %q, want %q", locale, got, want)
		}
	}
}

func TestPackageRoundTrips(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, entry := range []string{"akismet@5.3.3", "twentytwentyfive@1.2:" + sha, "a@1.0-beta+2"} {
		p, ok := ParsePackage(entry)
		if !ok || p.String() != entry {
			t.Errorf("ParsePackage(%q) = %+v, %v; want it read and written back the same", entry, p, ok)
		}
	}
	for _, bad := range []string{"Akismet@1", "akismet", "akismet@", "akismet@1:abc", "-x@1", "x@1 2"} {
		if p, ok := ParsePackage(bad); ok {
			t.Errorf("ParsePackage(%q) = %+v, want it refused", bad, p)
		}
	}
}

func TestPackageURLs(t *testing.T) {
	p := Package{Slug: "akismet", Version: "5.3.3"}
	if got := PackageArchiveURL(DownloadsURL+"/", KindPlugin, p); got != "https://downloads.wordpress.org/plugin/akismet.5.3.3.zip" {
		t.Errorf("PackageArchiveURL = %s", got)
	}
	if got := PluginChecksumsURL(DownloadsURL, p); got != "https://downloads.wordpress.org/plugin-checksums/akismet/5.3.3.json" {
		t.Errorf("PluginChecksumsURL = %s", got)
	}
}
