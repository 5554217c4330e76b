package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// servers returns the web instances keyed by logical name.
func servers(r *stackRun) map[string]*recorded {
	out := map[string]*recorded{}
	for _, x := range r.ofType("aws:ec2/instance:Instance") {
		out[x.Name] = x
	}
	return out
}

// SEED-SPEC §2, §6, §7: a first server from the current AL2023, an image of it, the rest
// from the image, spread over the AZs.
func TestWebServersAndImage(t *testing.T) {
	r := mustRun(t, map[string]string{"webServerCount": "3"})
	s := servers(r)
	if len(s) != 3 {
		t.Fatalf("want 3 web servers, got %d", len(s))
	}
	ami := r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance")
	if ami.Str("sourceInstanceId") != "i-web-web-1" {
		t.Errorf("%s: image must be taken from web-1, got %q", ami.URN, ami.Str("sourceInstanceId"))
	}
	if ami.Str("snapshotWithoutReboot") != "false" {
		t.Errorf("%s: image must be taken with a reboot, as in the hands-on", ami.URN)
	}
	wantAMI := map[string]string{"web-web-1": testAMI, "web-web-2": "ami-from-web-ami", "web-web-3": "ami-from-web-ami"}
	wantAZ := map[string]string{"web-web-1": "ap-northeast-1a", "web-web-2": "ap-northeast-1c", "web-web-3": "ap-northeast-1a"}
	userData := s["web-web-1"].Str("userData")
	for name, inst := range s {
		if got := inst.Str("ami"); got != wantAMI[name] {
			t.Errorf("%s: ami = %q, want %q", inst.URN, got, wantAMI[name])
		}
		if got := inst.Outputs["availabilityZone"].StringValue(); got != wantAZ[name] {
			t.Errorf("%s: AZ = %q, want %q", inst.URN, got, wantAZ[name])
		}
		if inst.Str("instanceType") != "t3.micro" || inst.Str("associatePublicIpAddress") != "true" {
			t.Errorf("%s: instanceType %q, public IP %q", inst.URN, inst.Str("instanceType"), inst.Str("associatePublicIpAddress"))
		}
		if inst.Str("userData") != userData {
			t.Errorf("%s: every server must run the same converging user data", inst.URN)
		}
		if inst.Str("iamInstanceProfile") != "web-profile-abc123" {
			t.Errorf("%s: instance profile %q", inst.URN, inst.Str("iamInstanceProfile"))
		}
		sgs := inst.Inputs["vpcSecurityGroupIds"].ArrayValue()
		if len(sgs) != 1 || sgs[0].StringValue() != "sg-web-sg" {
			t.Errorf("%s: security groups %v, want only the web group", inst.URN, sgs)
		}
		if inst.Str("keyName") != "" {
			t.Errorf("%s: no key pair by default, got %q", inst.URN, inst.Str("keyName"))
		}
	}
}

func TestServersSpreadOverEveryAZ(t *testing.T) {
	for _, n := range []int{2, 4, 5} {
		r := mustRun(t, map[string]string{"webServerCount": fmt.Sprint(n)})
		perAZ := map[string]int{}
		for _, inst := range servers(r) {
			perAZ[inst.Outputs["availabilityZone"].StringValue()]++
		}
		a, c := perAZ["ap-northeast-1a"], perAZ["ap-northeast-1c"]
		if a+c != n || a-c > 1 || c-a > 1 || c == 0 {
			t.Errorf("webServerCount=%d: spread %v, want balanced over both AZs", n, perAZ)
		}
	}
}

func TestSingleServerStillGetsImage(t *testing.T) {
	r := mustRun(t, map[string]string{"webServerCount": "1"})
	if len(servers(r)) != 1 || len(r.ofType("aws:ec2/amiFromInstance:AmiFromInstance")) != 1 {
		t.Errorf("webServerCount=1: want one server and its image")
	}
}

