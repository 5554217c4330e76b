package loadtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/stack"
)

// pulumiPrinting is a Pulumi CLI that prints out (or fails with fail) and records its
// command in ran.
func pulumiPrinting(out, fail string, ran *string) stack.Runner {
	return func(_ context.Context, _, name string, args ...string) ([]byte, error) {
		*ran = name + " " + strings.Join(args, " ")
		if fail != "" {
			return nil, errors.New(fail)
		}
		return []byte(out), nil
	}
}

func TestSiteURLReadsTheStackOutput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ stack, args string }{
		{"dev", "pulumi stack output --json --stack dev"},
		{"", "pulumi stack output --json"},
	} {
		var ran string
		got, err := SiteURL(context.Background(), pulumiPrinting(`{"siteUrl": "https://d111.cloudfront.net", "region": "ap-northeast-1"}`, "", &ran), ".", c.stack)
		if err != nil || got != "https://d111.cloudfront.net" {
			t.Errorf("SiteURL(%q) = %q, %v; want the output's URL", c.stack, got, err)
		}
		if ran != c.args {
			t.Errorf("SiteURL(%q) ran %q, want %q", c.stack, ran, c.args)
		}
	}
}

func TestSiteURLReportsPulumiFailures(t *testing.T) {
	t.Parallel()
	cases := []struct{ out, fail, want string }{
		{"", "error: no stack named dev found", "no stack named dev found"},
		{`{"siteUrl": "[secret]"}`, "", "no site URL"},
		{`{"region": "ap-northeast-1"}`, "", "no site URL"},
		{"not json", "", "not the JSON expected"},
	}
	for _, c := range cases {
		var ran string
		if got, err := SiteURL(context.Background(), pulumiPrinting(c.out, c.fail, &ran), ".", "dev"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pulumi printing %q (failing %q): SiteURL = %q, %v; want an error saying %q", c.out, c.fail, got, err, c.want)
		}
	}
}
