package loadtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/loadtest/fakepulumi"
)

func TestSiteURLReadsTheStackOutput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ stack, args string }{
		{"dev", "stack output siteUrl --stack dev"},
		{"", "stack output siteUrl"},
	} {
		bin, argsFile := fakepulumi.Write(t, "echo https://d111.cloudfront.net")
		got, err := SiteURL(context.Background(), bin, c.stack)
		if err != nil || got != "https://d111.cloudfront.net" {
			t.Errorf("SiteURL(%q) = %q, %v; want the printed URL", c.stack, got, err)
		}
		if args, _ := os.ReadFile(argsFile); strings.TrimSpace(string(args)) != c.args {
			t.Errorf("SiteURL(%q) ran pulumi %q, want %q", c.stack, strings.TrimSpace(string(args)), c.args)
		}
	}
}

func TestSiteURLReportsPulumiFailures(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, want string }{
		{"echo 'error: no stack named dev found' >&2; exit 255", "no stack named dev found"},
		{"echo '[secret]'", "printed no site URL"},
		{"true", "printed no site URL"},
	}
	for _, c := range cases {
		bin, _ := fakepulumi.Write(t, c.body)
		if got, err := SiteURL(context.Background(), bin, "dev"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pulumi doing %q: SiteURL = %q, %v; want an error saying %q", c.body, got, err, c.want)
		}
	}
	if _, err := SiteURL(context.Background(), filepath.Join(t.TempDir(), "missing"), "dev"); err == nil {
		t.Error("SiteURL with no pulumi binary succeeded")
	}
}
