package rules

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

type recorder struct{ got []string }

func (r *recorder) ReportViolation(message, urn string) { r.got = append(r.got, message) }

// res builds a resource as the engine shows it to policies. Values may be resource
// property values (computed, secret) or plain Go values.
func res(typ, name string, props map[string]any) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{Type: typ, Name: name, URN: "urn:pulumi:test::p::" + typ + "::" + name,
		Properties: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(props))}
}

func policyNamed(t *testing.T, name string) policyx.Policy {
	t.Helper()
	for _, p := range Policies(Stack{Project: "p", Stack: "dev"}) {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no policy %s", name)
	return nil
}

// check runs a policy over one resource (resource policies) or a whole stack (stack
// policies) and returns the violations.
func check(t *testing.T, name string, config map[string]any, resources ...policyx.AnalyzerResource) []string {
	t.Helper()
	rec := &recorder{}
	switch p := policyNamed(t, name).(type) {
	case policyx.ResourceValidationPolicy:
		for _, r := range resources {
			if err := p.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: rec, Resource: r, Config: config}); err != nil {
				t.Fatal(err)
			}
		}
	case policyx.StackValidationPolicy:
		if err := p.Validate(context.Background(), policyx.StackValidationArgs{Manager: rec, Resources: resources}); err != nil {
			t.Fatal(err)
		}
	}
	return rec.got
}

type ruleCase struct {
	name      string
	config    map[string]any
	resources []policyx.AnalyzerResource
	want      string // substring of the violation; "" means it must pass
}

func runCases(t *testing.T, policy string, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(policy+"/"+c.name, func(t *testing.T) {
			got := check(t, policy, c.config, c.resources...)
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("want a pass, got %q", got)
			case c.want != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), c.want)):
				t.Errorf("want a violation containing %q, got %q", c.want, got)
			}
		})
	}
}

func ingressRule(name string, props map[string]any) policyx.AnalyzerResource {
	p := map[string]any{"ipProtocol": "tcp", "securityGroupId": "sg-web", "description": "d"}
	for k, v := range props {
		p[k] = v
	}
	return res(typeIngressRule, name, p)
}

func TestNoAdminPortsFromWorld(t *testing.T) {
	runCases(t, "no-admin-ports-from-world", []ruleCase{
		{"ssh from the world", nil, []policyx.AnalyzerResource{ingressRule("ssh", map[string]any{"fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"})}, "including port 22"},
		{"rdp inline over IPv6", nil, []policyx.AnalyzerResource{res(typeSecurityGroup, "sg", map[string]any{"ingress": []any{
			map[string]any{"protocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipv6CidrBlocks": []any{"::/0"}}}})}, "including port 3389"},
		{"all traffic", nil, []policyx.AnalyzerResource{res(typeLegacyRule, "all", map[string]any{"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": []any{"0.0.0.0/0"}})}, "all ports"},
		{"http from the world", nil, []policyx.AnalyzerResource{ingressRule("http", map[string]any{"fromPort": 80, "toPort": 80, "cidrIpv4": "0.0.0.0/0"})}, ""},
		{"every TCP port from the world", nil, []policyx.AnalyzerResource{ingressRule("all-tcp", map[string]any{"fromPort": 0, "toPort": 65535, "cidrIpv4": "0.0.0.0/0"})}, "tcp/0-65535 to 0.0.0.0/0, including port 22"},
		{"a range over RDP", nil, []policyx.AnalyzerResource{ingressRule("rdp-range", map[string]any{"fromPort": 3000, "toPort": 4000, "cidrIpv6": "::/0"})}, "including port 3389"},
		{"a range over MySQL only", nil, []policyx.AnalyzerResource{ingressRule("mysql-range", map[string]any{"fromPort": 3300, "toPort": 3310, "cidrIpv4": "0.0.0.0/0"})}, "including port 3306"},
		{"inline range over SSH", nil, []policyx.AnalyzerResource{res(typeSecurityGroup, "sg", map[string]any{"ingress": []any{
			map[string]any{"protocol": "tcp", "fromPort": 20, "toPort": 30, "cidrBlocks": []any{"0.0.0.0/0"}}}})}, "including port 22"},
		{"legacy rule range by protocol number", nil, []policyx.AnalyzerResource{res(typeLegacyRule, "r", map[string]any{"type": "ingress", "protocol": "6", "fromPort": 1, "toPort": 1024, "cidrBlocks": []any{"0.0.0.0/0"}})}, "including port 22"},
		{"a high range from the world", nil, []policyx.AnalyzerResource{ingressRule("ephemeral", map[string]any{"fromPort": 10000, "toPort": 20000, "cidrIpv4": "0.0.0.0/0"})}, ""},
		{"ssh from an admin network", nil, []policyx.AnalyzerResource{ingressRule("ssh", map[string]any{"fromPort": 22, "toPort": 22, "cidrIpv4": "203.0.113.0/24"})}, ""},
	})
}

