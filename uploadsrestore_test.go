package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/pipeline"
)

const (
	efsFileSystem   = "aws:efs/fileSystem:FileSystem"
	efsMountTarget  = "aws:efs/mountTarget:MountTarget"
	efsAccessPoint  = "aws:efs/accessPoint:AccessPoint"
	efsPolicy       = "aws:efs/fileSystemPolicy:FileSystemPolicy"
	efsBackupPolicy = "aws:efs/backupPolicy:BackupPolicy"
	restoredFS      = "fs-0123456789abcdef0"
	restoredPath    = "/aws-backup-restore_2026-12-04T10-00-00-000Z/uploads"
)

// uploadsKey is an uploadsRestore value.
func uploadsKey(id, fs, path string) string {
	if path == "" {
		return fmt.Sprintf(`{"id":%q,"fileSystemId":%q}`, id, fs)
	}
	return fmt.Sprintf(`{"id":%q,"fileSystemId":%q,"path":%q}`, id, fs, path)
}

// uploadsSettings is the file system and access point the servers' settings name.
func uploadsSettings(t *testing.T, r *stackRun) (fs, ap string) {
	t.Helper()
	var settings map[string]string
	if err := json.Unmarshal([]byte(r.m.Named("aws:ssm/parameter:Parameter", "settings-site").Str("insecureValue")), &settings); err != nil {
		t.Fatal(err)
	}
	return settings[settingUploadsFS], settings[settingUploadsAP]
}

// sameOwnUploads fails unless the stack's own file system and what it has are declared as in
// base: same URNs, same inputs.
func sameOwnUploads(t *testing.T, what string, base, r *stackRun) {
	t.Helper()
	for _, typ := range []string{efsFileSystem, efsMountTarget, efsAccessPoint, efsPolicy, efsBackupPolicy} {
		for _, b := range base.ofType(typ) {
			x := r.byURN(b.URN)
			switch {
			case x == nil:
				t.Errorf("%s: %s is gone", what, b.URN)
			case fmt.Sprint(x.Inputs) != fmt.Sprint(b.Inputs) || x.Protect != b.Protect:
				t.Errorf("%s: %s changes\nbefore %v\nafter  %v", what, b.URN, b.Inputs, x.Inputs)
			}
		}
	}
}

