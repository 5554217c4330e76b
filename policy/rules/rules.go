// Package rules holds the guardrails policy pack's rules: the checks that Checkov,
// tfsec/Trivy, KICS and AWS Security Hub's Foundational Best Practices would make of this
// stack, written for the Pulumi policy engine (policyx), so that they run at
// `pulumi preview` on the Go program itself.
package rules

import (
	"context"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// PackName is the policy pack's name, as `pulumi preview --policy-pack` reports it.
const PackName = "scalable-wordpress-guardrails"

// Version of the pack.
var Version = semver.MustParse("1.0.0")

// Stack names the stack under analysis: the tags every resource must carry.
type Stack struct {
	Project, Stack string
}

// Levels are the default enforcement levels. Security and the availability the product
// promises are mandatory; the rest is advisory, so that a dev stack can skip it (each
// exception is documented in the README). The pack's config overrides any of them per
// stack (policy/config/*.json).
var Levels = map[string]policyx.EnforcementLevel{
	"no-admin-ports-from-world":           policyx.EnforcementLevelMandatory,
	"only-web-ports-from-world":           policyx.EnforcementLevelMandatory,
	"security-group-rule-descriptions":    policyx.EnforcementLevelMandatory,
	"imdsv2-required":                     policyx.EnforcementLevelMandatory,
	"ebs-encrypted":                       policyx.EnforcementLevelMandatory,
	"no-plaintext-secrets-in-user-data":   policyx.EnforcementLevelMandatory,
	"rds-storage-encrypted":               policyx.EnforcementLevelMandatory,
	"rds-not-public":                      policyx.EnforcementLevelMandatory,
	"rds-multi-az":                        policyx.EnforcementLevelMandatory,
	"rds-backup-retention":                policyx.EnforcementLevelMandatory,
	"rds-auto-minor-version-upgrade":      policyx.EnforcementLevelMandatory,
	"rds-deletion-protection":             policyx.EnforcementLevelAdvisory,
	"alb-drop-invalid-headers":            policyx.EnforcementLevelMandatory,
	"alb-http-redirects-to-https":         policyx.EnforcementLevelMandatory,
	"alb-https-listener":                  policyx.EnforcementLevelAdvisory,
	"alb-targets-in-every-az":             policyx.EnforcementLevelMandatory,
	"web-ingress-only-from-load-balancer": policyx.EnforcementLevelMandatory,
	"db-ingress-only-from-web":            policyx.EnforcementLevelMandatory,
	"required-tags":                       policyx.EnforcementLevelMandatory,
	"cloudfront-viewer-https":             policyx.EnforcementLevelMandatory,
	"cloudfront-security-headers":         policyx.EnforcementLevelMandatory,
	"cloudfront-minimum-tls":              policyx.EnforcementLevelMandatory,
	"cloudfront-custom-certificate":       policyx.EnforcementLevelAdvisory,
	"cloudfront-waf":                      policyx.EnforcementLevelAdvisory,
	"cloudfront-logging":                  policyx.EnforcementLevelAdvisory,
	"cloudfront-origin-not-public":        policyx.EnforcementLevelMandatory,
}

// Policies returns every rule of the pack for a stack.
func Policies(s Stack) []policyx.Policy {
	return []policyx.Policy{
		noAdminPortsFromWorld(),
		onlyWebPortsFromWorld(),
		ruleDescriptions(),
		imdsv2Required(),
		ebsEncrypted(),
		noSecretsInUserData(),
		rdsStorageEncrypted(),
		rdsNotPublic(),
		rdsMultiAZ(),
		rdsBackupRetention(),
		rdsAutoMinorVersionUpgrade(),
		rdsDeletionProtection(),
		albDropInvalidHeaders(),
		albHTTPRedirectsToHTTPS(),
		albHTTPSListener(),
		albTargetsInEveryAZ(),
		webIngressOnlyFromLoadBalancer(),
		dbIngressOnlyFromWeb(),
		requiredTags(s),
		cloudFrontViewerHTTPS(),
		cloudFrontSecurityHeaders(),
		cloudFrontMinimumTLS(),
		cloudFrontCustomCertificate(),
		cloudFrontWAF(),
		cloudFrontLogging(),
		cloudFrontOriginNotPublic(),
	}
}

// NewPack assembles the policy pack.
func NewPack(s Stack) (policyx.PolicyPack, error) {
	return policyx.NewPolicyPack(PackName, Version, policyx.EnforcementLevelMandatory, Policies(s))
}

func resourcePolicy(name, description string, validate func(context.Context, policyx.ResourceValidationArgs) error) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description: description, EnforcementLevel: Levels[name], ValidateResource: validate,
	})
}

func resourcePolicyWithConfig(name, description string, schema *policyx.ConfigSchema, validate func(context.Context, policyx.ResourceValidationArgs) error) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description: description, EnforcementLevel: Levels[name], ValidateResource: validate, ConfigSchema: schema,
	})
}

func stackPolicy(name, description string, validate func(*index, policyx.PolicyManager)) policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(name, policyx.StackValidationPolicyArgs{
		Description: description, EnforcementLevel: Levels[name],
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			validate(newIndex(args.Resources), args.Manager)
			return nil
		},
	})
}

// forType narrows a resource check to some types.
func forType(check func(policyx.ResourceValidationArgs), types ...string) func(context.Context, policyx.ResourceValidationArgs) error {
	return func(_ context.Context, args policyx.ResourceValidationArgs) error {
		for _, t := range types {
			if args.Resource.Type == t {
				check(args)
				break
			}
		}
		return nil
	}
}
