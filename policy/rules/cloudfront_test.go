package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// distribution is a distribution as the program declares it, changed by edits.
func distribution(edits map[string]any) policyx.AnalyzerResource {
	p := map[string]any{
		"defaultCacheBehavior":  map[string]any{"viewerProtocolPolicy": "redirect-to-https", "responseHeadersPolicyId": "rhp-1"},
		"orderedCacheBehaviors": []any{map[string]any{"pathPattern": "/wp-admin/*", "viewerProtocolPolicy": "redirect-to-https", "responseHeadersPolicyId": "rhp-1"}},
		"viewerCertificate":     map[string]any{"cloudfrontDefaultCertificate": true},
		"origins":               []any{map[string]any{"domainName": "internal-lb.example", "vpcOriginConfig": map[string]any{"vpcOriginId": "vo_1"}}},
		"webAclId":              "arn:aws:wafv2:us-east-1:1:global/webacl/w/1",
		"loggingConfig":         map[string]any{"bucket": "logs.s3.amazonaws.com"},
	}
	for k, v := range edits {
		p[k] = v
	}
	return res(typeDistribution, "cdn", p)
}

var customCert = map[string]any{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}

func TestCloudFrontViewerHTTPS(t *testing.T) {
	runCases(t, "cloudfront-viewer-https", []ruleCase{
		{"every behaviour redirects", nil, []policyx.AnalyzerResource{distribution(nil)}, ""},
		{"the default behaviour allows HTTP", nil, []policyx.AnalyzerResource{distribution(map[string]any{
			"defaultCacheBehavior": map[string]any{"viewerProtocolPolicy": "allow-all"}})}, "the default behaviour over plain HTTP"},
		{"a path allows HTTP", nil, []policyx.AnalyzerResource{distribution(map[string]any{
			"orderedCacheBehaviors": []any{map[string]any{"pathPattern": "/wp-login.php", "viewerProtocolPolicy": "allow-all"}}})}, "/wp-login.php over plain HTTP"},
		{"https-only", nil, []policyx.AnalyzerResource{distribution(map[string]any{
			"defaultCacheBehavior": map[string]any{"viewerProtocolPolicy": "https-only"}})}, ""},
	})
}

func TestCloudFrontSecurityHeaders(t *testing.T) {
	runCases(t, "cloudfront-security-headers", []ruleCase{
		{"every behaviour has the policy", nil, []policyx.AnalyzerResource{distribution(nil)}, ""},
		{"a path has none", nil, []policyx.AnalyzerResource{distribution(map[string]any{
			"orderedCacheBehaviors": []any{map[string]any{"pathPattern": "/wp-content/*", "viewerProtocolPolicy": "redirect-to-https"}}})},
			"/wp-content/* without a response headers policy"},
		{"the default has an empty one", nil, []policyx.AnalyzerResource{distribution(map[string]any{
			"defaultCacheBehavior": map[string]any{"viewerProtocolPolicy": "redirect-to-https", "responseHeadersPolicyId": ""}})},
			"the default behaviour without a response headers policy"},
	})
}