func TestOnlyWebPortsFromWorld(t *testing.T) {
	runCases(t, "only-web-ports-from-world", []ruleCase{
		{"8443 from the world", nil, []policyx.AnalyzerResource{ingressRule("alt", map[string]any{"fromPort": 8443, "toPort": 8443, "cidrIpv4": "0.0.0.0/0"})}, "tcp/8443"},
		{"a range around the web ports", nil, []policyx.AnalyzerResource{ingressRule("range", map[string]any{"fromPort": 80, "toPort": 443, "cidrIpv4": "0.0.0.0/0"})}, "tcp/80-443"},
		{"443 from the world", nil, []policyx.AnalyzerResource{ingressRule("https", map[string]any{"fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"})}, ""},
		{"any port from a group", nil, []policyx.AnalyzerResource{ingressRule("peer", map[string]any{"fromPort": 8080, "toPort": 8080, "referencedSecurityGroupId": "sg-lb"})}, ""},
	})
}

func TestSecurityGroupRuleDescriptions(t *testing.T) {
	runCases(t, "security-group-rule-descriptions", []ruleCase{
		{"group with the provider's default", nil, []policyx.AnalyzerResource{res(typeSecurityGroup, "sg", map[string]any{"description": "Managed by Pulumi"})}, "no description of its own"},
		{"rule without description", nil, []policyx.AnalyzerResource{res(typeEgressRule, "out", map[string]any{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"})}, "egress rule tcp/443"},
		{"inline rule without description", nil, []policyx.AnalyzerResource{res(typeSecurityGroup, "sg", map[string]any{"description": "web", "ingress": []any{map[string]any{"protocol": "tcp", "fromPort": 80, "toPort": 80}}})}, "ingress rule tcp/80"},
		{"described", nil, []policyx.AnalyzerResource{res(typeSecurityGroup, "sg", map[string]any{"description": "web"}), ingressRule("in", map[string]any{"fromPort": 80, "toPort": 80, "referencedSecurityGroupId": "sg-lb"})}, ""},
	})
}

func TestIMDSv2Required(t *testing.T) {
	runCases(t, "imdsv2-required", []ruleCase{
		{"optional tokens", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"metadataOptions": map[string]any{"httpTokens": "optional"}})}, "allows IMDSv1"},
		{"no metadata options", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{})}, "sets no metadataOptions"},
		{"required", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"metadataOptions": map[string]any{"httpTokens": "required"}})}, ""},
		{"metadata service off", nil, []policyx.AnalyzerResource{res(typeLaunchTemplate, "lt", map[string]any{"metadataOptions": map[string]any{"httpEndpoint": "disabled"}})}, ""},
	})
}

func TestEBSEncrypted(t *testing.T) {
	runCases(t, "ebs-encrypted", []ruleCase{
		{"plain root volume", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"rootBlockDevice": map[string]any{"encrypted": false}})}, "root volume is not encrypted"},
		{"root volume left to the default", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{})}, "root volume is not encrypted"},
		{"plain data volume", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"rootBlockDevice": map[string]any{"encrypted": true},
			"ebsBlockDevices": []any{map[string]any{"deviceName": "/dev/sdf", "encrypted": false}}})}, "/dev/sdf is not encrypted"},
		{"plain volume", nil, []policyx.AnalyzerResource{res(typeVolume, "data", map[string]any{"encrypted": false})}, "not encrypted"},
		{"encrypted", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"rootBlockDevice": map[string]any{"encrypted": true}})}, ""},
		{"launch template with a plain volume", nil, []policyx.AnalyzerResource{res(typeLaunchTemplate, "lt", map[string]any{"blockDeviceMappings": []any{
			map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"encrypted": "false"}}}})}, "/dev/xvda its instances get is not encrypted"},
		{"launch template encrypted", nil, []policyx.AnalyzerResource{res(typeLaunchTemplate, "lt", map[string]any{"blockDeviceMappings": []any{
			map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"encrypted": "true"}}}})}, ""},
	})
}

