package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// servers returns the web instances.
func servers(r *stackRun) []*recorded { return r.ofType("aws:ec2/instance:Instance") }

// SEED-SPEC §2, §6, §7: a first server from the current AL2023, an image of it, the rest
// from the image, spread over the AZs, all alike but for their AZ.
func TestWebServersAndImage(t *testing.T) {
	r := mustRun(t, map[string]string{"webServerCount": "3"})
	s := servers(r)
	if len(s) != 3 {
		t.Fatalf("want 3 web servers, got %d", len(s))
	}
	ami := r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance")
	source := r.byID(ami.Str("sourceInstanceId"))
	if source == nil || source.Type != "aws:ec2/instance:Instance" {
		t.Fatalf("%s: image must be taken from a web server, got %q", ami.URN, ami.Str("sourceInstanceId"))
	}
	if source.Str("ami") != testAMI {
		t.Errorf("%s: the image's source %s must launch from the current Amazon Linux 2023, got %q", ami.URN, source.URN, source.Str("ami"))
	}
	if ami.Str("snapshotWithoutReboot") != "false" {
		t.Errorf("%s: image must be taken with a reboot, as in the hands-on", ami.URN)
	}
	profiles := r.ofType("aws:iam/instanceProfile:InstanceProfile")
	if len(profiles) != 1 || r.byID(profiles[0].Str("role")) != r.one(t, "aws:iam/role:Role") {
		t.Fatalf("want one instance profile of the web role")
	}
	roles := groupRoles(r)
	perAZ := map[string]int{}
	for _, inst := range s {
		if inst != source && inst.Str("ami") != out(ami, "id") {
			t.Errorf("%s: servers other than the first must launch from its image, got ami %q", inst.URN, inst.Str("ami"))
		}
		perAZ[out(inst, "availabilityZone")]++
		if inst.Str("instanceType") != "t3.micro" || inst.Str("associatePublicIpAddress") != "true" {
			t.Errorf("%s: instanceType %q, public IP %q", inst.URN, inst.Str("instanceType"), inst.Str("associatePublicIpAddress"))
		}
		if inst.Str("userData") != source.Str("userData") {
			t.Errorf("%s: every server must run the same converging user data", inst.URN)
		}
		if inst.Str("iamInstanceProfile") != out(profiles[0], "name") {
			t.Errorf("%s: instance profile %q, want the web role's", inst.URN, inst.Str("iamInstanceProfile"))
		}
		sgs := inst.Inputs["vpcSecurityGroupIds"].ArrayValue()
		if len(sgs) != 1 || roles[sgs[0].StringValue()] != "web" {
			t.Errorf("%s: security groups %v, want only the web group", inst.URN, sgs)
		}
		if inst.Str("keyName") != "" {
			t.Errorf("%s: no key pair by default, got %q", inst.URN, inst.Str("keyName"))
		}
	}
	if perAZ["ap-northeast-1a"] != 2 || perAZ["ap-northeast-1c"] != 1 {
		t.Errorf("3 servers over 1a/1c: got %v, want 2 and 1", perAZ)
	}
}

