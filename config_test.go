package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Bad config fails before anything is registered, with one message naming the key, the
// value and what is allowed.
func TestInvalidConfigFailsBeforeAnyResource(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]string
		want      []string // substrings of the error
	}{
		{"no region", map[string]string{"aws:region": "<unset>"}, []string{"aws:region"}},
		{"one AZ", map[string]string{"availabilityZones": `["ap-northeast-1a"]`}, []string{"availabilityZones", "at least two"}},
		{"duplicate AZ", map[string]string{"availabilityZones": `["ap-northeast-1a","ap-northeast-1a"]`}, []string{"availabilityZones", "distinct"}},
		{"AZ of another region", map[string]string{"availabilityZones": `["us-east-1a","us-east-1b"]`}, []string{"availabilityZones", "us-east-1a", "ap-northeast-1"}},
		{"AZ that does not exist", map[string]string{"availabilityZones": `["ap-northeast-1a","ap-northeast-1b"]`}, []string{"availabilityZones", "ap-northeast-1b", "available: ap-northeast-1a, ap-northeast-1c, ap-northeast-1d"}},
		{"AZ list not JSON", map[string]string{"availabilityZones": `ap-northeast-1a`}, []string{"availabilityZones", "list of strings"}},
		{"VPC CIDR garbage", map[string]string{"vpcCidr": "10.0.0.0/33"}, []string{"vpcCidr", "10.0.0.0/33", "/16 to /28"}},
		{"VPC CIDR host bits", map[string]string{"vpcCidr": "10.0.0.1/16"}, []string{"vpcCidr", "host bits"}},
		{"VPC too big", map[string]string{"vpcCidr": "10.0.0.0/8"}, []string{"vpcCidr", "/16 to /28"}},
		{"subnet outside VPC", map[string]string{"publicSubnetCidrs": `["10.1.0.0/24","10.0.1.0/24"]`}, []string{"publicSubnetCidrs", "10.1.0.0/24", "inside vpcCidr"}},
		{"subnets overlap", map[string]string{"privateSubnetCidrs": `["10.0.1.0/24","10.0.3.0/24"]`}, []string{"privateSubnetCidrs", "10.0.1.0/24", "overlaps"}},
		{"subnet count", map[string]string{"publicSubnetCidrs": `["10.0.0.0/24"]`}, []string{"publicSubnetCidrs", "one CIDR per AZ"}},
		{"too few private subnets", map[string]string{"privateSubnetCidrs": `["10.0.2.0/24"]`}, []string{"privateSubnetCidrs", "10.0.2.0/24", "one CIDR per AZ"}},
		{"no private subnets", map[string]string{"privateSubnetCidrs": `[]`}, []string{"privateSubnetCidrs", "one CIDR per AZ"}},
		{"default AZs, three subnets", map[string]string{"publicSubnetCidrs": `["10.0.0.0/24","10.0.1.0/24","10.0.4.0/24"]`}, []string{"publicSubnetCidrs", "one CIDR per AZ (2)"}},
		{"more AZs than subnets", map[string]string{"availabilityZones": `["ap-northeast-1a","ap-northeast-1c","ap-northeast-1d"]`}, []string{"publicSubnetCidrs", "one CIDR per AZ (3)"}},
		{"a /28 public subnet", map[string]string{"publicSubnetCidrs": `["10.0.0.0/28","10.0.1.0/24"]`}, []string{"publicSubnetCidrs", "10.0.0.0/28", "/27 or larger", "Application Load Balancer"}},
		{"a /28 private subnet", map[string]string{"privateSubnetCidrs": `["10.0.2.0/24","10.0.3.0/28"]`}, []string{"privateSubnetCidrs", "10.0.3.0/28", "/27 or larger", "Application Load Balancer"}},
		{"no final snapshot on a stack that is not ephemeral", map[string]string{"dbFinalSnapshot": "false"}, []string{"dbFinalSnapshot", "false", "not ephemeral", "ephemeral: true"}},
		{"a final snapshot on an ephemeral stack", map[string]string{"ephemeral": "true", "uploadsProtection": "false"}, []string{"dbFinalSnapshot", "true", "ephemeral stack", "set dbFinalSnapshot false"}},
		{"deletion protection on an ephemeral stack", map[string]string{"ephemeral": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false", "dbDeletionProtection": "true"}, []string{"dbDeletionProtection", "true", "ephemeral stack", "set dbDeletionProtection false"}},
		{"uploads protection on an ephemeral stack", map[string]string{"ephemeral": "true", "dbFinalSnapshot": "false"}, []string{"uploadsProtection", "true", "ephemeral stack", "set uploadsProtection false"}},
		{"a staging stack that is not ephemeral", map[string]string{"staging": "true"}, []string{"config staging", "true", "set ephemeral true", "docs/staging.md"}},
		{"staging that is not a boolean", map[string]string{"staging": "yes"}, []string{"staging", "yes"}},
		{"ephemeral not a bool", map[string]string{"ephemeral": "sometimes"}, []string{"ephemeral", "sometimes", "true or false"}},
		{"zero servers", map[string]string{"webServerCount": "0"}, []string{"webServerCount", "0", "1 to 20"}},
		{"servers not a number", map[string]string{"webServerCount": "two"}, []string{"webServerCount", "two", "whole number"}},
		{"import without a dump or the old URL", map[string]string{"importFrom": `{"uploads": "s3://b-1/u.tar.gz"}`}, []string{"importFrom", "name the database dump, or the siteUrl"}},
		{"import field unknown", map[string]string{"importFrom": `{"database": "s3://b-1/scalable-wordpress-import/s.sql", "db": "x"}`}, []string{"importFrom", "unknown field", `"db"`}},
		{"import dump not S3", map[string]string{"importFrom": `{"database": "https://b-1/s.sql"}`}, []string{"importFrom.database", "s3://BUCKET/KEY"}},
		{"import key with a quote", map[string]string{"importFrom": `{"database": "s3://b-1/it's.sql"}`}, []string{"importFrom.database", "s3://BUCKET/KEY"}},
		{"import key escaping", map[string]string{"importFrom": `{"database": "s3://b-1/a/../s.sql"}`}, []string{"importFrom.database"}},
		{"import dump not SQL", map[string]string{"importFrom": `{"database": "s3://b-1/scalable-wordpress-import/s.zip"}`}, []string{"importFrom.database", ".sql, .sql.gz"}},
		{"import uploads not an archive", map[string]string{"importFrom": `{"database": "s3://b-1/scalable-wordpress-import/s.sql", "uploads": "s3://b-1/scalable-wordpress-import/u.rar"}`}, []string{"importFrom.uploads", ".tar.gz, .tgz, .tar, .zip"}},
		{"import old URL not a URL", map[string]string{"importFrom": `{"database": "s3://b-1/scalable-wordpress-import/s.sql", "siteUrl": "old.example.com"}`}, []string{"importFrom.siteUrl", "https://old.example.com"}},
		{"import key outside the prefix", map[string]string{"importFrom": `{"database": "s3://b-1/backups/s.sql"}`}, []string{"importFrom.database", "scalable-wordpress-import/"}},
		{"import not an object", map[string]string{"importFrom": `s3://b-1/s.sql`}, []string{"importFrom", "want an object"}},
		{"root volume not a number", map[string]string{"rootVolumeSizeGiB": "20GiB"}, []string{"rootVolumeSizeGiB", "20GiB", "whole number"}},
		{"empty admin e-mail", map[string]string{"adminEmail": ""}, []string{"adminEmail", "required"}},
		{"instance type", map[string]string{"instanceType": "huge"}, []string{"instanceType", "huge"}},
		{"unknown web tier mode", map[string]string{"webTierMode": "kubernetes"}, []string{"webTierMode", "kubernetes", "autoscaling", "fixed"}},
		{"group min above max", map[string]string{"webMinSize": "4", "webMaxSize": "3", "webDesiredCapacity": "4"}, []string{"webMaxSize", "3", "webMinSize (4)"}},
		{"desired below min", map[string]string{"webMinSize": "2", "webDesiredCapacity": "1"}, []string{"webDesiredCapacity", "1", "webMinSize (2)"}},
		{"desired above max", map[string]string{"webMaxSize": "3", "webDesiredCapacity": "5"}, []string{"webDesiredCapacity", "5", "webMaxSize (3)"}},
		{"no servers in the group", map[string]string{"webMinSize": "0"}, []string{"webMinSize", "0"}},
		{"unknown scaling metric", map[string]string{"scalingMetric": "memory"}, []string{"scalingMetric", "memory", "requests", "cpu"}},
		{"CPU target too high", map[string]string{"scalingCpuPercent": "99"}, []string{"scalingCpuPercent", "99", "10 to 90"}},
		{"requests target negative", map[string]string{"scalingRequestsPerTarget": "-5"}, []string{"scalingRequestsPerTarget", "-5", "0 to derive it"}},
		{"bake shorter than the rollout alarms need", map[string]string{"releaseBakeMinutes": strconv.Itoa(minReleaseBakeMinutes() - 1)},
			[]string{"releaseBakeMinutes", strconv.Itoa(minReleaseBakeMinutes() - 1), fmt.Sprintf("want %d to %d minutes", minReleaseBakeMinutes(), maxReleaseBakeMinutes), "rollout alarms need"}},
		{"no bake", map[string]string{"releaseBakeMinutes": "0"}, []string{"releaseBakeMinutes", "0", "rollout alarms need"}},
		{"bake past the deploy's watch", map[string]string{"releaseBakeMinutes": strconv.Itoa(maxReleaseBakeMinutes + 1)},
			[]string{"releaseBakeMinutes", strconv.Itoa(maxReleaseBakeMinutes + 1), "outlasts the deploy workflow's rollout watch"}},
		{"bake not a number", map[string]string{"releaseBakeMinutes": "10m"}, []string{"releaseBakeMinutes", "10m", "whole number"}},
		{"apply immediately not a bool", map[string]string{"dbApplyImmediately": "soon"}, []string{"dbApplyImmediately", "soon", "true or false"}},
		{"AMI id", map[string]string{"amiId": "ubuntu"}, []string{"amiId", "ubuntu"}},
		{"root volume", map[string]string{"rootVolumeSizeGiB": "4"}, []string{"rootVolumeSizeGiB", "8 to 1024"}},
		{"one image kept", map[string]string{"imagesKept": "1"}, []string{"imagesKept", "1", "2 to 20", "rollback can launch it"}},
		{"no image kept", map[string]string{"imagesKept": "0"}, []string{"imagesKept", "0", "2 to 20"}},
		{"too many images kept", map[string]string{"imagesKept": "21"}, []string{"imagesKept", "21", "2 to 20"}},
		{"images kept not a number", map[string]string{"imagesKept": "three"}, []string{"imagesKept", "three", "whole number"}},
		{"SSH to the world", map[string]string{"sshCidr": "0.0.0.0/0"}, []string{"sshCidr", "0.0.0.0/0", "SSM Session Manager"}},
		{"SSH CIDR garbage", map[string]string{"sshCidr": "my-laptop"}, []string{"sshCidr", "my-laptop"}},
		{"locale", map[string]string{"wordpressLocale": "xx_YY"}, []string{"wordpressLocale", "xx_YY", "ja"}},
		{"PHP 7.4", map[string]string{"phpVersion": "7.4"}, []string{"phpVersion", "7.4", "8.3"}},
		{"admin user admin", map[string]string{"adminUser": "admin"}, []string{"adminUser", "admin"}},
		{"no admin e-mail", map[string]string{"adminEmail": "<unset>"}, []string{"adminEmail", "required"}},
		{"bad admin e-mail", map[string]string{"adminEmail": "Admin <a@example.com>"}, []string{"adminEmail", "bare e-mail"}},
		{"empty title", map[string]string{"siteTitle": " "}, []string{"siteTitle"}},
		{"MySQL 8.0", map[string]string{"dbEngineVersion": "8.0"}, []string{"dbEngineVersion", "8.0", "8.4", "standard support"}},
		{"MySQL 8.0 unquoted in YAML", map[string]string{"dbEngineVersion": "8"}, []string{"dbEngineVersion", "8", "quote versions"}},
		{"DB class", map[string]string{"dbInstanceClass": "t3.micro"}, []string{"dbInstanceClass", "t3.micro"}},
		{"DB storage", map[string]string{"dbAllocatedStorageGiB": "5"}, []string{"dbAllocatedStorageGiB", "20 to 6144"}},
		{"DB max storage below allocated", map[string]string{"dbMaxAllocatedStorageGiB": "10"}, []string{"dbMaxAllocatedStorageGiB", "10"}},
		{"backups off", map[string]string{"dbBackupRetentionDays": "0"}, []string{"dbBackupRetentionDays", "1 to 35"}},
		{"multi-AZ not a bool", map[string]string{"dbMultiAz": "yes please"}, []string{"dbMultiAz", "true or false"}},
		{"recovery window", map[string]string{"secretRecoveryWindowDays": "3"}, []string{"secretRecoveryWindowDays", "7 to 30"}},
		{"health check path", map[string]string{"healthCheckPath": "wp-login.php"}, []string{"healthCheckPath", "wp-login.php", "starting with '/'"}},
		{"certificate ARN", map[string]string{"certificateArn": "my-cert"}, []string{"certificateArn", "my-cert"}},
		{"ALB certificate in another region", map[string]string{"edge": "alb", "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"}, []string{"certificateArn", "ap-northeast-1", "edge alb"}},
		{"CloudFront certificate outside us-east-1", map[string]string{"siteDomain": "www.example.com", "certificateArn": "arn:aws:acm:ap-northeast-1:123456789012:certificate/abc-123"}, []string{"certificateArn", "us-east-1", "edge cloudfront"}},
		{"CloudFront certificate without its domain", map[string]string{"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"}, []string{"siteDomain", "certificateArn"}},
		{"unknown edge", map[string]string{"edge": "fastly"}, []string{"edge", "fastly", "cloudfront", "alb"}},
		{"page TTL", map[string]string{"cdnPageTtlSeconds": "-1"}, []string{"cdnPageTtlSeconds", "-1", "0 to 86400"}},
		{"page TTL over a day", map[string]string{"cdnPageTtlSeconds": "86401"}, []string{"cdnPageTtlSeconds", "86401"}},
		{"login rate below WAF's minimum", map[string]string{"wafLoginRateLimit": "5"}, []string{"wafLoginRateLimit", "5", "10 to"}},
		{"waf not a bool", map[string]string{"waf": "maybe"}, []string{"waf", "maybe", "true or false"}},
		{"cdnAccessLogs not a bool", map[string]string{"cdnAccessLogs": "sometimes"}, []string{"cdnAccessLogs", "sometimes", "true or false"}},
		{"site domain with scheme", map[string]string{"siteDomain": "https://example.com"}, []string{"siteDomain", "no scheme"}},
		{"reserved tag", map[string]string{"tags": `{"Name":"x"}`}, []string{"tags", "Name"}},
		{"aws: tag", map[string]string{"tags": `{"aws:foo":"x"}`}, []string{"tags", "aws:foo"}},
		{"tags not a map", map[string]string{"tags": `["a"]`}, []string{"tags", "map of strings"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runProgram(t, c.overrides)
			if r.err == nil {
				t.Fatalf("config %v was accepted", c.overrides)
			}
			for _, w := range c.want {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("error %q does not mention %q", r.err, w)
				}
			}
			if n := len(r.m.Resources); n != 0 {
				t.Errorf("%d resources were registered before the config error", n)
			}
		})
	}
}

