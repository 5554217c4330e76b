package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The import is an SSM document run by an association on the site's servers, never in the
// user data (EC2's 16 KB are the converge script's); without importFrom, none of it exists.
func TestSiteImportIsADocumentNotUserData(t *testing.T) {
	r := mustRun(t, map[string]string{"importFrom": testImportFrom})
	doc := r.m.Named("aws:ssm/document:Document", "site-import")
	assoc := r.m.Named("aws:ssm/association:Association", "site-import")
	if doc == nil || assoc == nil {
		t.Fatal("importFrom registers no site import document and association")
	}
	content := doc.Str("content")
	if len(content) > 64*1024 || !strings.Contains(content, "GET_LOCK") || !strings.Contains(content, "RENAME TABLE") {
		t.Errorf("the import document (%d bytes, SSM's limit 64 KB) does not carry import.php", len(content))
	}
	lt := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate")
	if ud := userDataOf(t, lt); strings.Contains(ud, "wpimport_") || strings.Contains(ud, "wordpress-import") {
		t.Error("the user data carries the import")
	}
	params := assoc.Obj("parameters")
	if got := propString(params["database"]); got != "s3://old-site/scalable-wordpress-import/site.sql.gz" {
		t.Errorf("the association passes database %q", got)
	}
	if got := propString(assoc.Inputs["maxConcurrency"]); got != "1" {
		t.Errorf("the association runs on %s servers at a time, want 1", got)
	}
	// The servers' role reads exactly the two objects.
	var found bool
	for _, p := range r.ofType("aws:iam/rolePolicy:RolePolicy") {
		if !strings.Contains(p.Str("policy"), "s3:") {
			continue
		}
		found = true
		var doc struct {
			Statement []struct {
				Action   any
				Resource []string
			}
		}
		if err := json.Unmarshal([]byte(p.Str("policy")), &doc); err != nil {
			t.Fatal(err)
		}
		want := []string{"arn:aws:s3:::old-site/scalable-wordpress-import/site.sql.gz", "arn:aws:s3:::old-site/scalable-wordpress-import/uploads.tar.gz"}
		if len(doc.Statement) != 1 || doc.Statement[0].Action != "s3:GetObject" || !slices.Equal(doc.Statement[0].Resource, want) {
			t.Errorf("the import policy %s, want s3:GetObject on %v only", p.Str("policy"), want)
		}
	}
	if !found {
		t.Error("no policy lets the servers read the import sources")
	}
	plain := mustRun(t, map[string]string{})
	if plain.m.Named("aws:ssm/document:Document", "site-import") != nil {
		t.Error("a stack without importFrom has an import document")
	}
}