func TestServersSpreadOverEveryAZ(t *testing.T) {
	for _, n := range []int{2, 4, 5} {
		r := mustRun(t, map[string]string{"webServerCount": fmt.Sprint(n)})
		perAZ := map[string]int{}
		for _, inst := range servers(r) {
			perAZ[out(inst, "availabilityZone")]++
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
	for _, inst := range servers(r) {
		if inst.Str("keyName") != "ops" {
			t.Errorf("%s: keyName %q", inst.URN, inst.Str("keyName"))
		}
	}
	image := r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance")
	if first := r.byID(image.Str("sourceInstanceId")); first == nil || first.Str("ami") != "ami-0123456789abcdef0" {
		t.Errorf("the first server must launch from the pinned amiId")
	}
	if slices.Contains(r.m.Calls, "aws:ssm/getParameter:getParameter") {
		t.Errorf("a pinned amiId must not look up the latest image")
	}
	for typ, want := range map[string]string{"t3.micro": "x86_64", "t4g.small": "arm64", "m7gd.large": "arm64",
		"c7gn.xlarge": "arm64", "g5.xlarge": "x86_64", "m6a.large": "x86_64", "r7iz.large": "x86_64"} {
		if got := architecture(typ); got != want {
			t.Errorf("architecture(%q) = %q, want %q", typ, got, want)
		}
	}
}

// The servers may read exactly the two secrets and the two hand-off parameters the program
// creates, and nothing else; the names in their boot script are those same parameters.
func TestServerRoleIsScopedToItsOwnSecretsAndParameters(t *testing.T) {
	r := mustRun(t, nil)
	role := r.one(t, "aws:iam/role:Role")
	assume := jsonInput(t, role, "assumeRolePolicy")
	stmt := assume["Statement"].([]any)[0].(map[string]any)
	if stmt["Principal"].(map[string]any)["Service"] != "ec2.amazonaws.com" || stmt["Action"] != "sts:AssumeRole" {
		t.Errorf("%s: trust policy %v", role.URN, assume)
	}
	att := r.one(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	if att.Str("policyArn") != "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" || att.Str("role") != out(role, "name") {
		t.Errorf("%s: want only the SSM core policy attached to the web role, got %q", att.URN, att.Str("policyArn"))
	}
	rolePolicy := r.one(t, "aws:iam/rolePolicy:RolePolicy")
	if rolePolicy.Str("role") != out(role, "name") {
		t.Errorf("%s: not the web role's policy", rolePolicy.URN)
	}
	got := map[string][]string{}
	for _, s := range jsonInput(t, rolePolicy, "policy")["Statement"].([]any) {
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
	var secretARNs, paramARNs []string
	for _, s := range r.ofType("aws:secretsmanager/secret:Secret") {
		secretARNs = append(secretARNs, out(s, "arn"))
	}
	for _, p := range r.ofType("aws:ssm/parameter:Parameter") {
		paramARNs = append(paramARNs, "arn:aws:ssm:ap-northeast-1:"+testAccount+":parameter"+p.Str("name"))
	}
	if len(got) != 2 || !sameSet(got["secretsmanager:GetSecretValue"], secretARNs) || !sameSet(got["ssm:GetParameter"], paramARNs) {
		t.Errorf("role policy grants %v\nwant GetSecretValue on %v and GetParameter on %v", got, secretARNs, paramARNs)
	}
}

// The boot script names the hand-off parameters the program really creates: a misspelt name
// would leave every server waiting for a parameter that never appears.
func TestUserDataNamesTheHandoffParameters(t *testing.T) {
	r := mustRun(t, nil)
	db := r.one(t, "aws:rds/instance:Instance")
	vars := convergeVariables(t, servers(r)[0].Str("userData"), "DB_HOST_PARAM", "SITE_URL_PARAM", "DB_SECRET_ID", "WP_SECRET_ID")
	if want := handoffParameter(t, r, out(db, "address")).Str("name"); vars["DB_HOST_PARAM"] != want {
		t.Errorf("user data reads the DB host from %q, the program writes it to %q", vars["DB_HOST_PARAM"], want)
	}
	if want := handoffParameter(t, r, fmt.Sprint(r.outputs["siteUrl"])).Str("name"); vars["SITE_URL_PARAM"] != want {
		t.Errorf("user data reads the site URL from %q, the program writes it to %q", vars["SITE_URL_PARAM"], want)
	}
	if want := out(secretHolding(t, r, "password"), "arn"); vars["DB_SECRET_ID"] != want {
		t.Errorf("user data reads the DB credentials from %q, they are in %q", vars["DB_SECRET_ID"], want)
	}
	if want := out(secretHolding(t, r, "admin_password"), "arn"); vars["WP_SECRET_ID"] != want {
		t.Errorf("user data reads the WordPress secret from %q, it is in %q", vars["WP_SECRET_ID"], want)
	}
}

// convergeVariables runs the settings block of the converge script carried in user data and
// returns the named variables' values as bash sees them.
func convergeVariables(t *testing.T, userData string, names ...string) map[string]string {
	t.Helper()
	start := strings.Index(userData, "readonly REGION=")
	end := strings.Index(userData, "\nexport AWS_DEFAULT_REGION")
	if start < 0 || end < start {
		t.Fatalf("user data has no settings block")
	}
	script := userData[start:end] + "\n"
	for _, n := range names {
		script += fmt.Sprintf("printf '%%s\\0' \"$%s\"\n", n)
	}
	outb, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("settings block does not run: %v", err)
	}
	values := strings.Split(string(outb), "\x00")
	got := map[string]string{}
	for i, n := range names {
		got[n] = values[i]
	}
	return got
}

func TestWordPressSecretShape(t *testing.T) {
	r := mustRun(t, nil)
	secret := secretHolding(t, r, "admin_password")
	var version *recorded
	for _, v := range r.ofType("aws:secretsmanager/secretVersion:SecretVersion") {
		if v.Str("secretId") == out(secret, "id") {
			version = v
		}
	}
	if !version.Inputs["secretString"].IsSecret() {
		t.Fatalf("%s: secretString must be a secret input", version.URN)
	}
	v := jsonInput(t, version, "secretString")
	generated := map[string]*recorded{}
	for _, p := range r.ofType("random:index/randomPassword:RandomPassword") {
		generated[p.Outputs["result"].SecretValue().Element.StringValue()] = p
	}
	if p := generated[fmt.Sprint(v["admin_password"])]; p == nil || p.Str("length") != "24" {
		t.Errorf("admin_password is not a generated 24-character password")
	} else if p.Str("overrideSpecial") != "" || p.Str("special") == "false" {
		// The provider's default specials hold no ' " \, which WordPress's login form slashes.
		t.Errorf("%s: the admin password must use the provider's default specials (no quotes or backslashes), got %q", p.URN, p.Str("overrideSpecial"))
	}
	salts, _ := v["salts"].(map[string]any)
	seen := map[string]bool{}
	for _, n := range wordpressSaltNames {
		s, _ := salts[n].(string)
		if p := generated[s]; p == nil || len(s) != saltLength {
			t.Errorf("salt %s is not a generated %d-character value", n, saltLength)
		}
		if seen[s] {
			t.Errorf("salt %s repeats another salt's value", n)
		}
		seen[s] = true
	}
	if len(salts) != len(wordpressSaltNames) {
		t.Errorf("want the 8 salts by name, got %d", len(salts))
	}
	if _, err := wordpressSecretJSON("pw", []string{"only-one"}); err == nil {
		t.Error("a missing salt must be an error")
	}
}
