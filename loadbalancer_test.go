package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// SEED-SPEC §4 and §8: an ALB over both AZs, one target group with the hands-on's health
// check, every server registered. With edge alb (the hands-on's) it is internet-facing over
// the public subnets; behind CloudFront (the default) it is internal, over the private ones.
func TestLoadBalancer(t *testing.T) {
	for edge, want := range map[string]struct{ internal, subnets string }{
		edgeALB:        {"false", "10.0.0.0/24,10.0.1.0/24"},
		edgeCloudFront: {"true", "10.0.2.0/24,10.0.3.0/24"},
	} {
		r := mustRun(t, map[string]string{"edge": edge})
		alb := r.one(t, "aws:lb/loadBalancer:LoadBalancer")
		for k, v := range map[string]string{"loadBalancerType": "application", "internal": want.internal,
			"dropInvalidHeaderFields": "true", "ipAddressType": "ipv4"} {
			if got := alb.Str(k); got != v {
				t.Errorf("edge %s: %s: %s = %q, want %q", edge, alb.URN, k, got, v)
			}
		}
		var cidrs []string
		for _, id := range alb.Inputs["subnets"].ArrayValue() {
			sn := r.byID(id.StringValue())
			cidrs = append(cidrs, sn.Str("cidrBlock"))
		}
		if strings.Join(cidrs, ",") != want.subnets {
			t.Errorf("edge %s: %s: must span %s, got %v", edge, alb.URN, want.subnets, cidrs)
		}
	}
	r := mustRun(t, nil)

	tg := r.one(t, "aws:lb/targetGroup:TargetGroup")
	if tg.Str("port") != "80" || tg.Str("protocol") != "HTTP" || tg.Str("targetType") != "instance" || tg.Str("vpcId") != out(r.one(t, "aws:ec2/vpc:Vpc"), "id") {
		t.Errorf("%s: port %s protocol %s type %s", tg.URN, tg.Str("port"), tg.Str("protocol"), tg.Str("targetType"))
	}
	checkHealthCheck(t, tg, "/healthz.php")

	listener := r.one(t, "aws:lb/listener:Listener")
	action := listener.Inputs["defaultActions"].ArrayValue()[0].ObjectValue()
	if listener.Str("port") != "80" || listener.Str("protocol") != "HTTP" ||
		propString(action["type"]) != "forward" || propString(action["targetGroupArn"]) != tg.Outputs["arn"].StringValue() {
		t.Errorf("%s: want HTTP:80 forwarding to the target group, got %v", listener.URN, action)
	}

	// The servers register themselves: the group's target groups (the fixed mode's
	// attachments: TestFixedMode).
	asg := r.one(t, "aws:autoscaling/group:Group")
	if tgs := asg.Inputs["targetGroupArns"].ArrayValue(); len(tgs) != 1 || propString(tgs[0]) != out(tg, "arn") {
		t.Errorf("%s: the servers must register in the target group, got %v", asg.URN, tgs)
	}
	if n := len(r.ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment")); n != 0 {
		t.Errorf("the autoscaling mode registers through the group, not %d attachments (the image builder must not serve)", n)
	}
}

// checkHealthCheck: the target group checks the servers where they serve (its own port and
// protocol), on the configured path, and takes a dead server out within 15 s.
func checkHealthCheck(t *testing.T, tg *recorded, path string) {
	t.Helper()
	hc := tg.Obj("healthCheck")
	if port := propString(hc["port"]); port != "" && port != "traffic-port" && port != tg.Str("port") {
		t.Errorf("%s: health check port %q differs from the traffic port %s", tg.URN, port, tg.Str("port"))
	}
	if proto := propString(hc["protocol"]); proto != "" && proto != tg.Str("protocol") {
		t.Errorf("%s: health check protocol %q differs from the targets' %s", tg.URN, proto, tg.Str("protocol"))
	}
	if propString(hc["enabled"]) == "false" || propString(hc["path"]) != path || propString(hc["matcher"]) != "200" {
		t.Errorf("%s: health check %v, want enabled on %s expecting 200", tg.URN, hc, path)
	}
	interval, _ := strconv.Atoi(propString(hc["interval"]))
	timeout, _ := strconv.Atoi(propString(hc["timeout"]))
	unhealthy, _ := strconv.Atoi(propString(hc["unhealthyThreshold"]))
	// The drill's default error window for a lost server is what the check allows; keep it
	// within 15 s, the timeout below the interval (AWS requires it).
	if window := unhealthy*interval + timeout; interval*unhealthy == 0 || window > 15 || timeout >= interval {
		t.Errorf("%s: a dead server stays in rotation up to %d × %d s + %d s; want at most 15 s, timeout < interval", tg.URN, unhealthy, interval, timeout)
	}
}

