package images

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// account is a stack with six images, one an hour: its launch template's latest and default
// version (9) has the newest, the version before it (8) an older one, a server still runs the
// oldest; besides, another stack's, another project's and another account's images with
// look-alike tags.
func account() *fakeEC2 {
	f := newFakeEC2()
	for n := range 6 {
		f.stackImage(n) // ami-00 (oldest) ... ami-05 (newest)
	}
	f.image("ami-other-stack", self, Tags(project, "prod"), t0.Add(-time1))
	f.image("ami-other-project", self, Tags("blog", stackID), t0.Add(-time1))
	f.image("ami-shared-with-us", "999999999999", Tags(project, stackID), t0.Add(-time1))
	f.versions = map[int64]string{7: "ami-01", 8: "ami-02", 9: "ami-05"}
	f.latest, f.dflt = 9, 9
	f.instances["i-old"] = "ami-00"
	return f
}

const time1 = time.Hour

func prune(t *testing.T, f *fakeEC2, o Options) (Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	p := Pruner{EC2: f, Out: &out}
	if o.Project == "" {
		o.Project, o.Stack = project, stackID
	}
	res, err := p.Prune(context.Background(), o)
	return res, out.String(), err
}

func TestPruneKeepsTheNewestAndWhatIsInUse(t *testing.T) {
	f := account()
	res, out, err := prune(t, f, Options{Keep: 3, LaunchTemplateID: "lt-web"})
	if err != nil {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	// Kept: the newest three (05, 04, 03), 02 (version 8, the one a rollback returns to), 00
	// (a server runs it); removed: 01, which only the old version 7 names.
	if want := []string{"ami-01"}; !slices.Equal(res.Removed, want) {
		t.Errorf("removed %v, want %v\n%s", res.Removed, want, out)
	}
	if want := []string{"snap-of-ami-01"}; !slices.Equal(res.Deleted, want) {
		t.Errorf("deleted snapshots %v, want %v", res.Deleted, want)
	}
	want := []string{"ami-00", "ami-02", "ami-03", "ami-04", "ami-05", "ami-other-project", "ami-other-stack", "ami-shared-with-us"}
	if got := f.ids(); !slices.Equal(got, want) {
		t.Errorf("images left %v, want %v", got, want)
	}
	for _, s := range []string{"snap-of-ami-00", "snap-of-ami-02", "snap-of-ami-other-stack", "snap-of-ami-shared-with-us"} {
		if !f.snapshots[s] {
			t.Errorf("snapshot %s was deleted", s)
		}
	}
	if want := []string{"DeregisterImage ami-01", "DeleteSnapshot snap-of-ami-01"}; !slices.Equal(f.mutating(), want) {
		t.Errorf("changes %v, want %v (the image first: EC2 refuses to delete a snapshot an image uses)", f.mutating(), want)
	}
	for _, says := range []string{"keep   ami-05", "one of the newest 3", "keep   ami-02", "launch template lt-web version 8 (the one before the latest",
		"keep   ami-00", "instance i-old", "remove ami-01", "removed ami-01 and its snapshots snap-of-ami-01"} {
		if !strings.Contains(out, says) {
			t.Errorf("output lacks %q:\n%s", says, out)
		}
	}
	if strings.Contains(out, "ami-other") || strings.Contains(out, "shared-with-us") {
		t.Errorf("the report names images that are not the stack's:\n%s", out)
	}
}

// The version the stack's group was set to (output webLaunchTemplateVersion) is in use too.
func TestPruneKeepsTheGroupsVersion(t *testing.T) {
	f := account()
	res, _, err := prune(t, f, Options{Keep: 2, LaunchTemplateID: "lt-web", Versions: []string{"7"}})
	if err != nil {
		t.Fatal(err)
	}
	// 05, 04 newest; 02 version 8; 01 version 7; 00 a server's: only 03 goes.
	if want := []string{"ami-03"}; !slices.Equal(res.Removed, want) {
		t.Errorf("removed %v, want %v", res.Removed, want)
	}
}

func TestPruneDryRunChangesNothing(t *testing.T) {
	f := account()
	res, out, err := prune(t, f, Options{Keep: 2, LaunchTemplateID: "lt-web", DryRun: true})
	if err != nil || len(f.mutating()) != 0 || len(res.Removed) != 0 {
		t.Fatalf("dry run: err %v, changes %v", err, f.mutating())
	}
	if !strings.Contains(out, "remove ami-03") || !strings.Contains(out, "dry run: nothing removed") {
		t.Errorf("a dry run says what it would remove:\n%s", out)
	}
}

// A stack with no more images than it keeps costs three reads at most: no in-use look-up.
func TestPruneNothingOlder(t *testing.T) {
	f := newFakeEC2()
	f.stackImage(0)
	f.stackImage(1)
	res, _, err := prune(t, f, Options{Keep: 3, LaunchTemplateID: "lt-web"})
	if err != nil || len(res.Decisions) != 2 || len(f.mutating()) != 0 {
		t.Fatalf("err %v, decisions %v, changes %v", err, res.Decisions, f.mutating())
	}
	if slices.ContainsFunc(f.calls, func(c string) bool { return !strings.HasPrefix(c, "DescribeImages") }) {
		t.Errorf("calls %v: nothing older than the kept images, nothing to look up", f.calls)
	}
}

// After `pulumi destroy` (no launch template, --keep 0): every image no instance uses goes,
// with its snapshots; one still being created stays.
func TestPruneADestroyedStack(t *testing.T) {
	f := account()
	f.find("ami-05").state = "pending"
	res, out, err := prune(t, f, Options{Keep: 0})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ami-04", "ami-03", "ami-02", "ami-01"}; !slices.Equal(res.Removed, want) {
		t.Errorf("removed %v, want %v (newest first; ami-00 runs, ami-05 is pending)\n%s", res.Removed, want, out)
	}
	if !strings.Contains(out, "still being created") {
		t.Errorf("output:\n%s", out)
	}
	if slices.ContainsFunc(f.calls, func(c string) bool { return strings.HasPrefix(c, "DescribeLaunchTemplateVersions") }) {
		t.Errorf("no launch template to read: %v", f.calls)
	}
}