func TestPinnedAMIAndGraviton(t *testing.T) {
	r := mustRun(t, map[string]string{"amiId": "ami-0123456789abcdef0", "keyPairName": "ops"})
	inst := servers(r)["web-web-1"]
	if inst.Str("ami") != "ami-0123456789abcdef0" || inst.Str("keyName") != "ops" {
		t.Errorf("%s: ami %q keyName %q", inst.URN, inst.Str("ami"), inst.Str("keyName"))
	}
	for _, c := range r.m.Calls {
		if c == "aws:ssm/getParameter:getParameter" {
			t.Errorf("a pinned amiId must not look up the latest image")
		}
	}
	for typ, want := range map[string]string{"t3.micro": "x86_64", "t4g.small": "arm64", "m7gd.large": "arm64",
		"c7gn.xlarge": "arm64", "g5.xlarge": "x86_64", "m6a.large": "x86_64", "r7iz.large": "x86_64"} {
		if got := architecture(typ); got != want {
			t.Errorf("architecture(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestServerRoleIsScopedToItsOwnSecretsAndParameters(t *testing.T) {
	r := mustRun(t, nil)
	role := r.one(t, "aws:iam/role:Role")
	assume := jsonInput(t, role, "assumeRolePolicy")
	stmt := assume["Statement"].([]any)[0].(map[string]any)
	if stmt["Principal"].(map[string]any)["Service"] != "ec2.amazonaws.com" || stmt["Action"] != "sts:AssumeRole" {
		t.Errorf("%s: trust policy %v", role.URN, assume)
	}
	att := r.one(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	if att.Str("policyArn") != "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" {
		t.Errorf("%s: want only the SSM core policy attached, got %q", att.URN, att.Str("policyArn"))
	}
	policy := jsonInput(t, r.one(t, "aws:iam/rolePolicy:RolePolicy"), "policy")
	got := map[string][]string{}
	for _, s := range policy["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Effect"] != "Allow" {
			t.Errorf("unexpected statement %v", st)
		}
		for _, res := range st["Resource"].([]any) {
			if strings.Contains(res.(string), "*") {
				t.Errorf("statement %v: wildcard resource %q", st["Sid"], res)
			}
			got[st["Action"].(string)] = append(got[st["Action"].(string)], res.(string))
		}
	}
	for _, v := range got {
		sort.Strings(v)
	}
	want := map[string][]string{
		"secretsmanager:GetSecretValue": {
			"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-credentials-abc123-XyZ123",
			"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:web-wordpress-abc123-XyZ123",
		},
		"ssm:GetParameter": {
			"arn:aws:ssm:ap-northeast-1:123456789012:parameter/scalable-wordpress/test/db-host",
			"arn:aws:ssm:ap-northeast-1:123456789012:parameter/scalable-wordpress/test/site-url",
		},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("role policy grants\n %s\nwant\n %s", gotJSON, wantJSON)
	}
	// The hand-off parameters the policy names are the ones the program creates.
	for _, p := range r.ofType("aws:ssm/parameter:Parameter") {
		arn := "arn:aws:ssm:ap-northeast-1:123456789012:parameter" + p.Str("name")
		if !strings.Contains(string(gotJSON), arn) {
			t.Errorf("%s: servers cannot read parameter %s", p.URN, arn)
		}
	}
}

func TestWordPressSecretShape(t *testing.T) {
	r := mustRun(t, nil)
	version := r.named(t, "aws:secretsmanager/secretVersion:SecretVersion", "web-wordpress-value")
	if !version.Inputs["secretString"].IsSecret() {
		t.Fatalf("%s: secretString must be a secret input", version.URN)
	}
	v := jsonInput(t, version, "secretString")
	if v["admin_password"] != fakePassword("web-admin-password", 24) {
		t.Errorf("admin_password is not the generated password")
	}
	salts := v["salts"].(map[string]any)
	for _, n := range wordpressSaltNames {
		s, _ := salts[n].(string)
		if len(s) != saltLength {
			t.Errorf("salt %s has length %d, want %d", n, len(s), saltLength)
		}
	}
	if len(salts) != 8 || salts["NONCE_SALT"] != fakePassword("web-nonce-salt", saltLength) {
		t.Errorf("want the 8 generated salts by name, got %v", salts)
	}
	if _, err := wordpressSecretJSON("pw", []string{"only-one"}); err == nil {
		t.Error("a missing salt must be an error")
	}
}
