package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/example/scalable-wordpress/policy/rules"
)

// Stack-wide security invariants, checked for the default stack and for variants that
// add SSH, HTTPS and more servers.
var securityVariants = map[string]map[string]string{
	"default": nil,
	"ssh+https": {
		"edge":           edgeALB,
		"sshCidr":        "203.0.113.0/24",
		"certificateArn": testALBCertificate,
		"webServerCount": "4",
	},
	"cdn+domain": {
		"siteDomain":     "shop.example.com",
		"certificateArn": testCDNCertificate,
		"waf":            "false",
	},
}

// groupName is what a group is attached to ("lb", "web", "db"), or "?id" for a group no
// resource uses.
func groupName(r *stackRun, id string) string {
	if role, ok := groupRoles(r)[id]; ok {
		return role
	}
	return "?" + id
}

func TestOnlyListenerPortsOpenToTheWorld(t *testing.T) {
	for variant, cfg := range securityVariants {
		r := mustRun(t, cfg)
		for _, sg := range r.ofType("aws:ec2/securityGroup:SecurityGroup") {
			for _, inline := range []string{"ingress", "egress"} {
				if v, ok := sg.Inputs[resourceKey(inline)]; ok && v.IsArray() && len(v.ArrayValue()) > 0 {
					t.Errorf("[%s] %s: inline %s rules; rules must be separate, described resources", variant, sg.URN, inline)
				}
			}
		}
		for _, rule := range r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			if rule.Str("description") == "" {
				t.Errorf("[%s] %s: rule has no description", variant, rule.URN)
			}
			if rule.Str("cidrIpv6") != "" {
				t.Errorf("[%s] %s: unexpected IPv6 rule", variant, rule.URN)
			}
			if rule.Str("cidrIpv4") != "0.0.0.0/0" {
				continue
			}
			port := rule.Str("fromPort")
			if groupName(r, rule.Str("securityGroupId")) != "lb" || (port != "80" && port != "443") || rule.Str("toPort") != port {
				t.Errorf("[%s] %s: %s/%s-%s open to 0.0.0.0/0; only the ALB's 80/443 may be", variant, rule.URN,
					groupName(r, rule.Str("securityGroupId")), port, rule.Str("toPort"))
			}
		}
	}
}

// The chain of the hands-on, tightened: internet (or only CloudFront) → ALB → web:80 → DB:3306,
// and web → EFS:2049.
func TestSecurityGroupChain(t *testing.T) {
	for variant, cfg := range securityVariants {
		r := mustRun(t, cfg)
		ingress := map[string][]string{}
		for _, rule := range r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			src := rule.Str("cidrIpv4")
			if ref := rule.Str("referencedSecurityGroupId"); ref != "" {
				src = groupName(r, ref)
			}
			if pl := rule.Str("prefixListId"); pl != "" {
				src = pl
			}
			to := groupName(r, rule.Str("securityGroupId"))
			ingress[to] = append(ingress[to], src+":"+rule.Str("ipProtocol")+"/"+rule.Str("fromPort")+"-"+rule.Str("toPort"))
		}
		if got := strings.Join(ingress["db"], ","); got != "web:tcp/3306-3306" {
			t.Errorf("[%s] database group ingress = %s; want only MySQL from the web group", variant, got)
		}
		if got := strings.Join(ingress["uploads"], ","); got != "web:tcp/2049-2049" {
			t.Errorf("[%s] uploads group ingress = %s; want only NFS from the web group", variant, got)
		}
		wantWeb := []string{"lb:tcp/80-80"}
		if cfg["sshCidr"] != "" {
			wantWeb = append(wantWeb, cfg["sshCidr"]+":tcp/22-22")
		}
		if !sameSet(ingress["web"], wantWeb) {
			t.Errorf("[%s] web group ingress = %v; want %v", variant, ingress["web"], wantWeb)
		}
		// Behind CloudFront the load balancer takes HTTP from CloudFront's origin-facing servers
		// and nothing from the internet; the hands-on's takes the internet on its listeners.
		wantLB := []string{testOriginFacing + ":tcp/80-80"}
		if cfg["edge"] == edgeALB {
			wantLB = []string{"0.0.0.0/0:tcp/80-80"}
			if cfg["certificateArn"] != "" {
				wantLB = append(wantLB, "0.0.0.0/0:tcp/443-443")
			}
		}
		if !sameSet(ingress["lb"], wantLB) {
			t.Errorf("[%s] load balancer group ingress = %v; want %v", variant, ingress["lb"], wantLB)
		}
		if len(ingress) != 4 {
			t.Errorf("[%s] ingress rules into groups nothing uses: %v", variant, ingress)
		}

		egress := map[string][]string{}
		for _, rule := range r.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
			if rule.Str("description") == "" {
				t.Errorf("[%s] %s: rule has no description", variant, rule.URN)
			}
			dst := rule.Str("cidrIpv4")
			if ref := rule.Str("referencedSecurityGroupId"); ref != "" {
				dst = groupName(r, ref)
			}
			from := groupName(r, rule.Str("securityGroupId"))
			egress[from] = append(egress[from], dst+":"+rule.Str("ipProtocol")+"/"+rule.Str("fromPort"))
		}
		if !sameSet(egress["lb"], []string{"web:tcp/80"}) {
			t.Errorf("[%s] load balancer group egress = %v; want only HTTP to the web group", variant, egress["lb"])
		}
		if !sameSet(egress["web"], []string{"0.0.0.0/0:tcp/443", "db:tcp/3306", "uploads:tcp/2049"}) {
			t.Errorf("[%s] web group egress = %v; want HTTPS out, MySQL to the database group and NFS to the uploads group", variant, egress["web"])
		}
		if len(egress) != 2 {
			t.Errorf("[%s] egress rules of other groups (the database needs none): %v", variant, egress)
		}
	}
}

