package rules

// CloudFront distributions: HTTPS for viewers, modern TLS, security headers, a firewall,
// access logs, and an origin that nothing but CloudFront can reach.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeDistribution      = "aws:cloudfront/distribution:Distribution"
	typeVpcOrigin         = "aws:cloudfront/vpcOrigin:VpcOrigin"
	typeLogDeliverySource = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
	typeLogDelivery       = "aws:cloudwatch/logDelivery:LogDelivery"
)

// modernViewerTLS are the viewer security policies without TLS 1.0/1.1.
var modernViewerTLS = []string{"TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"}

// behaviours are a distribution's default and ordered cache behaviours.
func behaviours(d policyx.AnalyzerResource) []property.Map {
	out := []property.Map{object(d.Properties, "defaultCacheBehavior")}
	return append(out, objects(d.Properties, "orderedCacheBehaviors")...)
}

func cloudFrontViewerHTTPS() policyx.Policy {
	return resourcePolicy("cloudfront-viewer-https",
		"Every cache behaviour of a distribution sends viewers to HTTPS: redirect-to-https or https-only (Checkov CKV_AWS_34; Security Hub CloudFront.3).",
		forType(func(args policyx.ResourceValidationArgs) {
			for _, b := range behaviours(args.Resource) {
				p, ok := str(b, "viewerProtocolPolicy")
				if ok && p != "redirect-to-https" && p != "https-only" {
					path, _ := str(b, "pathPattern")
					if path == "" {
						path = "the default behaviour"
					}
					args.Manager.ReportViolation(fmt.Sprintf("%s serves %s over plain HTTP (viewerProtocolPolicy %s); use redirect-to-https.", args.Resource.Name, path, p), "")
				}
			}
		}, typeDistribution))
}

func cloudFrontSecurityHeaders() policyx.Policy {
	return resourcePolicy("cloudfront-security-headers",
		"Every cache behaviour of a distribution answers with a response headers policy (HSTS, nosniff, frame and referrer policies) (Checkov CKV2_AWS_32).",
		forType(func(args policyx.ResourceValidationArgs) {
			for _, b := range behaviours(args.Resource) {
				v, ok := b.GetOk("responseHeadersPolicyId")
				if ok && (v.IsComputed() || (v.IsString() && v.AsString() != "")) {
					continue // set, or a policy the same preview creates
				}
				path, _ := str(b, "pathPattern")
				if path == "" {
					path = "the default behaviour"
				}
				args.Manager.ReportViolation(fmt.Sprintf("%s answers %s without a response headers policy: no HSTS or other security headers.", args.Resource.Name, path), "")
			}
		}, typeDistribution))
}

// customCertificate reports whether a distribution has a certificate of its own.
func customCertificate(d policyx.AnalyzerResource) bool {
	vc := object(d.Properties, "viewerCertificate")
	_, acm := known(vc, "acmCertificateArn")
	_, iam := known(vc, "iamCertificateId")
	return acm || iam
}

func cloudFrontMinimumTLS() policyx.Policy {
	return resourcePolicy("cloudfront-minimum-tls",
		"A distribution with its own certificate accepts TLS 1.2 and later only, over SNI (Checkov CKV_AWS_174; Security Hub CloudFront.8 for SNI).",
		forType(func(args policyx.ResourceValidationArgs) {
			if !customCertificate(args.Resource) {
				return // the *.cloudfront.net certificate: CloudFront sets the policy (cloudfront-custom-certificate)
			}
			vc := object(args.Resource.Properties, "viewerCertificate")
			if v, ok := str(vc, "minimumProtocolVersion"); !ok || !slices.Contains(modernViewerTLS, v) {
				args.Manager.ReportViolation(fmt.Sprintf("%s accepts viewers below TLS 1.2 (minimumProtocolVersion %q); use TLSv1.2_2021.", args.Resource.Name, v), "")
			}
			if m, ok := str(vc, "sslSupportMethod"); ok && m != "sni-only" {
				args.Manager.ReportViolation(fmt.Sprintf("%s serves its certificate on dedicated IPs (sslSupportMethod %s); use sni-only.", args.Resource.Name, m), "")
			}
		}, typeDistribution))
}

func cloudFrontCustomCertificate() policyx.Policy {
	return resourcePolicy("cloudfront-custom-certificate",
		"A distribution serves a certificate of its own (Security Hub CloudFront.7). Advisory: without siteDomain the site is HTTPS on *.cloudfront.net, whose certificate CloudFront serves with its TLSv1 policy; set siteDomain for TLS 1.2 and later only.",
		forType(func(args policyx.ResourceValidationArgs) {
			if !customCertificate(args.Resource) {
				args.Manager.ReportViolation(args.Resource.Name+" uses the *.cloudfront.net certificate, whose TLS policy CloudFront fixes at TLSv1; set siteDomain and a certificate for TLS 1.2 and later only.", "")
			}
		}, typeDistribution))
}

func cloudFrontWAF() policyx.Policy {
	return resourcePolicy("cloudfront-waf",
		"A distribution has an AWS WAF web ACL (Checkov CKV_AWS_68; Security Hub CloudFront.6). Advisory: the dev stack runs without one (waf: false).",
		forType(func(args policyx.ResourceValidationArgs) {
			if v, ok := args.Resource.Properties.GetOk("webAclId"); !ok || v.IsNull() || (v.IsString() && v.AsString() == "") {
				args.Manager.ReportViolation(args.Resource.Name+" has no web ACL; set waf: true.", "")
			}
		}, typeDistribution))
}