func TestHTTPSWithCertificate(t *testing.T) {
	cert := testALBCertificate
	r := mustRun(t, map[string]string{"edge": edgeALB, "certificateArn": cert, "siteDomain": "www.example.com"})
	listeners := map[string]*recorded{}
	for _, l := range r.ofType("aws:lb/listener:Listener") {
		listeners[l.Str("port")] = l
	}
	https, http := listeners["443"], listeners["80"]
	if https == nil || http == nil || len(listeners) != 2 {
		t.Fatalf("want listeners on 80 and 443, got %v", listeners)
	}
	// TLS 1.2 and 1.3 only: the policies ELB documents without TLS 1.0/1.1.
	tls12Plus := []string{"ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
		"ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06"}
	if https.Str("protocol") != "HTTPS" || https.Str("certificateArn") != cert || !slices.Contains(tls12Plus, https.Str("sslPolicy")) {
		t.Errorf("%s: protocol %q cert %q policy %q", https.URN, https.Str("protocol"), https.Str("certificateArn"), https.Str("sslPolicy"))
	}
	redirect := http.Inputs["defaultActions"].ArrayValue()[0].ObjectValue()
	to := redirect["redirect"].ObjectValue()
	if propString(redirect["type"]) != "redirect" || propString(to["protocol"]) != "HTTPS" ||
		propString(to["port"]) != "443" || propString(to["statusCode"]) != "HTTP_301" {
		t.Errorf("%s: HTTP must redirect to HTTPS, got %v", http.URN, redirect)
	}
	ports := map[string]bool{}
	for _, rule := range r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if rule.Str("cidrIpv4") == "0.0.0.0/0" {
			ports[rule.Str("fromPort")] = true
		}
	}
	if !ports["80"] || !ports["443"] || len(ports) != 2 {
		t.Errorf("with a certificate the ALB takes 80 and 443 from the internet, got %v", ports)
	}
	if got := r.outputs["siteUrl"]; got != "https://www.example.com" {
		t.Errorf("siteUrl = %v, want https://www.example.com", got)
	}
}

// The servers' settings name the URL visitors use and the header in which the edge tells the
// viewer's protocol: the distribution's HTTPS URL and CloudFront's header by default, the load
// balancer's and its X-Forwarded-Proto with edge alb.
func TestSiteURLSetting(t *testing.T) {
	r := mustRun(t, nil)
	site := jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
	if want := "https://" + out(r.one(t, "aws:cloudfront/distribution:Distribution"), "domainName"); site[settingSiteURL] != want {
		t.Errorf("the servers' site URL is %v, want the distribution's %s", site[settingSiteURL], want)
	}
	if site[settingProto] != "CloudFront-Forwarded-Proto" || site[settingCookie] != cookieHash("/scalable-wordpress/test") {
		t.Errorf("behind CloudFront the servers trust %v and hash cookies with %v", site[settingProto], site[settingCookie])
	}
	r = mustRun(t, map[string]string{"edge": edgeALB})
	site = jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
	if want := "http://" + out(r.one(t, "aws:lb/loadBalancer:LoadBalancer"), "dnsName"); site[settingSiteURL] != want {
		t.Errorf("edge alb: the servers' site URL is %v, want the load balancer's %s", site[settingSiteURL], want)
	}
	if site[settingProto] != "X-Forwarded-Proto" {
		t.Errorf("edge alb: the servers trust %v, want the load balancer's X-Forwarded-Proto", site[settingProto])
	}
	r = mustRun(t, map[string]string{"siteDomain": "shop.example.com", "certificateArn": testCDNCertificate})
	site = jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
	if site[settingSiteURL] != "https://shop.example.com" {
		t.Errorf("with a domain the servers' site URL is %v, want https://shop.example.com", site[settingSiteURL])
	}
}