func TestInstancesHardened(t *testing.T) {
	r := mustRun(t, securityVariants["ssh+https"])
	builder, _ := builderOf(t, r)
	for _, inst := range r.ofType("aws:ec2/instance:Instance") {
		md := inst.Obj("metadataOptions")
		if propString(md["httpTokens"]) != "required" || propString(md["httpEndpoint"]) != "enabled" {
			t.Errorf("%s: IMDSv2 must be required, got %v", inst.URN, md)
		}
		if md := inst.Obj("metadataOptions"); propString(md["httpPutResponseHopLimit"]) != "1" {
			t.Errorf("%s: IMDS hop limit must be 1 (no container on the host needs more), got %v", inst.URN, md)
		}
		root, size := inst.Obj("rootBlockDevice"), "20"
		if inst.URN == builder.URN {
			size = strconv.Itoa(builderVolumeGiB) // the autoscaling mode's image builder
		}
		if propString(root["encrypted"]) != "true" || propString(root["volumeType"]) != "gp3" || propString(root["volumeSize"]) != size {
			t.Errorf("%s: root volume must be encrypted gp3 of %s GiB, got %v", inst.URN, size, root)
		}
	}
	db := r.one(t, "aws:rds/instance:Instance")
	if db.Str("storageEncrypted") != "true" || db.Str("publiclyAccessible") != "false" {
		t.Errorf("%s: DB must be encrypted and private", db.URN)
	}
}

// No generated secret may reach user data, which anyone with ec2:DescribeInstanceAttribute
// can read, nor a plain (non-secret) input anywhere.
func TestNoSecretOutsideSecretInputs(t *testing.T) {
	r := mustRun(t, nil)
	var secrets []string
	for _, p := range r.ofType("random:index/randomPassword:RandomPassword") {
		secrets = append(secrets, p.Outputs["result"].SecretValue().Element.StringValue())
	}
	if len(secrets) != 10 {
		t.Fatalf("want 10 generated secrets (WordPress's database user, admin, 8 salts: RDS generates the master password), got %d", len(secrets))
	}
	for _, x := range r.m.Resources {
		for k, v := range x.Inputs {
			if v.IsSecret() {
				continue
			}
			plain := v.String()
			for _, s := range secrets {
				for _, chunk := range []string{s, s[:20]} {
					if strings.Contains(plain, chunk) || strings.Contains(plain, strings.ReplaceAll(chunk, `"`, `\"`)) {
						t.Errorf("%s: plain input %s holds a generated secret", x.URN, k)
					}
				}
			}
		}
	}
	// User data is gzip: read it as the instance does. It names no secret, not even by ARN:
	// the servers find the ARNs in the stack's settings.
	carriers := append(r.ofType("aws:ec2/instance:Instance"), r.ofType("aws:ec2/launchTemplate:LaunchTemplate")...)
	if len(carriers) == 0 {
		t.Fatal("no instance or launch template carries user data")
	}
	for _, x := range carriers {
		ud := userDataOf(t, x)
		for _, s := range secrets {
			if strings.Contains(ud, s[:20]) {
				t.Errorf("%s: user data holds a generated secret", x.URN)
			}
		}
		for _, field := range []string{"password", "admin_password"} {
			if strings.Contains(ud, out(secretHolding(t, r, field), "arn")) {
				t.Errorf("%s: user data names the secret holding %s: a stack-specific value belongs in the settings", x.URN, field)
			}
		}
	}
}

func TestEveryResourceTagged(t *testing.T) {
	r := mustRun(t, map[string]string{"tags": `{"owner":"web-team"}`})
	for _, x := range r.m.Resources {
		if !x.Custom || !rules.Taggable(x.Type) {
			continue
		}
		tags := rules.TagsOf(resource.FromResourcePropertyMap(x.Inputs))
		if len(tags) == 0 {
			t.Errorf("%s: no tags", x.URN)
			continue
		}
		for k, v := range map[string]string{"project": testProject, "stack": testStack, "managed-by": "pulumi", "owner": "web-team"} {
			if tags[k] != v {
				t.Errorf("%s: tag %s = %q, want %q", x.URN, k, tags[k], v)
			}
		}
		if !strings.HasPrefix(tags["Name"], "scalable-wordpress-test-") {
			t.Errorf("%s: Name tag %q", x.URN, tags["Name"])
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