// restoredOutput is the uploadsRestore output as JSON; "" when absent.
func restoredOutput(r *stackRun) string {
	v, ok := r.outputs["uploadsRestore"]
	if !ok || v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// A restored file system gets what the stack's own has, the servers' settings name it, and
// nothing else changes: the stack's own file system, the servers.
func TestUploadsRestoreHandsTheServersTheRestoredFileSystem(t *testing.T) {
	base := restoredUp(t, nil, nil)
	r := restoredUp(t, base.outputs, map[string]string{"uploadsRestore": uploadsKey("media-1", restoredFS, restoredPath)})
	sameOwnUploads(t, "uploadsRestore set", base, r)
	sameServers(t, "uploadsRestore set", base, r)
	if n := len(r.ofType(efsFileSystem)); n != 1 {
		t.Errorf("%d file systems declared, want the stack's own alone (the restored one is not managed)", n)
	}
	ownFS, ownAP := r.m.Named(efsFileSystem, "uploads-fs"), r.m.Named(efsAccessPoint, "uploads-ap")

	var azs []string
	for i := 1; i <= 2; i++ {
		mt := r.m.Named(efsMountTarget, fmt.Sprintf("uploads-restore-media-1-mount-%d", i))
		if mt == nil {
			t.Fatalf("no mount target %d for the restored file system", i)
		}
		sn := r.byID(mt.Str("subnetId"))
		if mt.Str("fileSystemId") != restoredFS || sn == nil || sn.Str("mapPublicIpOnLaunch") == "true" {
			t.Errorf("%s: want %s in a private subnet, got %s in %s", mt.URN, restoredFS, mt.Str("fileSystemId"), mt.Str("subnetId"))
			continue
		}
		azs = append(azs, sn.Str("availabilityZone"))
		groups := unsecret(mt.Inputs["securityGroups"]).ArrayValue()
		if len(groups) != 1 || groupName(r, propString(groups[0])) != "uploads" {
			t.Errorf("%s: security groups %v, want the uploads group alone", mt.URN, groups)
		}
	}
	if !sameSet(azs, []string{"ap-northeast-1a", "ap-northeast-1c"}) {
		t.Errorf("restored mount targets in %v, want one in each AZ", azs)
	}

	ap := r.m.Named(efsAccessPoint, "uploads-restore-media-1-ap")
	if ap == nil {
		t.Fatal("no access point for the restored file system")
	}
	root := ap.Obj("rootDirectory")
	if ap.Str("fileSystemId") != restoredFS || propString(root["path"]) != restoredPath ||
		fmt.Sprint(ap.Inputs["posixUser"]) != fmt.Sprint(ownAP.Inputs["posixUser"]) ||
		fmt.Sprint(root["creationInfo"]) != fmt.Sprint(ownAP.Obj("rootDirectory")["creationInfo"]) {
		t.Errorf("%s: want %s rooted at %s with the stack's POSIX user and permissions, got %v", ap.URN, restoredFS, restoredPath, ap.Inputs)
	}

	// The same policy as the stack's own, on the restored file system and its access point.
	policy := r.m.Named(efsPolicy, "uploads-restore-media-1-policy")
	ownPolicy := r.m.Named(efsPolicy, "uploads-policy")
	restoredARN := strings.Replace(out(ownFS, "arn"), out(ownFS, "id"), restoredFS, 1)
	want := strings.NewReplacer(out(ownFS, "arn"), restoredARN, out(ownAP, "arn"), out(ap, "arn")).Replace(ownPolicy.Str("policy"))
	if policy == nil || policy.Str("fileSystemId") != restoredFS || policy.Str("policy") != want {
		t.Fatalf("restored file system policy %v, want on %s:\n%s", policy, restoredFS, want)
	}
	if !strings.Contains(want, restoredARN) || !strings.Contains(want, "aws:SecureTransport") {
		t.Errorf("the policy %s names not %s or lacks TLS", want, restoredARN)
	}
	if b := r.m.Named(efsBackupPolicy, "uploads-restore-media-1-backup"); b == nil || b.Str("fileSystemId") != restoredFS ||
		propString(b.Obj("backupPolicy")["status"]) != "ENABLED" {
		t.Errorf("restored backup policy %v, want ENABLED on %s", b, restoredFS)
	}

	if fs, apID := uploadsSettings(t, r); fs != restoredFS || apID != out(ap, "id") {
		t.Errorf("settings name %s and %s, want %s and %s", fs, apID, restoredFS, out(ap, "id"))
	}
	// The settings wait for the restored mount targets, as for the stack's own.
	site := r.m.Named("aws:ssm/parameter:Parameter", "settings-site")
	for i := 1; i <= 2; i++ {
		mt := r.m.Named(efsMountTarget, fmt.Sprintf("uploads-restore-media-1-mount-%d", i))
		if !slices.Contains(site.Deps, mt.URN) {
			t.Errorf("%s: the settings do not wait for %s", site.URN, mt.URN)
		}
	}
	if got, want := restoredOutput(r), `{"fileSystemId":"`+restoredFS+`","id":"media-1","path":"`+restoredPath+`"}`; got != want {
		t.Errorf("output uploadsRestore %s, want %s", got, want)
	}
	if fs, _ := uploadsSettings(t, base); fs != out(base.m.Named(efsFileSystem, "uploads-fs"), "id") || restoredOutput(base) != "" {
		t.Errorf("without the key: settings name %s, output uploadsRestore %q; want the stack's own, no output", fs, restoredOutput(base))
	}
}

// Keeping the key keeps the hand-over; "own" goes back deliberately, after which the key may
// be cleared; a new id hands over another restore. path defaults to /uploads.
func TestUploadsRestoreLater(t *testing.T) {
	base := restoredUp(t, nil, nil)
	key := uploadsKey("media-1", restoredFS, "")
	r := restoredUp(t, base.outputs, map[string]string{"uploadsRestore": key})
	if ap := r.m.Named(efsAccessPoint, "uploads-restore-media-1-ap"); ap == nil || propString(ap.Obj("rootDirectory")["path"]) != "/uploads" {
		t.Fatalf("without path: access point %v, want rooted at /uploads", ap)
	}
	again := restoredUp(t, r.outputs, map[string]string{"uploadsRestore": key})
	for _, x := range r.m.Resources {
		if y := again.byURN(x.URN); y == nil || (x.Custom && fmt.Sprint(y.Inputs) != fmt.Sprint(x.Inputs)) {
			t.Errorf("the up after the hand-over changes %s", x.URN)
		}
	}

	back := restoredUp(t, r.outputs, map[string]string{"uploadsRestore": uploadsKey("media-1", uploadsOwnFS, "")})
	sameOwnUploads(t, "back to own", base, back)
	if fs, _ := uploadsSettings(t, back); fs != out(back.m.Named(efsFileSystem, "uploads-fs"), "id") || len(back.ofType(efsMountTarget)) != 2 || restoredOutput(back) != "" {
		t.Errorf(`"own": settings name %s, %d mount targets, output %q; want the stack's own alone, no output`, fs, len(back.ofType(efsMountTarget)), restoredOutput(back))
	}
	restoredUp(t, back.outputs, nil)

	other := restoredUp(t, r.outputs, map[string]string{"uploadsRestore": uploadsKey("media-2", "fs-0fedcba9876543210", "")})
	if fs, _ := uploadsSettings(t, other); fs != "fs-0fedcba9876543210" || other.m.Named(efsAccessPoint, "uploads-restore-media-1-ap") != nil {
		t.Errorf("a new id: settings name %s; want the new restore, and the first one's access point gone", fs)
	}
}

// Every refusal: one error naming the key, before any resource but the read of the last
// outputs.
func TestUploadsRestoreRefusals(t *testing.T) {
	base := restoredUp(t, nil, nil)
	served := restoredUp(t, base.outputs, map[string]string{"uploadsRestore": uploadsKey("media-1", restoredFS, restoredPath)})
	for _, tc := range []struct {
		name   string
		last   map[string]any
		config map[string]string
		says   []string
	}{
		{"not an object", base.outputs, map[string]string{"uploadsRestore": `"fs-0123456789abcdef0"`}, []string{"config uploadsRestore"}},
		{"an unknown field", base.outputs, map[string]string{"uploadsRestore": `{"id":"m","fileSystemId":"fs-0123456789abcdef0","dir":"/x"}`}, []string{"config uploadsRestore", `unknown field "dir"`}},
		{"no id", base.outputs, map[string]string{"uploadsRestore": `{"fileSystemId":"fs-0123456789abcdef0"}`}, []string{"config uploadsRestore", `id ""`}},
		{"an id with capitals", base.outputs, map[string]string{"uploadsRestore": uploadsKey("Media", restoredFS, "")}, []string{"config uploadsRestore", `id "Media"`}},
		{"not a file system ID", base.outputs, map[string]string{"uploadsRestore": uploadsKey("m", "fsap-0123456789abcdef0", "")}, []string{"config uploadsRestore", `fileSystemId "fsap-`}},
		{"a relative path", base.outputs, map[string]string{"uploadsRestore": uploadsKey("m", restoredFS, "uploads")}, []string{"config uploadsRestore", "absolute path"}},
		{"a path with ..", base.outputs, map[string]string{"uploadsRestore": uploadsKey("m", restoredFS, "/x/../uploads")}, []string{"config uploadsRestore", `without ".."`}},
		{"own with a path", base.outputs, map[string]string{"uploadsRestore": uploadsKey("m", uploadsOwnFS, "/uploads")}, []string{"config uploadsRestore", "drop path"}},
		{"cleared while a restore serves", served.outputs, nil,
			[]string{"config uploadsRestore", restoredFS, `"id": "media-1", "fileSystemId": "own"`, "data before the restore"}},
		{"another file system under the same id", served.outputs, map[string]string{"uploadsRestore": uploadsKey("media-1", "fs-0fedcba9876543210", restoredPath)},
			[]string{"config uploadsRestore", "same id", `"fileSystemId": "own"`, "new id"}},
		{"another path under the same id", served.outputs, map[string]string{"uploadsRestore": uploadsKey("media-1", restoredFS, "")},
			[]string{"config uploadsRestore", "same id", `"fileSystemId": "own"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkRefused(t, tc.last, tc.config, tc.says...)
		})
	}
}

// The deploy role attaches the stack's mount targets, access point and policies to a restored
// file system because AWS Backup copied the stack's tags onto it (the role is the project's:
// its project tag); another project's file system, or an untagged one, it may not touch.
func TestDeployRoleAttachesOnlyToTheStacksRestore(t *testing.T) {
	deploy := pipeline.DeployPolicies(testScope)
	var docs []pipeline.Document
	for _, d := range deploy {
		docs = append(docs, d)
	}
	for _, tc := range []struct {
		name  string
		tags  map[string]string
		allow bool
	}{
		{"the stack's tags", map[string]string{"project": testProject, "stack": testStack}, true},
		{"another project's", map[string]string{"project": "other-project", "stack": testStack}, false},
		{"untagged", nil, false},
	} {
		for _, action := range []string{"elasticfilesystem:CreateMountTarget", "elasticfilesystem:PutFileSystemPolicy", "elasticfilesystem:PutBackupPolicy"} {
			ctx := tagContext("aws:ResourceTag/", tc.tags)
			ctx["aws:RequestedRegion"] = []string{testRegion}
			d, err := pipeline.Evaluate(pipeline.Request{Action: action, Resource: restoredFileSystemARN(testRegion, restoredFS), Context: ctx}, docs...)
			if err != nil {
				t.Fatal(err)
			}
			if (d == pipeline.Allowed) != tc.allow {
				t.Errorf("%s on a restored file system with %s: %s, want allowed=%v", action, tc.name, d, tc.allow)
			}
		}
	}
}