// A failed deregistration leaves the image's snapshots (EC2 would refuse them anyway) and
// goes on; a failed snapshot delete names the command that finishes it.
func TestPruneGoesOnPastFailures(t *testing.T) {
	f := account()
	f.failDeregister["ami-03"] = true
	f.failSnapshot["snap-of-ami-01"] = true
	res, _, err := prune(t, f, Options{Keep: 2, LaunchTemplateID: "lt-web"})
	if err == nil {
		t.Fatal("no error for the failed removals")
	}
	for _, says := range []string{"deregister ami-03 (its snapshots snap-of-ami-03 are left)", "UnauthorizedOperation",
		"aws ec2 delete-snapshot --snapshot-id snap-of-ami-01"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("error lacks %q: %v", says, err)
		}
	}
	if slices.Contains(f.calls, "DeleteSnapshot snap-of-ami-03") {
		t.Error("the snapshot of an image still registered was deleted")
	}
	if want := []string{"ami-01"}; !slices.Equal(res.Removed, want) {
		t.Errorf("removed %v, want %v", res.Removed, want)
	}
}

// When what is in use cannot be read, nothing is removed.
func TestPruneRemovesNothingBlind(t *testing.T) {
	f := account()
	f.failTemplate = true
	if _, _, err := prune(t, f, Options{Keep: 2, LaunchTemplateID: "lt-web"}); err == nil || !strings.Contains(err.Error(), "launch template lt-web") {
		t.Errorf("err = %v", err)
	}
	if len(f.mutating()) != 0 {
		t.Errorf("changes %v without knowing what is in use", f.mutating())
	}
	if _, _, err := prune(t, account(), Options{Project: project, Keep: 2}); err == nil {
		t.Error("a prune without a stack name must refuse")
	}
}

func TestStackName(t *testing.T) {
	for in, want := range map[string]string{"dev": "dev", "org/scalable-wordpress/prod": "prod", "scalable-wordpress/dev": "dev"} {
		if got := StackName(in); got != want {
			t.Errorf("StackName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Tags("p", "s"); got["Name"] != "p-s-ami" || got["project"] != "p" || got["stack"] != "s" || len(got) != 3 {
		t.Errorf("Tags = %v", got)
	}
}