func cloudFrontLogging() policyx.Policy {
	return stackPolicy("cloudfront-logging",
		"A distribution writes access logs: standard logging (legacy, loggingConfig) or standard logging v2, a CloudWatch Logs delivery of the distribution's ACCESS_LOGS (Checkov CKV_AWS_86; Security Hub CloudFront.5, whose AWS Config rule reads only the legacy setting). Advisory: cdnAccessLogs false turns them off.",
		func(ix *index, m policyx.PolicyManager) {
			for _, d := range ix.ofType(typeDistribution) {
				if object(d.Properties, "loggingConfig").Len() == 0 && !ix.deliversAccessLogs(d) {
					m.ReportViolation(d.Name+" writes no access logs; set cdnAccessLogs: true.", d.URN)
				}
			}
		})
}

// deliversAccessLogs reports whether a log delivery takes a distribution's access logs: a
// delivery whose source is an ACCESS_LOGS delivery source of the distribution. During a
// preview ARNs and names may be unknown: the property dependencies say the same.
func (ix *index) deliversAccessLogs(d policyx.AnalyzerResource) bool {
	for _, src := range ix.ofType(typeLogDeliverySource) {
		if t, _ := str(src.Properties, "logType"); t != "ACCESS_LOGS" {
			continue
		}
		arn, _ := str(src.Properties, "resourceArn")
		of, known := ix.byID[arn]
		ofD := (known && arn != "" && of.URN == d.URN) || slices.Contains(src.PropertyDependencies["resourceArn"], d.URN)
		if !ofD {
			continue
		}
		name, _ := str(src.Properties, "name")
		for _, del := range ix.ofType(typeLogDelivery) {
			if n, _ := str(del.Properties, "deliverySourceName"); (name != "" && n == name) || slices.Contains(del.PropertyDependencies["deliverySourceName"], src.URN) {
				return true
			}
		}
	}
	return false
}

func cloudFrontOriginNotPublic() policyx.Policy {
	return stackPolicy("cloudfront-origin-not-public",
		"A distribution's load balancer origin is not reachable around it: an internal load balancer through a VPC origin, or one whose security groups admit nothing from the internet (AWS Well-Architected SEC05; the CloudFront origin-bypass finding of scanners).",
		func(ix *index, m policyx.PolicyManager) {
			for _, d := range ix.ofType(typeDistribution) {
				for _, lb := range ix.vpcOriginTargets(d) {
					if internal, known := boolean(lb.Properties, "internal", false); known && !internal {
						m.ReportViolation(fmt.Sprintf("%s reaches %s through a VPC origin, but it is internet-facing: make it internal.", d.Name, lb.Name), d.URN)
					}
				}
				for _, lb := range ix.publicOrigins(d) {
					for _, g := range ix.refs(lb, "securityGroups", typeSecurityGroup) {
						for _, in := range ix.ingressTo(g) {
							if in.rule.fromWorld() {
								m.ReportViolation(fmt.Sprintf("%s's origin %s admits %s from %s: visitors can bypass CloudFront (and its WAF); use a VPC origin or CloudFront's origin-facing prefix list.",
									d.Name, lb.Name, in.rule.ports(), strings.Join(in.rule.cidrs, ",")), d.URN)
							}
						}
					}
				}
			}
		})
}

// vpcOriginTargets are the load balancers a distribution reaches through VPC origins.
func (ix *index) vpcOriginTargets(d policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, vo := range ix.vpcOriginsOf(d) {
		out = append(out, ix.endpointOf(vo)...)
	}
	return out
}

// vpcOriginsOf are the VPC origins a distribution's origins name.
func (ix *index) vpcOriginsOf(d policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, o := range objects(d.Properties, "origins") {
		if id, ok := str(object(o, "vpcOriginConfig"), "vpcOriginId"); ok {
			if vo, found := ix.byID[id]; found && vo.Type == typeVpcOrigin {
				out = append(out, vo)
			}
		}
	}
	for _, u := range d.PropertyDependencies["origins"] {
		if vo, ok := ix.byURN[u]; ok && vo.Type == typeVpcOrigin && !slices.ContainsFunc(out, func(x policyx.AnalyzerResource) bool { return x.URN == u }) {
			out = append(out, vo)
		}
	}
	return out
}

// endpointOf is the load balancer a VPC origin points at.
func (ix *index) endpointOf(vo policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	if arn, ok := str(object(vo.Properties, "vpcOriginEndpointConfig"), "arn"); ok {
		if lb, found := ix.byID[arn]; found && slices.Contains(lbTypes, lb.Type) {
			return []policyx.AnalyzerResource{lb}
		}
	}
	for _, u := range vo.PropertyDependencies["vpcOriginEndpointConfig"] {
		if lb, ok := ix.byURN[u]; ok && slices.Contains(lbTypes, lb.Type) {
			out = append(out, lb)
		}
	}
	return out
}

// publicOrigins are the stack's load balancers a distribution reaches over the internet (a
// custom origin by the load balancer's DNS name).
func (ix *index) publicOrigins(d policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, o := range objects(d.Properties, "origins") {
		if object(o, "vpcOriginConfig").Len() > 0 {
			continue
		}
		name, _ := str(o, "domainName")
		for _, lb := range ix.ofType(lbTypes...) {
			if dns, ok := str(lb.Properties, "dnsName"); ok && dns == name {
				out = append(out, lb)
			}
		}
	}
	return out
}
