package main

import (
	"strings"
	"testing"
)

// stagingConfig is a staging stack's config as docs/staging.md gives it (less dbRestore,
// which needs the serving generation's outputs).
var stagingConfig = map[string]string{"ephemeral": "true", "staging": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false",
	importFromKey: `{"siteUrl": "https://www.example.com"}`}

// The servers learn that the stack is a staging one from the site settings; every other stack
// says it is not.
func TestStagingReachesTheServersThroughTheSettings(t *testing.T) {
	for _, c := range []struct {
		config map[string]string
		want   string
	}{{stagingConfig, "1"}, {nil, "0"}, {map[string]string{"ephemeral": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false"}, "0"}} {
		r := mustRun(t, c.config)
		site := jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
		if got := site[settingStaging]; got != c.want {
			t.Errorf("config %v: the site settings say %s %v, want %q", c.config, settingStaging, got, c.want)
		}
	}
}

// importFrom.siteUrl without a dump is a rewrite of the stack's own database: the document
// and association run it with an empty database parameter, and the servers read no object.
func TestStagingRewriteOnlyImportReadsNothing(t *testing.T) {
	r := mustRun(t, stagingConfig)
	assoc := r.m.Named("aws:ssm/association:Association", "site-import")
	if assoc == nil {
		t.Fatal("importFrom.siteUrl alone registers no import association")
	}
	params := assoc.Obj("parameters")
	if db, url := propString(params["database"]), propString(params["siteUrl"]); db != "" || url != "https://www.example.com" {
		t.Errorf("the association passes database %q, siteUrl %q; want none and the old URL", db, url)
	}
	for _, p := range r.ofType("aws:iam/rolePolicy:RolePolicy") {
		if strings.Contains(p.Str("policy"), "ReadImportSources") {
			t.Errorf("a rewrite alone lets the servers read %s", p.Str("policy"))
		}
	}
	config := map[string]string{}
	for k, v := range stagingConfig {
		config[k] = v
	}
	config[importFromKey] = `{"siteUrl": "https://www.example.com", "uploads": "s3://prod-export/scalable-wordpress-import/uploads.tar.gz"}`
	withUploads := mustRun(t, config)
	found := false
	for _, p := range withUploads.ofType("aws:iam/rolePolicy:RolePolicy") {
		if strings.Contains(p.Str("policy"), "ReadImportSources") {
			found = strings.Contains(p.Str("policy"), `"Resource":["arn:aws:s3:::prod-export/scalable-wordpress-import/uploads.tar.gz"]`)
		}
	}
	if !found {
		t.Error("a rewrite with uploads does not let the servers read exactly the uploads archive")
	}
}