func TestValidConfigVariantsAccepted(t *testing.T) {
	for _, o := range []map[string]string{
		{"wordpressLocale": "en_US", "phpVersion": "8.4", "instanceType": "t4g.small"},
		{"vpcCidr": "10.0.0.0/24", "publicSubnetCidrs": `["10.0.0.0/27","10.0.0.32/27"]`, "privateSubnetCidrs": `["10.0.0.64/27","10.0.0.96/27"]`},
		{"ephemeral": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false"},
		{"ephemeral": "true", "staging": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false", importFromKey: `{"siteUrl": "https://www.example.com"}`},
		{"sshCidr": "198.51.100.7/32", "siteDomain": testIssuedDomain},
		{"edge": "alb", "siteDomain": "blog.example.com"},
		{"edge": "alb", "waf": "true", "certificateArn": testALBCertificate, "siteDomain": "www.example.com"},
		{"siteDomain": "blog.example.com", "certificateArn": testCDNCertificate, "cdnPageTtlSeconds": "0"},
		{"vpcCidr": "172.20.0.0/20", "publicSubnetCidrs": `["172.20.0.0/24","172.20.1.0/24"]`, "privateSubnetCidrs": `["172.20.8.0/22","172.20.12.0/22"]`},
		{"secretRecoveryWindowDays": "0", "dbMaxAllocatedStorageGiB": "0"},
		{"releaseBakeMinutes": strconv.Itoa(minReleaseBakeMinutes())},
		{"releaseBakeMinutes": strconv.Itoa(maxReleaseBakeMinutes), "webTierMode": "fixed"},
		{"importFrom": `{"database": "s3://old-site.backups/scalable-wordpress-import/2026/site.sql.gz", "uploads": "s3://old-site.backups/scalable-wordpress-import/2026/uploads.zip", "siteUrl": "https://old.example.com/blog"}`},
	} {
		if r := runProgram(t, o); r.err != nil {
			t.Errorf("config %v rejected: %v", o, r.err)
		}
	}
}

// Pulumi.yaml is the only source of defaults: it declares every key the program reads, and
// the program reads every key it declares and holds no default of its own. Removing any one
// declared key from what the engine hands over must fail, naming it, before any resource.
func TestPulumiYamlIsTheOnlySourceOfDefaults(t *testing.T) {
	p := readProjectFile(t)
	if p.Name != testProject {
		t.Errorf("project name %q, tests assume %q", p.Name, testProject)
	}
	for key, decl := range p.Config {
		if decl.Type == "" || decl.Description == "" {
			t.Errorf("Pulumi.yaml: %s needs a type and a description", key)
		}
		if _, required := requiredKeys[key]; decl.Default == nil && !required {
			t.Errorf("Pulumi.yaml: %s has no default and is not a required key", key)
		}
	}
	// Only the declared defaults (plus the region and the required keys): every key the
	// program reads is there, or this fails with "not set".
	if r := runProgram(t, nil); r.err != nil {
		t.Fatalf("Pulumi.yaml's defaults rejected: %v", r.err)
	}
	for key := range p.Config {
		t.Run(key, func(t *testing.T) {
			r := runProgram(t, map[string]string{key: "<unset>"})
			if r.err == nil {
				t.Fatalf("the program ran without %s: it keeps a default of its own or never reads the key", key)
			}
			if !strings.Contains(r.err.Error(), "config "+key+" ") && !strings.Contains(r.err.Error(), "config "+key+":") {
				t.Errorf("error %q does not name %s", r.err, key)
			}
			if n := len(r.m.Resources); n != 0 {
				t.Errorf("%d resources were registered before the config error", n)
			}
		})
	}
}

// The declared defaults are the hands-on's values where sound and safe ones where not, typed.
func TestDefaultsAreSafe(t *testing.T) {
	c := mustRun(t, map[string]string{"dbDeletionProtection": configText(readProjectFile(t).Config["dbDeletionProtection"].Default)}).cfg
	checks := map[string]bool{
		"two AZs of the region":            strings.Join(c.AvailabilityZones, ",") == "ap-northeast-1a,ap-northeast-1c",
		"the hands-on's /16 and four /24s": c.VpcCidr == "10.0.0.0/16" && len(c.PublicSubnetCidrs) == 2 && len(c.PrivateSubnetCidrs) == 2,
		"two web servers":                  c.WebServerCount == 2,
		"SSH closed":                       c.SSHCidr == "" && c.KeyPairName == "",
		"Multi-AZ database":                c.DBMultiAZ,
		"deletion protection":              c.DBDeletionProtection,
		"final snapshot":                   c.DBFinalSnapshot,
		"not ephemeral":                    !c.Ephemeral,
		"uploads protected":                c.UploadsProtection,
		"a week of backups":                c.DBBackupRetentionDays == 7,
		"restorable secrets":               c.SecretRecoveryWindowDays == 7,
		"MySQL in standard support":        c.DBEngineVersion == "8.4",
		"no extra tags":                    len(c.ExtraTags) == 0,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("Pulumi.yaml's defaults: want %s, got %+v", what, c)
		}
	}
}

// The dev stack is the hands-on's: Tokyo, 1a/1c, the four /24s, and it tears down cleanly.
func TestDevStackFile(t *testing.T) {
	var c Config
	if err := runProgramWith(t, devStackConfig(t), func(got Config) { c = got }); err != nil {
		t.Fatalf("dev stack rejected: %v", err)
	}
	if c.Region != "ap-northeast-1" || strings.Join(c.AvailabilityZones, ",") != "ap-northeast-1a,ap-northeast-1c" ||
		strings.Join(c.PublicSubnetCidrs, ",") != "10.0.0.0/24,10.0.1.0/24" || strings.Join(c.PrivateSubnetCidrs, ",") != "10.0.2.0/24,10.0.3.0/24" {
		t.Errorf("dev stack is not the hands-on's network: %+v", c)
	}
	if !c.Ephemeral || c.DBDeletionProtection || c.DBFinalSnapshot || c.UploadsProtection || c.SecretRecoveryWindowDays != 0 {
		t.Errorf("dev stack must be ephemeral and destroy cleanly: ephemeral %v, deletion protection %v, final snapshot %v, uploads protection %v, recovery %d",
			c.Ephemeral, c.DBDeletionProtection, c.DBFinalSnapshot, c.UploadsProtection, c.SecretRecoveryWindowDays)
	}
}

// devStackConfig is Pulumi.dev.yaml's config as the CLI hands it to the program.
func devStackConfig(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("Pulumi.dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("Pulumi.dev.yaml: %v", err)
	}
	out := map[string]string{}
	for k, v := range f.Config {
		switch v := v.(type) {
		case string:
			out[k] = v
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	if _, pinned := f.Config[testProject+":availabilityZones"]; pinned {
		t.Error("Pulumi.dev.yaml pins availabilityZones: changing aws:region alone would then fail")
	}
	return out
}

// runProgramWith runs the program and hands the loaded config to inspect.
func runProgramWith(t *testing.T, overrides map[string]string, inspect func(Config)) error {
	t.Helper()
	r := runProgram(t, overrides)
	if r.err != nil {
		return r.err
	}
	inspect(r.cfg)
	return nil
}

// Choosing a region is one step: the dev stack with only aws:region changed deploys over that
// region's first two AZs (in name order, whatever order AWS lists them in).
func TestChoosingARegionIsOneStep(t *testing.T) {
	overrides := devStackConfig(t)
	overrides["aws:region"] = "us-west-2"
	var c Config
	if err := runProgramWith(t, overrides, func(got Config) { c = got }); err != nil {
		t.Fatalf("dev stack in us-west-2 rejected: %v", err)
	}
	if strings.Join(c.AvailabilityZones, ",") != "us-west-2a,us-west-2c" {
		t.Errorf("AZs %v, want the region's first two", c.AvailabilityZones)
	}
	r := runProgram(t, overrides)
	var azs []string
	for _, sn := range r.ofType("aws:ec2/subnet:Subnet") {
		azs = append(azs, sn.Str("availabilityZone"))
	}
	slices.Sort(azs)
	if strings.Join(azs, ",") != "us-west-2a,us-west-2a,us-west-2c,us-west-2c" {
		t.Errorf("subnets in %v, want a public and a private one in each chosen AZ", azs)
	}
}
