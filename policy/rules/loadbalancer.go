package rules

// Application load balancers: header hygiene, HTTPS, and targets in every AZ they serve.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeLB          = "aws:lb/loadBalancer:LoadBalancer"
	typeALB         = "aws:alb/loadBalancer:LoadBalancer"
	typeListener    = "aws:lb/listener:Listener"
	typeALBListener = "aws:alb/listener:Listener"
	typeTargetGroup = "aws:lb/targetGroup:TargetGroup"
	typeALBTG       = "aws:alb/targetGroup:TargetGroup"
	typeAttachment  = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
	typeALBAttach   = "aws:alb/targetGroupAttachment:TargetGroupAttachment"
	typeSubnet      = "aws:ec2/subnet:Subnet"
	typeASG         = "aws:autoscaling/group:Group"
)

var (
	lbTypes         = []string{typeLB, typeALB}
	listenerTypes   = []string{typeListener, typeALBListener}
	targetGroupType = []string{typeTargetGroup, typeALBTG}
	attachmentTypes = []string{typeAttachment, typeALBAttach}
)

func isApplication(lb policyx.AnalyzerResource) bool {
	t, ok := str(lb.Properties, "loadBalancerType")
	return !ok || t == "application" // the provider's default
}

func albDropInvalidHeaders() policyx.Policy {
	return resourcePolicy("alb-drop-invalid-headers",
		"Application load balancers drop invalid HTTP headers (Checkov CKV_AWS_131; Security Hub ELB.4).",
		forType(func(args policyx.ResourceValidationArgs) {
			if !isApplication(args.Resource) {
				return
			}
			if drop, ok := boolean(args.Resource.Properties, "dropInvalidHeaderFields", false); ok && !drop {
				args.Manager.ReportViolation(args.Resource.Name+" forwards invalid headers; set dropInvalidHeaderFields.", "")
			}
		}, lbTypes...))
}

// listenersOf groups the listeners by the load balancer they belong to.
func listenersOf(ix *index, lb policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, l := range ix.ofType(listenerTypes...) {
		for _, owner := range ix.refs(l, "loadBalancerArn", lbTypes...) {
			if owner.URN == lb.URN {
				out = append(out, l)
			}
		}
	}
	return out
}

func protocol(l policyx.AnalyzerResource) string {
	p, _ := str(l.Properties, "protocol")
	return strings.ToUpper(p)
}

// redirectsToHTTPS reports whether a listener's default action sends clients to HTTPS.
func redirectsToHTTPS(l policyx.AnalyzerResource) bool {
	for _, a := range objects(l.Properties, "defaultActions") {
		if t, _ := str(a, "type"); t != "redirect" {
			continue
		}
		if p, _ := str(object(a, "redirect"), "protocol"); strings.EqualFold(p, "HTTPS") {
			return true
		}
	}
	return false
}

func albHTTPRedirectsToHTTPS() policyx.Policy {
	return stackPolicy("alb-http-redirects-to-https",
		"When a load balancer has an HTTPS listener, its HTTP listeners redirect to HTTPS (Security Hub ELB.1; Checkov CKV2_AWS_20).",
		func(ix *index, m policyx.PolicyManager) {
			for _, lb := range ix.ofType(lbTypes...) {
				ls := listenersOf(ix, lb)
				if !slices.ContainsFunc(ls, func(l policyx.AnalyzerResource) bool { return protocol(l) == "HTTPS" }) {
					continue
				}
				for _, l := range ls {
					if protocol(l) == "HTTP" && !redirectsToHTTPS(l) {
						m.ReportViolation(fmt.Sprintf("%s serves plain HTTP next to HTTPS; make its default action a redirect to HTTPS.", l.Name), l.URN)
					}
				}
			}
		})
}

func albHTTPSListener() policyx.Policy {
	return stackPolicy("alb-https-listener",
		"Internet-facing load balancers serve HTTPS (Checkov CKV_AWS_2). Advisory: the default stack has no certificate and serves HTTP only; set certificateArn.",
		func(ix *index, m policyx.PolicyManager) {
			for _, lb := range ix.ofType(lbTypes...) {
				if internal, _ := boolean(lb.Properties, "internal", false); internal || !isApplication(lb) {
					continue
				}
				if !slices.ContainsFunc(listenersOf(ix, lb), func(l policyx.AnalyzerResource) bool { return protocol(l) == "HTTPS" }) {
					m.ReportViolation(fmt.Sprintf("%s has no HTTPS listener: traffic to it is plaintext.", lb.Name), lb.URN)
				}
			}
		})
}