func TestCloudFrontTLSAndCertificate(t *testing.T) {
	old := map[string]any{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1"}
	vip := map[string]any{"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "sslSupportMethod": "vip", "minimumProtocolVersion": "TLSv1.2_2021"}
	runCases(t, "cloudfront-minimum-tls", []ruleCase{
		{"own certificate, TLS 1.2", nil, []policyx.AnalyzerResource{distribution(map[string]any{"viewerCertificate": customCert})}, ""},
		{"own certificate, TLSv1", nil, []policyx.AnalyzerResource{distribution(map[string]any{"viewerCertificate": old})}, "below TLS 1.2"},
		{"dedicated IPs", nil, []policyx.AnalyzerResource{distribution(map[string]any{"viewerCertificate": vip})}, "use sni-only"},
		{"the cloudfront.net certificate is the other rule's", nil, []policyx.AnalyzerResource{distribution(nil)}, ""},
	})
	runCases(t, "cloudfront-custom-certificate", []ruleCase{
		{"cloudfront.net", nil, []policyx.AnalyzerResource{distribution(nil)}, "TLSv1"},
		{"own certificate", nil, []policyx.AnalyzerResource{distribution(map[string]any{"viewerCertificate": customCert})}, ""},
	})
}

func TestCloudFrontWAFAndLogging(t *testing.T) {
	runCases(t, "cloudfront-waf", []ruleCase{
		{"web ACL", nil, []policyx.AnalyzerResource{distribution(nil)}, ""},
		{"none", nil, []policyx.AnalyzerResource{distribution(map[string]any{"webAclId": nil})}, "no web ACL"},
		{"empty", nil, []policyx.AnalyzerResource{distribution(map[string]any{"webAclId": ""})}, "no web ACL"},
	})
	noLegacy := distribution(map[string]any{"loggingConfig": nil, "arn": "arn:aws:cloudfront::1:distribution/E1"})
	source := func(logType, arn string) policyx.AnalyzerResource {
		return res(typeLogDeliverySource, "access", map[string]any{"name": "access-1", "logType": logType, "resourceArn": arn})
	}
	delivery := func(sourceName string) policyx.AnalyzerResource {
		return res(typeLogDelivery, "access", map[string]any{"deliverySourceName": sourceName, "deliveryDestinationArn": "arn:aws:logs:us-east-1:1:delivery-destination:d"})
	}
	// A preview: the distribution's ARN and the source's name are not known yet.
	previewSource := source("ACCESS_LOGS", "")
	previewSource.PropertyDependencies = map[string][]string{"resourceArn": {noLegacy.URN}}
	previewDelivery := delivery("")
	previewDelivery.PropertyDependencies = map[string][]string{"deliverySourceName": {previewSource.URN}}
	runCases(t, "cloudfront-logging", []ruleCase{
		{"legacy logs to S3", nil, []policyx.AnalyzerResource{distribution(nil)}, ""},
		{"none", nil, []policyx.AnalyzerResource{noLegacy}, "no access logs"},
		{"v2 delivery of its access logs", nil, []policyx.AnalyzerResource{noLegacy, source("ACCESS_LOGS", "arn:aws:cloudfront::1:distribution/E1"), delivery("access-1")}, ""},
		{"v2 delivery during a preview", nil, []policyx.AnalyzerResource{noLegacy, previewSource, previewDelivery}, ""},
		{"a source without a delivery", nil, []policyx.AnalyzerResource{noLegacy, source("ACCESS_LOGS", "arn:aws:cloudfront::1:distribution/E1")}, "no access logs"},
		{"another distribution's source", nil, []policyx.AnalyzerResource{noLegacy, source("ACCESS_LOGS", "arn:aws:cloudfront::1:distribution/E2"), delivery("access-1")}, "no access logs"},
		{"a source of another log type", nil, []policyx.AnalyzerResource{noLegacy, source("CONNECTION_LOGS", "arn:aws:cloudfront::1:distribution/E1"), delivery("access-1")}, "no access logs"},
		{"a delivery of another source", nil, []policyx.AnalyzerResource{noLegacy, source("ACCESS_LOGS", "arn:aws:cloudfront::1:distribution/E1"), delivery("other")}, "no access logs"},
	})
}

func TestCloudFrontOriginNotPublic(t *testing.T) {
	vo := res(typeVpcOrigin, "origin", map[string]any{"id": "vo_1", "vpcOriginEndpointConfig": map[string]any{"arn": "arn:lb"}})
	lb := func(internal bool) policyx.AnalyzerResource {
		return res(typeLB, "lb", map[string]any{"id": "arn:lb", "arn": "arn:lb", "internal": internal, "dnsName": "lb.example", "securityGroups": []any{"sg-lb"}})
	}
	sg := res(typeSecurityGroup, "lb-sg", map[string]any{"id": "sg-lb"})
	public := distribution(map[string]any{"origins": []any{map[string]any{"domainName": "lb.example"}}})
	world := ingressRule("lb-in-80", map[string]any{"securityGroupId": "sg-lb", "fromPort": 80, "toPort": 80, "cidrIpv4": "0.0.0.0/0"})
	prefix := ingressRule("lb-in-80", map[string]any{"securityGroupId": "sg-lb", "fromPort": 80, "toPort": 80, "prefixListId": "pl-58a04531"})
	runCases(t, "cloudfront-origin-not-public", []ruleCase{
		{"internal load balancer through a VPC origin", nil, []policyx.AnalyzerResource{distribution(nil), vo, lb(true)}, ""},
		{"internet-facing load balancer through a VPC origin", nil, []policyx.AnalyzerResource{distribution(nil), vo, lb(false)}, "make it internal"},
		{"public origin open to the world", nil, []policyx.AnalyzerResource{public, lb(false), sg, world}, "bypass CloudFront"},
		{"public origin behind the prefix list", nil, []policyx.AnalyzerResource{public, lb(false), sg, prefix}, ""},
	})
}
