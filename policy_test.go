package main

// The guardrails pack (policy/rules) run over what the program registers, as
// `pulumi up --policy-pack policy` would: every rule, with the levels of the committed
// per-stack config files. No mandatory rule may fail; the advisory results are the
// exceptions the README documents.

import (
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/example/scalable-wordpress/policy/rules"
)

type violation struct {
	policy, message string
	level           policyx.EnforcementLevel
}

type violationRecorder struct {
	policy string
	level  policyx.EnforcementLevel
	got    *[]violation
}

func (v violationRecorder) ReportViolation(message, urn string) {
	*v.got = append(*v.got, violation{policy: v.policy, message: message + " [" + urn + "]", level: v.level})
}

// analyzerResources is the stack as the policy engine sees it after `pulumi up`.
func analyzerResources(r *stackRun) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, x := range r.m.Resources {
		if !x.Custom {
			continue
		}
		out = append(out, policyx.AnalyzerResource{Type: x.Type, Name: x.Name, URN: x.URN, Parent: x.Parent,
			Properties: resource.FromResourcePropertyMap(x.Outputs), Dependencies: x.Deps, PropertyDependencies: x.PropDeps})
	}
	return out
}

// evaluate runs every policy with the config file's levels and properties.
func evaluate(t *testing.T, resources []policyx.AnalyzerResource, configFile string) []violation {
	t.Helper()
	raw, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := rules.ParseConfig(raw)
	if err != nil {
		t.Fatalf("%s: %v", configFile, err)
	}
	var got []violation
	for _, p := range rules.Policies(rules.Stack{Project: testProject, Stack: testStack}) {
		level := cfg.Levels[p.Name()]
		if level == policyx.EnforcementLevelDisabled {
			continue
		}
		rec := violationRecorder{policy: p.Name(), level: level, got: &got}
		switch p := p.(type) {
		case policyx.ResourceValidationPolicy:
			for _, r := range resources {
				if err := p.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: rec, Resource: r, Config: cfg.Properties[p.Name()]}); err != nil {
					t.Fatal(err)
				}
			}
		case policyx.StackValidationPolicy:
			if err := p.Validate(context.Background(), policyx.StackValidationArgs{Manager: rec, Resources: resources}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

func byLevel(vs []violation, level policyx.EnforcementLevel) []string {
	var out []string
	for _, v := range vs {
		if v.level == level {
			out = append(out, v.policy+": "+v.message)
		}
	}
	sort.Strings(out)
	return out
}

func TestStackPassesTheGuardrails(t *testing.T) {
	cases := []struct {
		name       string
		overrides  map[string]string
		config     string
		advisories []string // policies expected to report (documented exceptions)
	}{
		{"default (dev)", map[string]string{"waf": "false"}, "policy/config/dev.json",
			[]string{"cloudfront-custom-certificate", "cloudfront-waf", "rds-deletion-protection"}},
		{"dev without access logs", map[string]string{"waf": "false", "cdnAccessLogs": "false"}, "policy/config/dev.json",
			[]string{"cloudfront-custom-certificate", "cloudfront-logging", "cloudfront-waf", "rds-deletion-protection"}},
		{"hardened prod", map[string]string{
			"siteDomain":            testIssuedDomain,
			"dbDeletionProtection":  "true",
			"dbBackupRetentionDays": "14",
			"webServerCount":        "4",
		}, "policy/config/prod.json", nil},
		{"hardened prod on the hands-on's edge", map[string]string{
			"edge":                  edgeALB,
			"certificateArn":        testALBCertificate,
			"siteDomain":            "www.example.com",
			"dbDeletionProtection":  "true",
			"dbBackupRetentionDays": "14",
		}, "policy/config/prod.json", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := evaluate(t, analyzerResources(mustRun(t, c.overrides)), c.config)
			if m := byLevel(vs, policyx.EnforcementLevelMandatory); len(m) > 0 {
				t.Errorf("mandatory violations:\n  %s", strings.Join(m, "\n  "))
			}
			var advisory []string
			for _, v := range vs {
				if v.level == policyx.EnforcementLevelAdvisory && !slices.Contains(advisory, v.policy) {
					advisory = append(advisory, v.policy)
				}
			}
			sort.Strings(advisory)
			if !slices.Equal(advisory, c.advisories) {
				t.Errorf("advisory results %v, want exactly the documented exceptions %v:\n  %s", advisory, c.advisories,
					strings.Join(byLevel(vs, policyx.EnforcementLevelAdvisory), "\n  "))
			}
			for _, v := range vs {
				t.Logf("%s (level %d): %s", v.policy, v.level, v.message)
			}
		})
	}
}

// The harness above must be able to fail: break the stack and the rules notice.
func TestGuardrailsCatchABrokenStack(t *testing.T) {
	// A group that may keep a single server: the ALB's second AZ can be left without one.
	resources := analyzerResources(mustRun(t, map[string]string{"sshCidr": "203.0.113.0/24", "webMinSize": "1", "webDesiredCapacity": "1"}))
	for i, r := range resources {
		switch r.Type {
		case "aws:ec2/instance:Instance":
			md := r.Properties.Get("metadataOptions").AsMap().Set("httpTokens", property.New("optional"))
			resources[i].Properties = r.Properties.Set("metadataOptions", property.New(md))
		case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
			switch r.Properties.Get("fromPort").AsNumber() {
			case 22: // SSH from the world instead of sshCidr
				resources[i].Properties = r.Properties.Set("cidrIpv4", property.New("0.0.0.0/0"))
			case dbPort: // MySQL from the whole VPC instead of the web group
				resources[i].Properties = r.Properties.Delete("referencedSecurityGroupId").Set("cidrIpv4", property.New("10.0.0.0/16"))
				delete(resources[i].PropertyDependencies, "referencedSecurityGroupId")
			}
		case "aws:rds/instance:Instance":
			resources[i].Properties = r.Properties.Set("publiclyAccessible", property.New(true))
		}
	}
	got := map[string]bool{}
	for _, v := range evaluate(t, resources, "policy/config/dev.json") {
		if v.level == policyx.EnforcementLevelMandatory {
			got[v.policy] = true
		}
	}
	for _, want := range []string{"imdsv2-required", "no-admin-ports-from-world", "only-web-ports-from-world", "web-ingress-only-from-load-balancer", "rds-not-public",
		"alb-targets-in-every-az", "db-ingress-only-from-web"} {
		if !got[want] {
			t.Errorf("%s did not catch the broken stack (caught: %v)", want, got)
		}
	}
}
