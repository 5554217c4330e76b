package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The shared uploads: encrypted, reachable in every AZ from the web group only, through an
// access point as the web server's user, over TLS for the servers' role only, backed up.
func TestSharedUploads(t *testing.T) {
	r := mustRun(t, nil)
	fs := r.one(t, "aws:efs/fileSystem:FileSystem")
	if fs.Str("encrypted") != "true" || fs.Str("throughputMode") != throughputElastic {
		t.Errorf("%s: want encrypted with elastic throughput, got encrypted=%s throughputMode=%s", fs.URN, fs.Str("encrypted"), fs.Str("throughputMode"))
	}
	if !fs.Protect {
		t.Errorf("%s: with uploadsProtection (the default) Pulumi must refuse to delete or replace it", fs.URN)
	}
	if subnets := r.m.Named("aws:rds/subnetGroup:SubnetGroup", "db-subnets"); !slices.Contains(fs.Deps, subnets.URN) {
		t.Errorf("%s: must wait for the database's subnet group (built in the RDS instance's shadow), deps %v", fs.URN, fs.Deps)
	}

	// A mount target in every private subnet, in the uploads group only.
	var azs []string
	for _, mt := range r.ofType("aws:efs/mountTarget:MountTarget") {
		sn := r.byID(mt.Str("subnetId"))
		if mt.Str("fileSystemId") != out(fs, "id") || sn == nil || sn.Str("mapPublicIpOnLaunch") == "true" {
			t.Errorf("%s: want the file system in a private subnet, got %s in %s", mt.URN, mt.Str("fileSystemId"), mt.Str("subnetId"))
			continue
		}
		azs = append(azs, sn.Str("availabilityZone"))
		groups := unsecret(mt.Inputs["securityGroups"]).ArrayValue()
		if len(groups) != 1 || groupName(r, propString(groups[0])) != "uploads" {
			t.Errorf("%s: security groups %v, want the uploads group alone", mt.URN, groups)
		}
	}
	if !sameSet(azs, []string{"ap-northeast-1a", "ap-northeast-1c"}) {
		t.Errorf("mount targets in %v, want one in each AZ", azs)
	}

	ap := r.one(t, "aws:efs/accessPoint:AccessPoint")
	user, root := ap.Obj("posixUser"), ap.Obj("rootDirectory")
	creation := root["creationInfo"].ObjectValue()
	if propString(user["uid"]) != "48" || propString(user["gid"]) != "48" || propString(root["path"]) != "/uploads" ||
		propString(creation["ownerUid"]) != "48" || propString(creation["permissions"]) != "0755" {
		t.Errorf("%s: want /uploads owned by and written as apache (48), got user %v root %v", ap.URN, user, root)
	}

	// The file-system policy: the servers' role through the access point, never without TLS.
	var policy struct {
		Statement []struct {
			Effect    string
			Principal map[string]any
			Action    any
			Condition map[string]map[string]any
		}
	}
	doc := r.one(t, "aws:efs/fileSystemPolicy:FileSystemPolicy")
	if err := json.Unmarshal([]byte(doc.Str("policy")), &policy); err != nil {
		t.Fatalf("%s: %v", doc.URN, err)
	}
	role := r.m.Named("aws:iam/role:Role", "web-role")
	var allows, tlsDeny int
	for _, s := range policy.Statement {
		actions := jsonString(s.Action) // a string or a list, as JSON
		switch s.Effect {
		case "Allow":
			allows++
			if s.Principal["AWS"] != out(role, "arn") || s.Condition["StringEquals"]["elasticfilesystem:AccessPointArn"] != out(ap, "arn") {
				t.Errorf("%s: an Allow for %v without the servers' role and the access point: %+v", doc.URN, s.Principal, s)
			}
			if strings.Contains(actions, "ClientRootAccess") || strings.Contains(actions, "*") {
				t.Errorf("%s: allows %s; want mount and write only (root squashed)", doc.URN, actions)
			}
		case "Deny":
			if s.Condition["Bool"]["aws:SecureTransport"] == "false" && actions == `"*"` {
				tlsDeny++
			}
		}
	}
	if allows != 1 || tlsDeny != 1 {
		t.Errorf("%s: want one Allow for the servers and a Deny of every action without TLS, got %+v", doc.URN, policy)
	}

	if b := r.one(t, "aws:efs/backupPolicy:BackupPolicy"); propString(b.Obj("backupPolicy")["status"]) != "ENABLED" {
		t.Errorf("%s: backups must be on by default, got %v", b.URN, b.Obj("backupPolicy"))
	}

	// The servers find the file system and the access point in their settings.
	site := r.m.Named("aws:ssm/parameter:Parameter", "settings-site")
	var settings map[string]string
	if err := json.Unmarshal([]byte(site.Str("insecureValue")), &settings); err != nil {
		t.Fatal(err)
	}
	if settings[settingUploadsFS] != out(fs, "id") || settings[settingUploadsAP] != out(ap, "id") {
		t.Errorf("settings name file system %q and access point %q, want %q and %q", settings[settingUploadsFS], settings[settingUploadsAP], out(fs, "id"), out(ap, "id"))
	}
}