// gzipBase64 is user data as the program writes it: gzip, then base64.
func gzipBase64(t *testing.T, text string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestNoSecretsInUserData(t *testing.T) {
	clean := `#!/bin/bash
readonly DB_SECRET_ID='arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-credentials-abc123'
	'DB_PASSWORD' => $db['password'] ?? '',
  out=$(env WP_ADMIN_PASSWORD="$admin_password" php install.php)
admin_password=$(secret_string "$WP_SECRET_ID")`
	runCases(t, "no-plaintext-secrets-in-user-data", []ruleCase{
		{"a Pulumi secret in user data", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"userData": resource.MakeSecret(resource.NewStringProperty("x"))})}, "a Pulumi secret flows into userData"},
		{"an access key", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"userData": "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"})}, "AWS access key ID"},
		{"a literal password", nil, []policyx.AnalyzerResource{res(typeLaunchTemplate, "lt", map[string]any{"userData": "DB_PASSWORD=hunter2hunter2"})}, "password assignment"},
		{"a private key", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"userData": "-----BEGIN RSA PRIVATE KEY-----\nMII..."})}, "private key"},
		{"secrets fetched at boot", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"userData": clean})}, ""},
		{"unknown during preview", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"userData": resource.MakeComputed(resource.NewStringProperty(""))})}, ""},
		{"a key behind gzip and base64", nil, []policyx.AnalyzerResource{res(typeInstance, "web", map[string]any{"userDataBase64": gzipBase64(t, "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE")})}, "AWS access key ID"},
		{"a launch template's base64 user data", nil, []policyx.AnalyzerResource{res(typeLaunchTemplate, "lt", map[string]any{"userData": base64.StdEncoding.EncodeToString([]byte("DB_PASSWORD=hunter2hunter2"))})}, "password assignment"},
		{"clean gzip user data", nil, []policyx.AnalyzerResource{res(typeLaunchTemplate, "lt", map[string]any{"userData": gzipBase64(t, clean)})}, ""},
	})
}

func db(props map[string]any) []policyx.AnalyzerResource {
	p := map[string]any{"storageEncrypted": true, "publiclyAccessible": false, "multiAz": true, "backupRetentionPeriod": 7,
		"autoMinorVersionUpgrade": true, "deletionProtection": true}
	for k, v := range props {
		p[k] = v
	}
	return []policyx.AnalyzerResource{res(typeDBInstance, "db", p)}
}

func TestRDSRules(t *testing.T) {
	for _, c := range []struct{ policy, key string }{
		{"rds-storage-encrypted", "storageEncrypted"}, {"rds-multi-az", "multiAz"},
		{"rds-auto-minor-version-upgrade", "autoMinorVersionUpgrade"}, {"rds-deletion-protection", "deletionProtection"},
	} {
		runCases(t, c.policy, []ruleCase{
			{"off", nil, db(map[string]any{c.key: false}), c.key + " is false"},
			{"on", nil, db(nil), ""},
		})
	}
	runCases(t, "rds-not-public", []ruleCase{
		{"public", nil, db(map[string]any{"publiclyAccessible": true}), "publiclyAccessible is true"},
		{"private", nil, db(nil), ""},
	})
	runCases(t, "rds-storage-encrypted", []ruleCase{{"left to the default", nil, db(map[string]any{"storageEncrypted": nil}), "storageEncrypted is false"}})
	runCases(t, "rds-backup-retention", []ruleCase{
		{"API default of 1 day", nil, db(map[string]any{"backupRetentionPeriod": nil}), "keeps backups 1 days; at least 7"},
		{"7 days", nil, db(nil), ""},
		{"7 days under a 14-day config", map[string]any{"minimumDays": float64(14)}, db(nil), "at least 14"},
	})
}

func TestALBDropInvalidHeaders(t *testing.T) {
	runCases(t, "alb-drop-invalid-headers", []ruleCase{
		{"forwarding", nil, []policyx.AnalyzerResource{res(typeLB, "alb", map[string]any{"loadBalancerType": "application"})}, "dropInvalidHeaderFields"},
		{"dropping", nil, []policyx.AnalyzerResource{res(typeLB, "alb", map[string]any{"dropInvalidHeaderFields": true})}, ""},
		{"network load balancer", nil, []policyx.AnalyzerResource{res(typeLB, "nlb", map[string]any{"loadBalancerType": "network"})}, ""},
	})
}

