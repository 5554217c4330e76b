package rules

// Who may talk to whom: web servers only to the load balancer, the database only to the
// web servers. And every resource is tagged with the stack it belongs to.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

func webIngressOnlyFromLoadBalancer() policyx.Policy {
	return stackPolicy("web-ingress-only-from-load-balancer",
		"Web instances take traffic only from a load balancer's security group (AWS Well-Architected SEC05, layered network protection); SSH from a configured administrator CIDR (never the world) is the one documented exception.",
		func(ix *index, m policyx.PolicyManager) {
			lbGroups := ix.groupsAttachedTo("securityGroups", lbTypes...)
			for _, g := range ix.webGroups() {
				for _, in := range ix.ingressTo(g) {
					fromLB := len(in.peers) > 0 && !slices.ContainsFunc(in.peers, func(p policyx.AnalyzerResource) bool { _, ok := lbGroups[p.URN]; return !ok })
					adminSSH := !in.rule.fromWorld() && len(in.rule.cidrs) > 0 && in.rule.portsKnown && in.rule.from == 22 && in.rule.to == 22
					if !fromLB && !adminSSH {
						m.ReportViolation(fmt.Sprintf("web group %s lets in %s from %s, not from the load balancer.", g.Name, in.rule.ports(), source(in)), in.rule.owner.URN)
					}
				}
			}
		})
}

func dbIngressOnlyFromWeb() policyx.Policy {
	return stackPolicy("db-ingress-only-from-web",
		"Databases take traffic only on their port and only from the web instances' security group (AWS Well-Architected SEC05, layered network protection).",
		func(ix *index, m policyx.PolicyManager) {
			webGroups := ix.webGroups()
			for _, db := range ix.ofType(typeDBInstance) {
				port, _ := number(db.Properties, "port", 3306)
				for _, g := range ix.refs(db, "vpcSecurityGroupIds", typeSecurityGroup) {
					for _, in := range ix.ingressTo(g) {
						fromWeb := len(in.peers) > 0 && !slices.ContainsFunc(in.peers, func(p policyx.AnalyzerResource) bool { _, ok := webGroups[p.URN]; return !ok })
						onPort := !in.rule.allPorts() && in.rule.portsKnown && in.rule.from == int(port) && in.rule.to == int(port)
						if !fromWeb || !onPort {
							m.ReportViolation(fmt.Sprintf("database group %s lets in %s from %s; only tcp/%d from the web servers' group may be.", g.Name, in.rule.ports(), source(in), int(port)), in.rule.owner.URN)
						}
					}
				}
			}
		})
}

// webGroups are the security groups web servers run in: those of instances, and those the
// launch templates of Auto Scaling groups give theirs (directly or on a network interface).
func (ix *index) webGroups() map[string]policyx.AnalyzerResource {
	out := ix.groupsAttachedTo("vpcSecurityGroupIds", typeInstance, typeLaunchTemplate)
	for _, lt := range ix.ofType(typeLaunchTemplate) {
		for _, ni := range objects(lt.Properties, "networkInterfaces") {
			for _, id := range stringsOf(ni, "securityGroups") {
				if g, ok := ix.byID[id]; ok && g.Type == typeSecurityGroup {
					out[g.URN] = g
				}
			}
		}
		// During a preview the IDs are unknown: follow the property's dependencies.
		for _, u := range lt.PropertyDependencies["networkInterfaces"] {
			if g, ok := ix.byURN[u]; ok && g.Type == typeSecurityGroup {
				out[g.URN] = g
			}
		}
	}
	return out
}

func source(in ingress) string {
	var s []string
	for _, p := range in.peers {
		s = append(s, "group "+p.Name)
	}
	s = append(s, in.rule.cidrs...)
	if len(s) == 0 {
		return "an unknown source"
	}
	return strings.Join(s, ", ")
}

// untaggable AWS types: associations, attachments, policies and values of other resources.
var untaggable = []string{
	"aws:ec2/routeTableAssociation:RouteTableAssociation",
	"aws:ec2/route:Route",
	"aws:ec2/securityGroupRule:SecurityGroupRule",
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment",
	"aws:iam/rolePolicy:RolePolicy",
	"aws:secretsmanager/secretVersion:SecretVersion",
	"aws:lb/targetGroupAttachment:TargetGroupAttachment",
	"aws:alb/targetGroupAttachment:TargetGroupAttachment",
	"aws:autoscaling/policy:Policy",
	"aws:autoscaling/lifecycleHook:LifecycleHook",
	"aws:autoscaling/attachment:Attachment",
	"aws:ec2transitgateway/instanceState:InstanceState",
	"aws:efs/mountTarget:MountTarget",
	"aws:efs/fileSystemPolicy:FileSystemPolicy",
	"aws:efs/backupPolicy:BackupPolicy",
	"aws:sns/topicPolicy:TopicPolicy",
	"aws:sns/topicSubscription:TopicSubscription",
	"aws:cloudwatch/eventTarget:EventTarget",
	"aws:cloudwatch/logMetricFilter:LogMetricFilter",
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
	"aws:cloudwatch/dashboard:Dashboard", // CloudWatch tags alarms and rules, not dashboards
	"aws:cloudfront/cachePolicy:CachePolicy",
	"aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
	"aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
	"aws:wafv2/webAclAssociation:WebAclAssociation",
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
}

// Taggable reports whether resources of an AWS type take tags (provider resources,
// other packages' resources and the types above do not).
func Taggable(typ string) bool {
	return strings.HasPrefix(typ, "aws:") && !slices.Contains(untaggable, typ)
}

// TagsOf reads a resource's tags, whether a map (most types) or a list of {key, value}
// (Auto Scaling groups).
func TagsOf(p property.Map) map[string]string {
	out := map[string]string{}
	for k, v := range object(p, "tags").All {
		if v.IsString() {
			out[k] = v.AsString()
		}
	}
	for _, t := range objects(p, "tags") {
		k, _ := str(t, "key")
		v, _ := str(t, "value")
		if k != "" {
			out[k] = v
		}
	}
	return out
}

func requiredTags(s Stack) policyx.Policy {
	return resourcePolicy("required-tags",
		"Every taggable AWS resource carries the project and stack tags (AWS Well-Architected COST03 cost allocation; the availability drill's safety check relies on them).",
		func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if !Taggable(r.Type) {
				return nil
			}
			if v, ok := r.Properties.GetOk("tags"); ok && v.IsComputed() {
				return nil
			}
			tags := TagsOf(r.Properties)
			for k, want := range map[string]string{"project": s.Project, "stack": s.Stack} {
				got := tags[k]
				if got == "" || (want != "" && got != want) {
					args.Manager.ReportViolation(fmt.Sprintf("%s: tag %s is %q, want %q.", r.Name, k, got, want), "")
				}
			}
			return nil
		})
}