// azOfInstance is an instance's AZ: its own output after up, else its subnet's.
func azOfInstance(ix *index, inst policyx.AnalyzerResource) string {
	if az, ok := str(inst.Properties, "availabilityZone"); ok && az != "" {
		return az
	}
	for _, s := range ix.refs(inst, "subnetId", typeSubnet) {
		if az, ok := str(s.Properties, "availabilityZone"); ok {
			return az
		}
	}
	return ""
}

func albTargetsInEveryAZ() policyx.Policy {
	return stackPolicy("alb-targets-in-every-az",
		"Load balancers span at least two AZs and have a registered target in each, an instance or an Auto Scaling group that keeps one there (AWS Well-Architected REL10; Security Hub ELB.13).",
		func(ix *index, m policyx.PolicyManager) {
			for _, lb := range ix.ofType(lbTypes...) {
				lbAZs := map[string]bool{}
				for _, s := range ix.refs(lb, "subnets", typeSubnet) {
					if az, ok := str(s.Properties, "availabilityZone"); ok {
						lbAZs[az] = true
					}
				}
				if len(lbAZs) < 2 {
					m.ReportViolation(fmt.Sprintf("%s spans %d AZ(s); it needs subnets in at least two.", lb.Name, len(lbAZs)), lb.URN)
					continue
				}
				targetAZs := map[string]bool{}
				for _, tg := range targetGroupsOf(ix, lb) {
					for _, az := range groupAZs(ix, tg, len(lbAZs), m) {
						targetAZs[az] = true
					}
					for _, a := range ix.ofType(attachmentTypes...) {
						if !slices.ContainsFunc(ix.refs(a, "targetGroupArn", targetGroupType...), func(x policyx.AnalyzerResource) bool { return x.URN == tg.URN }) {
							continue
						}
						for _, inst := range ix.refs(a, "targetId", typeInstance) {
							if az := azOfInstance(ix, inst); az != "" {
								targetAZs[az] = true
							}
						}
					}
				}
				var empty []string
				for az := range lbAZs {
					if !targetAZs[az] {
						empty = append(empty, az)
					}
				}
				slices.Sort(empty)
				if len(empty) > 0 {
					m.ReportViolation(fmt.Sprintf("%s routes to %s but has no target there: losing the other AZ would take the site down.", lb.Name, strings.Join(empty, ", ")), lb.URN)
				}
			}
		})
}

// groupAZs are the AZs where Auto Scaling groups registering in a target group keep servers:
// every AZ of their subnets, when their minimum size is at least one server per AZ the load
// balancer serves (else the group may leave an AZ empty, which is reported).
func groupAZs(ix *index, tg policyx.AnalyzerResource, lbAZs int, m policyx.PolicyManager) []string {
	var out []string
	for _, g := range ix.ofType(typeASG) {
		if !slices.ContainsFunc(ix.refs(g, "targetGroupArns", targetGroupType...), func(x policyx.AnalyzerResource) bool { return x.URN == tg.URN }) {
			continue
		}
		min, known := number(g.Properties, "minSize", 0)
		if known && int(min) < lbAZs {
			m.ReportViolation(fmt.Sprintf("%s keeps at least %d server(s) for %d AZs: an AZ of the load balancer can be left without one.", g.Name, int(min), lbAZs), g.URN)
			continue
		}
		for _, s := range ix.refs(g, "vpcZoneIdentifiers", typeSubnet) {
			if az, ok := str(s.Properties, "availabilityZone"); ok {
				out = append(out, az)
			}
		}
		out = append(out, stringsOf(g.Properties, "availabilityZones")...)
	}
	return out
}

// targetGroupsOf returns the target groups an ALB's listeners forward to.
func targetGroupsOf(ix *index, lb policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, l := range listenersOf(ix, lb) {
		for _, a := range objects(l.Properties, "defaultActions") {
			for _, arn := range forwardTargets(a) {
				if tg, ok := ix.byID[arn]; ok {
					out = append(out, tg)
				}
			}
		}
		// During a preview the ARNs are unknown: follow the listener's dependencies.
		for _, u := range l.PropertyDependencies["defaultActions"] {
			if tg, ok := ix.byURN[u]; ok && slices.Contains(targetGroupType, tg.Type) {
				out = append(out, tg)
			}
		}
	}
	return out
}

func forwardTargets(action property.Map) []string {
	out := stringsOf(action, "targetGroupArn")
	for _, tg := range objects(object(action, "forward"), "targetGroups") {
		out = append(out, stringsOf(tg, "arn")...)
	}
	return out
}
