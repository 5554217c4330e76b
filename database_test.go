package main

import (
	"fmt"
	"strings"
	"testing"
)

// SEED-SPEC §3 and §9, with the hands-on's unsafe choices fixed.
func TestDatabaseInstance(t *testing.T) {
	r := mustRun(t, nil)
	db := r.one(t, "aws:rds/instance:Instance")
	want := map[string]string{
		"engine":                  "mysql",
		"engineVersion":           "8.4",
		"instanceClass":           "db.t4g.micro",
		"storageType":             "gp3",
		"allocatedStorage":        "20",
		"maxAllocatedStorage":     "100",
		"storageEncrypted":        "true",
		"publiclyAccessible":      "false",
		"multiAz":                 "true",
		"dbName":                  "wordpress",
		"username":                "admin",
		"port":                    "3306",
		"backupRetentionPeriod":   "7",
		"autoMinorVersionUpgrade": "true",
		"copyTagsToSnapshot":      "true",
		"deletionProtection":      "false", // runProgram's stack turns it off, like dev
		"skipFinalSnapshot":       "false",
		"finalSnapshotIdentifier": "scalable-wordpress-test-final",
	}
	for k, v := range want {
		if got := db.Str(k); got != v {
			t.Errorf("%s: %s = %q, want %q", db.URN, k, got, v)
		}
	}
	if az := db.Str("availabilityZone"); az != "" {
		t.Errorf("%s: Multi-AZ instance must let RDS place it, got availabilityZone %q", db.URN, az)
	}
	if !db.Inputs["password"].IsSecret() {
		t.Errorf("%s: password must be a secret input", db.URN)
	}
	if got := db.Str("password"); got != fakePassword("db-password", 32) {
		t.Errorf("%s: password is not the generated one", db.URN)
	}

	groups := db.Inputs["vpcSecurityGroupIds"].ArrayValue()
	if len(groups) != 1 || r.byID(groups[0].StringValue()) == nil {
		t.Fatalf("%s: must use exactly one security group of the stack, got %v", db.URN, groups)
	}
	subnets := r.byID(db.Str("dbSubnetGroupName"))
	if subnets == nil {
		t.Fatalf("%s: DB subnet group %q not found", db.URN, db.Str("dbSubnetGroupName"))
	}
	var cidrs []string
	for _, id := range subnets.Inputs["subnetIds"].ArrayValue() {
		cidrs = append(cidrs, r.byID(id.StringValue()).Str("cidrBlock"))
	}
	if strings.Join(cidrs, ",") != "10.0.2.0/24,10.0.3.0/24" {
		t.Errorf("%s: DB subnet group must hold the private subnets, got %v", subnets.URN, cidrs)
	}
	params := r.byID(db.Str("parameterGroupName"))
	if params == nil || params.Str("family") != "mysql8.4" {
		t.Fatalf("%s: want a mysql8.4 parameter group", db.URN)
	}
	p := params.Inputs["parameters"].ArrayValue()
	if len(p) != 1 || propString(p[0].ObjectValue()["name"]) != "require_secure_transport" || propString(p[0].ObjectValue()["value"]) != "1" {
		t.Errorf("%s: want require_secure_transport=1, got %v", params.URN, p)
	}
}

func TestDatabaseSingleAZAndProductionSwitches(t *testing.T) {
	r := mustRun(t, map[string]string{
		"dbMultiAz": "false", "dbDeletionProtection": "true", "dbFinalSnapshot": "false",
		"dbMaxAllocatedStorageGiB": "0", "dbBackupRetentionDays": "14",
	})
	db := r.one(t, "aws:rds/instance:Instance")
	for k, v := range map[string]string{
		"multiAz": "false", "availabilityZone": "ap-northeast-1a", "deletionProtection": "true",
		"skipFinalSnapshot": "true", "finalSnapshotIdentifier": "", "maxAllocatedStorage": "", "backupRetentionPeriod": "14",
	} {
		if got := db.Str(k); got != v {
			t.Errorf("%s: %s = %q, want %q", db.URN, k, got, v)
		}
	}
}

func TestDatabaseCredentialsSecret(t *testing.T) {
	r := mustRun(t, nil)
	secret := secretHolding(t, r, "password")
	var version *recorded
	for _, v := range r.ofType("aws:secretsmanager/secretVersion:SecretVersion") {
		if v.Str("secretId") == out(secret, "id") {
			version = v
		}
	}
	if !version.Inputs["secretString"].IsSecret() {
		t.Errorf("%s: secretString must be a secret input", version.URN)
	}
	v := jsonInput(t, version, "secretString")
	db := r.one(t, "aws:rds/instance:Instance")
	if v["username"] != db.Str("username") || v["password"] != db.Str("password") || v["dbname"] != db.Str("dbName") ||
		v["engine"] != "mysql" || fmt.Sprint(v["port"]) != db.Str("port") {
		t.Errorf("%s: the secret does not hold the database's credentials: %v", version.URN, v)
	}
}

// Every secret the stack keeps honours the configured recovery window, not only the DB's.
func TestEverySecretHasTheConfiguredRecoveryWindow(t *testing.T) {
	for _, days := range []string{"0", "7", "30"} {
		r := mustRun(t, map[string]string{"secretRecoveryWindowDays": days})
		secrets := r.ofType("aws:secretsmanager/secret:Secret")
		if len(secrets) < 2 {
			t.Fatalf("want the DB and WordPress secrets, got %d", len(secrets))
		}
		for _, s := range secrets {
			if s.Str("recoveryWindowInDays") != days {
				t.Errorf("secretRecoveryWindowDays=%s: %s has recoveryWindowInDays %q", days, s.URN, s.Str("recoveryWindowInDays"))
			}
		}
	}
}

func TestDatabaseHostHandoffParameter(t *testing.T) {
	r := mustRun(t, nil)
	p := handoffParameter(t, r, out(r.one(t, "aws:rds/instance:Instance"), "address"))
	if p.Str("name") != "/scalable-wordpress/test/db-host" || p.Str("type") != "String" {
		t.Errorf("%s: name %q type %q", p.URN, p.Str("name"), p.Str("type"))
	}
}

func TestFinalSnapshotID(t *testing.T) {
	cases := map[[2]string]string{
		{"scalable-wordpress", "dev"}:   "scalable-wordpress-dev-final",
		{"My_Proj", "prod.eu--1"}:       "my-proj-prod-eu-1-final",
		{"1proj", "x"}:                  "wp-1proj-x-final",
		{"p", strings.Repeat("a", 300)}: "p-" + strings.Repeat("a", 238) + "-final",
	}
	for in, want := range cases {
		if got := finalSnapshotID(in[0], in[1]); got != want {
			t.Errorf("finalSnapshotID(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