func listener(name, proto string, action map[string]any) policyx.AnalyzerResource {
	return res(typeListener, name, map[string]any{"loadBalancerArn": "arn:alb", "protocol": proto, "defaultActions": []any{action}})
}

var (
	alb      = res(typeLB, "alb", map[string]any{"arn": "arn:alb", "id": "arn:alb", "subnets": []any{"subnet-a", "subnet-c"}})
	forward  = map[string]any{"type": "forward", "targetGroupArn": "arn:tg"}
	redirect = map[string]any{"type": "redirect", "redirect": map[string]any{"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
)

func redirectTo(protocol string) map[string]any {
	return map[string]any{"type": "redirect", "redirect": map[string]any{"protocol": protocol, "port": "443", "statusCode": "HTTP_301"}}
}

func TestALBHTTPRedirectsToHTTPS(t *testing.T) {
	runCases(t, "alb-http-redirects-to-https", []ruleCase{
		{"HTTP forwards next to HTTPS", nil, []policyx.AnalyzerResource{alb, listener("https", "HTTPS", forward), listener("http", "HTTP", forward)}, "http serves plain HTTP next to HTTPS"},
		{"HTTP redirects", nil, []policyx.AnalyzerResource{alb, listener("https", "HTTPS", forward), listener("http", "HTTP", redirect)}, ""},
		{"HTTP 'redirects' to HTTP", nil, []policyx.AnalyzerResource{alb, listener("https", "HTTPS", forward), listener("http", "HTTP", redirectTo("HTTP"))}, "http serves plain HTTP next to HTTPS"},
		{"HTTP 'redirects' to its own protocol", nil, []policyx.AnalyzerResource{alb, listener("https", "HTTPS", forward), listener("http", "HTTP", redirectTo("#{protocol}"))}, "http serves plain HTTP next to HTTPS"},
		{"no certificate: HTTP only (the documented exception)", nil, []policyx.AnalyzerResource{alb, listener("http", "HTTP", forward)}, ""},
	})
	runCases(t, "alb-https-listener", []ruleCase{
		{"HTTP only", nil, []policyx.AnalyzerResource{alb, listener("http", "HTTP", forward)}, "no HTTPS listener"},
		{"HTTP redirecting to HTTP is not HTTPS", nil, []policyx.AnalyzerResource{alb, listener("http", "HTTP", redirectTo("HTTP"))}, "no HTTPS listener"},
		{"HTTP redirecting to HTTPS with no HTTPS listener", nil, []policyx.AnalyzerResource{alb, listener("http", "HTTP", redirect)}, "no HTTPS listener"},
		{"HTTPS", nil, []policyx.AnalyzerResource{alb, listener("https", "HTTPS", forward)}, ""},
		{"internal", nil, []policyx.AnalyzerResource{res(typeLB, "internal", map[string]any{"internal": true})}, ""},
	})
}

func subnet(id, az string) policyx.AnalyzerResource {
	return res(typeSubnet, id, map[string]any{"id": id, "availabilityZone": az})
}

func instance(id, subnetID string) policyx.AnalyzerResource {
	return res(typeInstance, id, map[string]any{"id": id, "subnetId": subnetID})
}

func attach(name, instanceID string) policyx.AnalyzerResource {
	return res(typeAttachment, name, map[string]any{"targetGroupArn": "arn:tg", "targetId": instanceID})
}

func TestALBTargetsInEveryAZ(t *testing.T) {
	base := []policyx.AnalyzerResource{alb, listener("http", "HTTP", forward), res(typeTargetGroup, "tg", map[string]any{"arn": "arn:tg"}),
		subnet("subnet-a", "ap-northeast-1a"), subnet("subnet-c", "ap-northeast-1c"), instance("i-1", "subnet-a"), instance("i-2", "subnet-c")}
	with := func(extra ...policyx.AnalyzerResource) []policyx.AnalyzerResource {
		return append(append([]policyx.AnalyzerResource{}, base...), extra...)
	}

	// During a preview the IDs are unknown; the references come from property dependencies.
	previewALB := res(typeLB, "alb", map[string]any{"subnets": resource.MakeComputed(resource.NewStringProperty(""))})
	previewALB.PropertyDependencies = map[string][]string{"subnets": {subnet("subnet-a", "").URN, subnet("subnet-c", "").URN}}
	previewListener := res(typeListener, "http", map[string]any{"protocol": "HTTP", "loadBalancerArn": resource.MakeComputed(resource.NewStringProperty("")),
		"defaultActions": []any{map[string]any{"type": "forward", "targetGroupArn": resource.MakeComputed(resource.NewStringProperty(""))}}})
	previewListener.PropertyDependencies = map[string][]string{"loadBalancerArn": {previewALB.URN}, "defaultActions": {base[2].URN}}
	previewAttach := res(typeAttachment, "a1", map[string]any{"targetGroupArn": resource.MakeComputed(resource.NewStringProperty("")), "targetId": resource.MakeComputed(resource.NewStringProperty(""))})
	previewAttach.PropertyDependencies = map[string][]string{"targetGroupArn": {base[2].URN}, "targetId": {base[5].URN}}

	runCases(t, "alb-targets-in-every-az", []ruleCase{
		{"targets in one AZ only", nil, with(attach("a1", "i-1")), "routes to ap-northeast-1c but has no target there"},
		{"a target in each AZ", nil, with(attach("a1", "i-1"), attach("a2", "i-2")), ""},
		{"one subnet", nil, []policyx.AnalyzerResource{res(typeLB, "alb", map[string]any{"subnets": []any{"subnet-a"}}), subnet("subnet-a", "ap-northeast-1a")}, "spans 1 AZ(s)"},
		{"preview: one AZ only", nil, []policyx.AnalyzerResource{previewALB, previewListener, base[2], base[3], base[4], base[5], base[6], previewAttach}, "no target there"},
		{"a group over both AZs", nil, with(group("asg", 2, "subnet-a", "subnet-c")), ""},
		{"a group in one AZ", nil, with(group("asg", 2, "subnet-a")), "routes to ap-northeast-1c but has no target there"},
		{"a group that may keep one server", nil, with(group("asg", 1, "subnet-a", "subnet-c")), "keeps at least 1 server(s) for 2 AZs"},
	})
}

// group is an Auto Scaling group registering in the target group arn:tg.
func group(name string, minSize int, subnets ...string) policyx.AnalyzerResource {
	var sn []any
	for _, s := range subnets {
		sn = append(sn, s)
	}
	return res(typeASG, name, map[string]any{"targetGroupArns": []any{"arn:tg"}, "minSize": minSize, "vpcZoneIdentifiers": sn})
}

// tiers is a stack with an ALB group, a web group on an instance and a DB group on RDS.
func tiers(rules ...policyx.AnalyzerResource) []policyx.AnalyzerResource {
	out := []policyx.AnalyzerResource{
		res(typeSecurityGroup, "lb-sg", map[string]any{"id": "sg-lb", "description": "lb"}),
		res(typeSecurityGroup, "web-sg", map[string]any{"id": "sg-web", "description": "web"}),
		res(typeSecurityGroup, "db-sg", map[string]any{"id": "sg-db", "description": "db"}),
		res(typeSecurityGroup, "other-sg", map[string]any{"id": "sg-other", "description": "other"}),
		res(typeLB, "alb", map[string]any{"securityGroups": []any{"sg-lb"}}),
		res(typeInstance, "web", map[string]any{"vpcSecurityGroupIds": []any{"sg-web"}}),
		res(typeDBInstance, "db", map[string]any{"vpcSecurityGroupIds": []any{"sg-db"}, "port": 3306}),
	}
	return append(out, rules...)
}

func TestWebIngressOnlyFromLoadBalancer(t *testing.T) {
	runCases(t, "web-ingress-only-from-load-balancer", []ruleCase{
		{"HTTP from the world straight to the servers", nil, tiers(ingressRule("direct", map[string]any{"fromPort": 80, "toPort": 80, "cidrIpv4": "0.0.0.0/0"})), "not from the load balancer"},
		{"from another group", nil, tiers(ingressRule("other", map[string]any{"fromPort": 80, "toPort": 80, "referencedSecurityGroupId": "sg-other"})), "group other-sg"},
		{"SSH from the world", nil, tiers(ingressRule("ssh", map[string]any{"fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"})), "not from the load balancer"},
		{"from the load balancer", nil, tiers(ingressRule("alb", map[string]any{"fromPort": 80, "toPort": 80, "referencedSecurityGroupId": "sg-lb"})), ""},
		{"SSH from the admin network (documented exception)", nil, tiers(ingressRule("ssh", map[string]any{"fromPort": 22, "toPort": 22, "cidrIpv4": "203.0.113.0/24"})), ""},
		{"a launch template's group open to the world", nil, append(tiers(), res(typeSecurityGroup, "lt-sg", map[string]any{"id": "sg-lt", "description": "lt"}),
			res(typeLaunchTemplate, "lt", map[string]any{"networkInterfaces": []any{map[string]any{"securityGroups": []any{"sg-lt"}}}}),
			ingressRule("lt-open", map[string]any{"securityGroupId": "sg-lt", "fromPort": 80, "toPort": 80, "cidrIpv4": "0.0.0.0/0"})), "web group lt-sg"},
	})
}

func TestDBIngressOnlyFromWeb(t *testing.T) {
	toDB := func(props map[string]any) policyx.AnalyzerResource {
		props["securityGroupId"] = "sg-db"
		return ingressRule("to-db", props)
	}
	runCases(t, "db-ingress-only-from-web", []ruleCase{
		{"from a CIDR", nil, tiers(toDB(map[string]any{"fromPort": 3306, "toPort": 3306, "cidrIpv4": "10.0.0.0/16"})), "only tcp/3306 from the web servers"},
		{"from the load balancer", nil, tiers(toDB(map[string]any{"fromPort": 3306, "toPort": 3306, "referencedSecurityGroupId": "sg-lb"})), "group lb-sg"},
		{"web on another port", nil, tiers(toDB(map[string]any{"fromPort": 22, "toPort": 22, "referencedSecurityGroupId": "sg-web"})), "tcp/22"},
		{"MySQL from web", nil, tiers(toDB(map[string]any{"fromPort": 3306, "toPort": 3306, "referencedSecurityGroupId": "sg-web"})), ""},
	})
}

func TestRequiredTags(t *testing.T) {
	runCases(t, "required-tags", []ruleCase{
		{"no tags", nil, []policyx.AnalyzerResource{res("aws:ec2/vpc:Vpc", "vpc", map[string]any{})}, "tag project is \"\""},
		{"another stack's tag", nil, []policyx.AnalyzerResource{res("aws:ec2/vpc:Vpc", "vpc", map[string]any{"tags": map[string]any{"project": "p", "stack": "prod"}})}, "tag stack is \"prod\", want \"dev\""},
		{"tagged", nil, []policyx.AnalyzerResource{res("aws:ec2/vpc:Vpc", "vpc", map[string]any{"tags": map[string]any{"project": "p", "stack": "dev"}})}, ""},
		{"untaggable", nil, []policyx.AnalyzerResource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{})}, ""},
		{"not AWS", nil, []policyx.AnalyzerResource{res("random:index/randomPassword:RandomPassword", "pw", map[string]any{})}, ""},
	})
}