func TestSharedUploadsFollowConfig(t *testing.T) {
	r := mustRun(t, map[string]string{"uploadsThroughputMode": "bursting", "uploadsBackup": "false", "dbDeletionProtection": "true"})
	fs := r.one(t, "aws:efs/fileSystem:FileSystem")
	if fs.Str("throughputMode") != throughputBursting || !fs.Protect {
		t.Errorf("%s: want bursting and protected like the database, got %s protect=%v", fs.URN, fs.Str("throughputMode"), fs.Protect)
	}
	if b := r.one(t, "aws:efs/backupPolicy:BackupPolicy"); propString(b.Obj("backupPolicy")["status"]) != "DISABLED" {
		t.Errorf("uploadsBackup=false: backup policy %v", b.Obj("backupPolicy"))
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The uploads have their own protection key: Pulumi's protect follows uploadsProtection, not
// the database's dbDeletionProtection (a stack may protect one and not the other).
func TestUploadsProtectionIsItsOwnKey(t *testing.T) {
	for _, c := range []struct {
		config      map[string]string
		db, uploads bool
	}{
		{map[string]string{"dbDeletionProtection": "false", "uploadsProtection": "true"}, false, true},
		{map[string]string{"dbDeletionProtection": "true", "uploadsProtection": "false"}, true, false},
		{map[string]string{"dbDeletionProtection": "true", "uploadsProtection": "true"}, true, true},
		{map[string]string{"ephemeral": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false"}, false, false},
	} {
		r := mustRun(t, c.config)
		if db := r.one(t, "aws:rds/instance:Instance"); db.Protect != c.db {
			t.Errorf("%v: the database's protect = %v, want %v", c.config, db.Protect, c.db)
		}
		if fs := r.one(t, "aws:efs/fileSystem:FileSystem"); fs.Protect != c.uploads {
			t.Errorf("%v: the file system's protect = %v, want %v", c.config, fs.Protect, c.uploads)
		}
	}
}

// AWS Backup's role for the uploads' final backup may back up this file system and nothing
// else, restore a recovery point into a new file system of the region (cmd/backup restore),
// and carries the pipeline's boundary.
func TestUploadsBackupRole(t *testing.T) {
	r := mustRun(t, map[string]string{"iamPermissionsBoundary": testBoundary})
	fs := r.one(t, "aws:efs/fileSystem:FileSystem")
	role := r.m.Named("aws:iam/role:Role", "uploads-backup-role")
	assume := jsonInput(t, role, "assumeRolePolicy")
	st := assume["Statement"].([]any)[0].(map[string]any)
	if p := st["Principal"].(map[string]any)["Service"]; p != backupService || len(assume["Statement"].([]any)) != 1 {
		t.Errorf("%s: trusted by %v, want AWS Backup alone", role.URN, assume["Statement"])
	}
	if role.Str("permissionsBoundary") != testBoundary {
		t.Errorf("%s: permissions boundary %q, want %q", role.URN, role.Str("permissionsBoundary"), testBoundary)
	}
	policy := r.m.Named("aws:iam/rolePolicy:RolePolicy", "uploads-backup-role-policy")
	doc := jsonInput(t, policy, "policy")
	b, _ := json.Marshal(doc["Statement"])
	here := out(fs, "arn")[:strings.LastIndex(out(fs, "arn"), "/")]
	want := `[{"Action":["elasticfilesystem:Backup","elasticfilesystem:DescribeTags"],"Effect":"Allow","Resource":"` + out(fs, "arn") + `","Sid":"BackUpTheUploads"},` +
		`{"Action":["elasticfilesystem:Restore","elasticfilesystem:CreateFilesystem","elasticfilesystem:DescribeFilesystems","elasticfilesystem:TagResource"],"Effect":"Allow","Resource":"` + here + `/*","Sid":"RestoreTheUploads"},` +
		`{"Action":["elasticfilesystem:DeleteFilesystem"],"Condition":{"StringEquals":{"aws:ResourceTag/project":"` + testProject + `","aws:ResourceTag/stack":"` + testStack + `"}},"Effect":"Allow","Resource":"` + here + `/*","Sid":"DropAFailedRestore"},` +
		`{"Action":["elasticfilesystem:DeleteFilesystem"],"Effect":"Deny","Resource":"` + out(fs, "arn") + `","Sid":"KeepTheUploads"},` +
		`{"Action":["kms:DescribeKey","kms:GenerateDataKeyWithoutPlaintext","kms:CreateGrant"],"Condition":{"StringEquals":{"kms:ViaService":"elasticfilesystem.` + testRegion + `.amazonaws.com"}},"Effect":"Allow","Resource":"arn:aws:kms:` + testRegion + `:` + testAccount + `:key/*","Sid":"EncryptTheRestore"}]`
	if string(b) != want {
		t.Errorf("%s: %s, want %s", policy.URN, b, want)
	}
	if r.outputs["uploadsBackupRoleArn"] != out(role, "arn") || r.outputs["uploadsFileSystemArn"] != out(fs, "arn") {
		t.Errorf("outputs uploadsBackupRoleArn %v, uploadsFileSystemArn %v: want the role's and the file system's ARNs", r.outputs["uploadsBackupRoleArn"], r.outputs["uploadsFileSystemArn"])
	}
}