func TestEveryPolicyIsTestedAndHasALevel(t *testing.T) {
	pack, err := NewPack(Stack{Project: "p", Stack: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pack.Policies()) != len(Levels) {
		t.Errorf("%d policies, %d default levels", len(pack.Policies()), len(Levels))
	}
	src := ""
	for _, f := range []string{"rules_test.go", "cloudfront_test.go"} {
		b, _ := readFile(f)
		src += b
	}
	for _, p := range pack.Policies() {
		if _, ok := Levels[p.Name()]; !ok {
			t.Errorf("policy %s has no default level", p.Name())
		}
		if !strings.Contains(src, `"`+p.Name()+`"`) {
			t.Errorf("policy %s has no test case", p.Name())
		}
		if !strings.Contains(p.Description(), "(") {
			t.Errorf("policy %s does not name what it mirrors: %q", p.Name(), p.Description())
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"rds-deletion-protection": "mandatory", "rds-backup-retention": {"enforcementLevel": "advisory", "minimumDays": 14}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Levels["rds-deletion-protection"] != policyx.EnforcementLevelMandatory || c.Levels["rds-backup-retention"] != policyx.EnforcementLevelAdvisory ||
		c.Properties["rds-backup-retention"]["minimumDays"] != float64(14) || c.Levels["rds-not-public"] != policyx.EnforcementLevelMandatory {
		t.Errorf("parsed %+v", c)
	}
	all, err := ParseConfig([]byte(`{"all": "advisory"}`))
	if err != nil || all.Levels["rds-not-public"] != policyx.EnforcementLevelAdvisory {
		t.Errorf("all: %v %v", err, all.Levels)
	}
	for _, bad := range []string{`{"no-such-policy": "mandatory"}`, `{"rds-multi-az": "strict"}`, `[]`} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("config %s accepted", bad)
		}
	}
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
