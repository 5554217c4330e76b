package main

// The pipeline's roles (bootstrap/, built by internal/pipeline) against what this program
// really does: the program runs under the mocks in stack shapes that between them register
// every resource type and make every lookup; each registration and each invoke becomes the
// AWS API calls the provider makes for it (providerCalls, invokeCalls below: create, read,
// update, delete and tag, as the Terraform AWS provider calls them, with the resource each
// call names, its tags and the region it goes to), and each call is evaluated against the
// roles' policies. The deploy role must be allowed every call; the preview role every read
// and no write, and never a secret's value. A type or an invoke without an entry fails the
// test, so a new resource cannot slip past the roles.

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/example/scalable-wordpress/internal/backup"
	"github.com/example/scalable-wordpress/internal/images"
	"github.com/example/scalable-wordpress/internal/pipeline"
	"github.com/example/scalable-wordpress/internal/rollout"
)

const (
	testRegion   = "ap-northeast-1"
	testBoundary = "arn:aws:iam::" + testAccount + ":policy/server-boundary-4f3c2a1"
)

// testScope is what the bootstrap would name for this account.
var testScope = pipeline.Scope{Region: testRegion, Partition: "aws", AccountID: testAccount, DNSSuffix: "amazonaws.com",
	Project: testProject, StateBucketARN: "arn:aws:s3:::state-bucket-abc123",
	StateKeyARN: "arn:aws:kms:" + testRegion + ":" + testAccount + ":key/key-1234", BoundaryARN: testBoundary}

// pipelineShapes are stacks the pipeline deploys (iamPermissionsBoundary set): between them,
// every resource type the program has and every lookup it makes.
var pipelineShapes = map[string]map[string]string{
	"default: cloudfront, CLOUDFRONT waf, siteDomain's certificate looked up": {"siteDomain": testIssuedDomain},
	"edge alb, REGIONAL waf, https, alarm e-mail":                             {"edge": "alb", "certificateArn": testALBCertificate, "alarmEmail": "ops@example.com"},
	"fixed servers, no waf, ephemeral: no final snapshot":                     {"webTierMode": "fixed", "waf": "false", "ephemeral": "true", "dbFinalSnapshot": "false", "uploadsProtection": "false"},
	"cloudfront with a certificate, pinned AMI, key pair":                     {"siteDomain": "blog.example.com", "certificateArn": testCDNCertificate, "amiId": testAMI, "keyPairName": "ops"},
	"a WordPress minor upgrade (pre-upgrade snapshot)":                        {lastOutput + "wordpressVersion": "6.9.1", "wordpressVersion": "7.0"},
	"a site moved in (importFrom: the servers read the named objects)":        {"importFrom": testImportFrom},
	"a database restored to a point in time, the one that served kept":        {lastOutput + "dbIdentifier": "db-db", "dbRestore": `{"id":"r1","from":"latest"}`},
	"a new stack from a snapshot of the project's":                            {"dbRestore": `{"id":"seed","from":"snapshot:scalable-wordpress-prod-nightly"}`},
	"the uploads handed to a restored file system (the stack's tags, copied)": {"uploadsRestore": testUploadsRestore},
}

// lastOutput prefixes a shape's key that is not config but an output of the stack's last
// deploy (release.go reads them).
const lastOutput = "last:"

// testUploadsRestore hands the servers a restored uploads file system (uploadsrestore.go).
const testUploadsRestore = `{"id":"media-1","fileSystemId":"fs-0123456789abcdef0","path":"/aws-backup-restore_2026-12-04T10-00-00-000Z/uploads"}`

// testImportFrom is a site to move in (siteimport.go).
const testImportFrom = `{"database": "s3://old-site/scalable-wordpress-import/site.sql.gz", "uploads": "s3://old-site/scalable-wordpress-import/uploads.tar.gz"}`

// runShape runs the program as a pipeline shape deploys it: with the boundary, the shape's
// config and its last outputs.
func runShape(t *testing.T, shape map[string]string) *stackRun {
	t.Helper()
	cfg, last := map[string]string{"iamPermissionsBoundary": testBoundary}, map[string]any{}
	for k, v := range shape {
		if key, ok := strings.CutPrefix(k, lastOutput); ok {
			last[key] = v
		} else {
			cfg[k] = v
		}
	}
	r := runProgramAfter(t, last, cfg)
	if r.err != nil {
		t.Fatalf("program failed: %v", r.err)
	}
	return r
}

// phase says who needs a call: both roles (read), the deploy role (write), or the deploy role
// and never the preview role (secret: a secret's value).
type phase int

const (
	readPhase phase = iota
	writePhase
	secretPhase
)

// apiCall is one API call the provider makes, and what makes it.
type apiCall struct {
	pipeline.Request
	phase phase
	by    string
}

// callSite builds the calls of one registration or invoke.
type callSite struct {
	t      *testing.T
	r      *stackRun
	x      *recorded            // the resource; nil for an invoke
	args   resource.PropertyMap // the invoke's arguments
	region string               // the provider's region
	by     string
	calls  []apiCall
}

func (c *callSite) add(p phase, groups ...[]pipeline.Request) {
	for _, g := range groups {
		for _, req := range g {
			c.calls = append(c.calls, apiCall{Request: req, phase: p, by: c.by})
		}
	}
}
func (c *callSite) read(g ...[]pipeline.Request)   { c.add(readPhase, g...) }
func (c *callSite) write(g ...[]pipeline.Request)  { c.add(writePhase, g...) }
func (c *callSite) secret(g ...[]pipeline.Request) { c.add(secretPhase, g...) }

// request is a call of each action on one resource with a request context.
func (c *callSite) request(resourceARN string, context map[string][]string, actions ...string) []pipeline.Request {
	var out []pipeline.Request
	for _, a := range actions {
		ctx := map[string][]string{"aws:RequestedRegion": {c.endpointRegion(a)}}
		for k, v := range context {
			ctx[k] = v
		}
		out = append(out, pipeline.Request{Action: a, Resource: resourceARN, Context: ctx})
	}
	return out
}

// endpointRegion: IAM and CloudFront answer in us-east-1 whatever the provider's region.
func (c *callSite) endpointRegion(action string) string {
	if strings.HasPrefix(action, "iam:") || strings.HasPrefix(action, "cloudfront:") {
		return pipeline.GlobalRegion
	}
	return c.region
}

// any: actions without resource-level permissions.
func (c *callSite) any(actions ...string) []pipeline.Request { return c.request("*", nil, actions...) }

// fresh: the resource being created, with the tags the request sets.
func (c *callSite) fresh(actions ...string) []pipeline.Request {
	return c.request(c.r.arnOf(c.x, c.region), requestTags(c.x), actions...)
}

// own: the resource as it exists, with its tags.
func (c *callSite) own(actions ...string) []pipeline.Request {
	return c.request(c.r.arnOf(c.x, c.region), resourceTags(c.x), actions...)
}

// ref: an existing resource the input names (a dotted path into objects; every element of
// a list), with its tags.
func (c *callSite) ref(input string, actions ...string) []pipeline.Request {
	var out []pipeline.Request
	for _, v := range inputValues(c.x.Inputs, input) {
		target := c.r.find(v)
		if target == nil && v == c.r.cfg.UploadsRestore.FileSystemID {
			// A restored uploads file system (uploadsRestore): outside the stack, with the tags
			// AWS Backup copied from the stack's own.
			own := c.r.m.Named("aws:efs/fileSystem:FileSystem", "uploads-fs")
			out = append(out, c.request(restoredFileSystemARN(c.region, v), resourceTags(own), actions...)...)
			continue
		}
		if target == nil {
			c.t.Errorf("%s: input %s = %q names no registered resource", c.x.URN, input, v)
			continue
		}
		out = append(out, c.request(c.r.arnOf(target, c.region), resourceTags(target), actions...)...)
	}
	return out
}

// restoredFileSystemARN is the ARN of a file system the stack does not make (uploadsRestore).
func restoredFileSystemARN(region, id string) string {
	return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", region, testAccount, id)
}

// at: a resource the program does not make (AWS's image, a default option group).
func (c *callSite) at(arn string, actions ...string) []pipeline.Request {
	return c.request(arn, nil, actions...)
}

// with adds condition keys to requests.
func with(reqs []pipeline.Request, key string, values ...string) []pipeline.Request {
	var out []pipeline.Request
	for _, r := range reqs {
		ctx := map[string][]string{key: values}
		for k, v := range r.Context {
			if k != key {
				ctx[k] = v
			}
		}
		out = append(out, pipeline.Request{Action: r.Action, Resource: r.Resource, Context: ctx})
	}
	return out
}

// serviceLinkedRole is the first create of a service in an account.
func (c *callSite) serviceLinkedRole(service string) []pipeline.Request {
	return with(c.at(fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/%s/*", testAccount, service), "iam:CreateServiceLinkedRole"),
		"iam:AWSServiceName", service)
}

// roleCalls are calls on the role a role input names, with its boundary in the context.
func (c *callSite) roleCalls(input string, actions ...string) []pipeline.Request {
	var out []pipeline.Request
	for _, v := range inputValues(c.x.Inputs, input) {
		role := c.r.find(v)
		if role == nil || role.Type != "aws:iam/role:Role" {
			c.t.Errorf("%s: %s = %q is no role of the stack", c.x.URN, input, v)
			continue
		}
		out = append(out, withBoundary(c.request(c.r.arnOf(role, c.region), resourceTags(role), actions...), role)...)
	}
	return out
}

// withBoundary puts the role's permissions boundary, if it has one, in the request context
// (iam:PermissionsBoundary), as IAM does for the role-writing actions.
func withBoundary(reqs []pipeline.Request, role *recorded) []pipeline.Request {
	if b := role.Str("permissionsBoundary"); b != "" {
		return with(reqs, "iam:PermissionsBoundary", b)
	}
	return reqs
}

// passRoleOfProfile is launching with an instance profile: passing its role to EC2.
func (c *callSite) passRoleOfProfile(input string) []pipeline.Request {
	var out []pipeline.Request
	for _, v := range inputValues(c.x.Inputs, input) {
		profile := c.r.find(v)
		if profile == nil || profile.Type != "aws:iam/instanceProfile:InstanceProfile" {
			c.t.Errorf("%s: %s = %q is no instance profile of the stack", c.x.URN, input, v)
			continue
		}
		role := c.r.find(profile.Str("role"))
		if role == nil {
			c.t.Errorf("%s: no role", profile.URN)
			continue
		}
		out = append(out, with(c.request(c.r.arnOf(role, c.region), nil, "iam:PassRole"), "iam:PassedToService", "ec2.amazonaws.com")...)
	}
	return out
}

// ec2Create is an EC2 create with its tags, and the CreateTags EC2 authorizes with it.
func (c *callSite) ec2Create(action string) []pipeline.Request {
	return append(c.fresh(action), with(c.fresh("ec2:CreateTags"), "ec2:CreateAction", strings.TrimPrefix(action, "ec2:"))...)
}

// providerCalls are the calls the provider makes for each resource type.
var providerCalls = map[string]func(c *callSite){
	// ----- network
	"aws:ec2/vpc:Vpc": func(c *callSite) {
		c.read(c.any("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls"))
		c.write(c.ec2Create("ec2:CreateVpc"), c.own("ec2:ModifyVpcAttribute", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteVpc"))
	},
	"aws:ec2/subnet:Subnet": func(c *callSite) {
		c.read(c.any("ec2:DescribeSubnets"))
		c.write(c.ec2Create("ec2:CreateSubnet"), c.ref("vpcId", "ec2:CreateSubnet"),
			c.own("ec2:ModifySubnetAttribute", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSubnet"))
	},
	"aws:ec2/internetGateway:InternetGateway": func(c *callSite) {
		c.read(c.any("ec2:DescribeInternetGateways"))
		c.write(c.ec2Create("ec2:CreateInternetGateway"), c.own("ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteInternetGateway"),
			c.ref("vpcId", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway"))
	},
	"aws:ec2/routeTable:RouteTable": func(c *callSite) {
		c.read(c.any("ec2:DescribeRouteTables"))
		c.write(c.ec2Create("ec2:CreateRouteTable"), c.ref("vpcId", "ec2:CreateRouteTable"),
			c.own("ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteRouteTable"))
	},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": func(c *callSite) {
		c.read(c.any("ec2:DescribeRouteTables"))
		c.write(c.ref("routeTableId", "ec2:AssociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DisassociateRouteTable"),
			c.ref("subnetId", "ec2:AssociateRouteTable"))
	},
	"aws:ec2/securityGroup:SecurityGroup": func(c *callSite) {
		c.read(c.any("ec2:DescribeSecurityGroups"))
		// The provider revokes the default egress rule of a new group.
		c.write(c.ec2Create("ec2:CreateSecurityGroup"), c.ref("vpcId", "ec2:CreateSecurityGroup"),
			c.own("ec2:RevokeSecurityGroupEgress", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup"))
	},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": func(c *callSite) { securityGroupRule(c, "Ingress") },
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   func(c *callSite) { securityGroupRule(c, "Egress") },
	// ----- the stack's own last outputs (release.go): the CLI reads the stack's checkpoint
	"pulumi:pulumi:StackReference": func(c *callSite) {
		name := c.x.Str("name")
		c.read(c.at(testScope.StateBucketARN+"/.pulumi/stacks/"+name[strings.Index(name, "/")+1:]+".json", "s3:GetObject"),
			c.at(testScope.StateKeyARN, "kms:Decrypt"))
	},
	// ----- servers and image
	"aws:ec2/instance:Instance": func(c *callSite) {
		c.read(c.any("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeVolumes", "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeTags"))
		volume := c.request(fmt.Sprintf("arn:aws:ec2:%s:%s:volume/vol-%s", c.region, testAccount, c.x.Name), tagContext("aws:RequestTag/", tagsOf(c.x, "volumeTags")), "ec2:RunInstances")
		c.write(c.ec2Create("ec2:RunInstances"), volume, c.ref("subnetId", "ec2:RunInstances"), c.ref("vpcSecurityGroupIds", "ec2:RunInstances"),
			c.image("ami"), c.at(fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/*", c.region, testAccount), "ec2:RunInstances"),
			c.keyPair(), c.passRoleOfProfile("iamInstanceProfile"),
			c.own("ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceMetadataOptions", "ec2:StopInstances", "ec2:StartInstances", "ec2:CreateTags", "ec2:DeleteTags", "ec2:TerminateInstances"))
	},
	"aws:ec2/amiFromInstance:AmiFromInstance": func(c *callSite) {
		c.read(c.any("ec2:DescribeImages", "ec2:DescribeImageAttribute", "ec2:DescribeSnapshots"))
		snapshot := fmt.Sprintf("arn:aws:ec2:%s:%s:snapshot/snap-%s", c.region, testAccount, c.x.Name)
		c.write(c.ec2Create("ec2:CreateImage"), c.request(snapshot, requestTags(c.x), "ec2:CreateImage"), c.ref("sourceInstanceId", "ec2:CreateImage"),
			c.own("ec2:CreateTags", "ec2:DeleteTags"))
		if !c.x.RetainOnDelete {
			// The provider's delete; a retained image is pruned by cmd/rollout instead
			// (commandCalls).
			c.write(c.own("ec2:DeregisterImage"), c.at(snapshot, "ec2:DeleteSnapshot"))
		}
	},
	"aws:ec2transitgateway/instanceState:InstanceState": func(c *callSite) {
		c.read(c.any("ec2:DescribeInstances", "ec2:DescribeInstanceStatus"))
		c.write(c.ref("instanceId", "ec2:StopInstances", "ec2:StartInstances"))
	},
	"aws:ec2/launchTemplate:LaunchTemplate": func(c *callSite) {
		c.read(c.any("ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"))
		c.write(c.ec2Create("ec2:CreateLaunchTemplate"),
			c.own("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteLaunchTemplate"))
	},
	"aws:autoscaling/group:Group": func(c *callSite) {
		c.read(c.any("autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeLifecycleHooks", "autoscaling:DescribeInstanceRefreshes",
			"autoscaling:DescribeTrafficSources", "autoscaling:DescribeLoadBalancerTargetGroups"))
		// The group launches from the template: Auto Scaling checks that the caller may.
		template := c.r.find(inputValues(c.x.Inputs, "launchTemplate.id")[0])
		c.write(c.fresh("autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"), c.serviceLinkedRole("autoscaling.amazonaws.com"),
			c.ref("launchTemplate.id", "ec2:RunInstances"), c.passRoleOfTemplate(template),
			c.own("autoscaling:UpdateAutoScalingGroup", "autoscaling:PutLifecycleHook", "autoscaling:EnableMetricsCollection",
				"autoscaling:AttachTrafficSources", "autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh",
				"autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags", "autoscaling:DeleteAutoScalingGroup"))
	},
	"aws:autoscaling/policy:Policy": func(c *callSite) {
		c.read(c.any("autoscaling:DescribePolicies"))
		c.write(c.ref("autoscalingGroupName", "autoscaling:PutScalingPolicy", "autoscaling:DeletePolicy"))
	},
	// ----- load balancer
	"aws:lb/loadBalancer:LoadBalancer": func(c *callSite) {
		c.read(c.any("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeTags"))
		c.write(c.fresh("elasticloadbalancing:CreateLoadBalancer"), with(c.fresh("elasticloadbalancing:AddTags"), "elasticloadbalancing:CreateAction", "CreateLoadBalancer"),
			c.serviceLinkedRole("elasticloadbalancing.amazonaws.com"),
			c.own("elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
				"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags", "elasticloadbalancing:DeleteLoadBalancer"))
	},
	"aws:lb/targetGroup:TargetGroup": func(c *callSite) {
		c.read(c.any("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTags"))
		c.write(c.fresh("elasticloadbalancing:CreateTargetGroup"), with(c.fresh("elasticloadbalancing:AddTags"), "elasticloadbalancing:CreateAction", "CreateTargetGroup"),
			c.own("elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:AddTags",
				"elasticloadbalancing:RemoveTags", "elasticloadbalancing:DeleteTargetGroup"))
	},
	"aws:lb/listener:Listener": func(c *callSite) {
		c.read(c.any("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTags"))
		c.write(c.ref("loadBalancerArn", "elasticloadbalancing:CreateListener"),
			with(c.fresh("elasticloadbalancing:AddTags"), "elasticloadbalancing:CreateAction", "CreateListener"),
			c.own("elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags", "elasticloadbalancing:DeleteListener"))
	},
	"aws:lb/targetGroupAttachment:TargetGroupAttachment": func(c *callSite) {
		c.read(c.any("elasticloadbalancing:DescribeTargetHealth"))
		c.write(c.ref("targetGroupArn", "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"))
	},
	// ----- database
	// Retained on delete (release.go): the provider never deletes it.
	"aws:rds/snapshot:Snapshot": func(c *callSite) {
		c.read(c.any("rds:DescribeDBSnapshots"), c.own("rds:ListTagsForResource"))
		c.write(c.fresh("rds:CreateDBSnapshot", "rds:AddTagsToResource"), c.ref("dbInstanceIdentifier", "rds:CreateDBSnapshot"),
			c.own("rds:AddTagsToResource", "rds:RemoveTagsFromResource"))
	},
	"aws:rds/instance:Instance": func(c *callSite) {
		c.read(c.any("rds:DescribeDBInstances"), c.own("rds:ListTagsForResource"))
		c.write(c.fresh("rds:CreateDBInstance", "rds:AddTagsToResource"), c.serviceLinkedRole("rds.amazonaws.com"),
			c.ref("dbSubnetGroupName", "rds:CreateDBInstance"), c.ref("parameterGroupName", "rds:CreateDBInstance"),
			c.at(fmt.Sprintf("arn:aws:rds:%s:%s:og:default:mysql-8-4", c.region, testAccount), "rds:CreateDBInstance", "rds:ModifyDBInstance"),
			c.own("rds:ModifyDBInstance", "rds:RebootDBInstance", "rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DeleteDBInstance"))
		if src := c.x.Obj("restoreToPointInTime"); src != nil {
			// a restore of the project's serving instance, into a new one the request tags
			c.write(c.fresh("rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource"),
				c.ref("restoreToPointInTime.sourceDbInstanceIdentifier", "rds:RestoreDBInstanceToPointInTime"),
				c.ref("dbSubnetGroupName", "rds:RestoreDBInstanceToPointInTime"), c.ref("parameterGroupName", "rds:RestoreDBInstanceToPointInTime"),
				c.at(fmt.Sprintf("arn:aws:rds:%s:%s:og:default:mysql-8-4", c.region, testAccount), "rds:RestoreDBInstanceToPointInTime"))
		}
		if snap := c.x.Str("snapshotIdentifier"); snap != "" {
			// a snapshot of the project's (copyTagsToSnapshot: it carries the project's tag)
			c.write(c.fresh("rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource"),
				c.request(fmt.Sprintf("arn:aws:rds:%s:%s:snapshot:%s", c.region, testAccount, snap),
					map[string][]string{"aws:ResourceTag/" + pipeline.ProjectTag: {testProject}}, "rds:RestoreDBInstanceFromDBSnapshot"),
				c.ref("dbSubnetGroupName", "rds:RestoreDBInstanceFromDBSnapshot"), c.ref("parameterGroupName", "rds:RestoreDBInstanceFromDBSnapshot"),
				c.at(fmt.Sprintf("arn:aws:rds:%s:%s:og:default:mysql-8-4", c.region, testAccount), "rds:RestoreDBInstanceFromDBSnapshot"))
		}
		if c.x.Inputs["manageMasterUserPassword"].IsBool() && c.x.Inputs["manageMasterUserPassword"].BoolValue() {
			// RDS creates, rotates and deletes the master credential's secret with the caller's
			// rights (and the AWS-managed key's, through Secrets Manager).
			master := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab-XyZ123", c.region, testAccount)
			c.read(c.at(master, "secretsmanager:DescribeSecret"))
			c.write(c.at(master, "secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret", "secretsmanager:DeleteSecret"))
		}
		if !c.x.Inputs["skipFinalSnapshot"].BoolValue() {
			// the final snapshot, taken by the delete
			c.write(c.own("rds:CreateDBSnapshot"), c.at(fmt.Sprintf("arn:aws:rds:%s:%s:snapshot:%s", c.region, testAccount, c.x.Str("finalSnapshotIdentifier")), "rds:CreateDBSnapshot"))
		}
	},
	"aws:rds/subnetGroup:SubnetGroup": func(c *callSite) {
		c.read(c.any("rds:DescribeDBSubnetGroups"), c.own("rds:ListTagsForResource"))
		c.write(c.fresh("rds:CreateDBSubnetGroup", "rds:AddTagsToResource"),
			c.own("rds:ModifyDBSubnetGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DeleteDBSubnetGroup"))
	},
	"aws:rds/parameterGroup:ParameterGroup": func(c *callSite) {
		c.read(c.any("rds:DescribeDBParameterGroups", "rds:DescribeDBParameters"), c.own("rds:ListTagsForResource"))
		c.write(c.fresh("rds:CreateDBParameterGroup", "rds:AddTagsToResource"),
			c.own("rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DeleteDBParameterGroup"))
	},
	// ----- secrets and settings
	"aws:secretsmanager/secret:Secret": func(c *callSite) {
		c.read(c.own("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"))
		c.write(c.fresh("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
			c.own("secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:DeleteSecret"))
	},
	"aws:secretsmanager/secretVersion:SecretVersion": func(c *callSite) {
		c.read(c.ref("secretId", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"))
		c.secret(c.ref("secretId", "secretsmanager:GetSecretValue"))
		c.write(c.ref("secretId", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"))
	},
	"aws:ssm/parameter:Parameter": func(c *callSite) {
		c.read(c.own("ssm:GetParameter", "ssm:ListTagsForResource"), c.any("ssm:DescribeParameters"))
		c.write(c.own("ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:DeleteParameter"))
	},
	"aws:ssm/document:Document": func(c *callSite) {
		c.read(c.own("ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeDocumentPermission", "ssm:ListTagsForResource"))
		c.write(c.own("ssm:CreateDocument", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion", "ssm:ListDocumentVersions",
			"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:DeleteDocument"))
	},
	"aws:ssm/association:Association": func(c *callSite) {
		c.read(c.any("ssm:DescribeAssociation", "ssm:ListAssociations"))
		c.write(c.ref("name", "ssm:CreateAssociation", "ssm:UpdateAssociation"), c.own("ssm:AddTagsToResource", "ssm:UpdateAssociation", "ssm:DeleteAssociation"))
		for _, t := range unsecret(c.x.Inputs["targets"]).ArrayValue() {
			if propString(t.ObjectValue()["key"]) == "InstanceIds" {
				for _, id := range t.ObjectValue()["values"].ArrayValue() {
					inst := c.r.find(propString(id))
					c.write(c.request(c.r.arnOf(inst, c.region), resourceTags(inst), "ssm:CreateAssociation", "ssm:UpdateAssociation"))
				}
			}
		}
	},
	// ----- uploads
	"aws:efs/fileSystem:FileSystem": func(c *callSite) {
		c.read(c.any("elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeLifecycleConfiguration"))
		c.write(c.fresh("elasticfilesystem:CreateFileSystem"), with(c.fresh("elasticfilesystem:TagResource"), "elasticfilesystem:CreateAction", "CreateFileSystem"),
			c.serviceLinkedRole("elasticfilesystem.amazonaws.com"),
			c.own("elasticfilesystem:PutLifecycleConfiguration", "elasticfilesystem:UpdateFileSystem", "elasticfilesystem:TagResource",
				"elasticfilesystem:UntagResource", "elasticfilesystem:DeleteFileSystem"))
	},
	"aws:efs/mountTarget:MountTarget": func(c *callSite) {
		c.read(c.any("elasticfilesystem:DescribeMountTargets", "elasticfilesystem:DescribeMountTargetSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces"))
		// EFS creates the mount target's interface with the caller's rights.
		c.write(c.ref("fileSystemId", "elasticfilesystem:CreateMountTarget", "elasticfilesystem:ModifyMountTargetSecurityGroups", "elasticfilesystem:DeleteMountTarget"),
			c.ref("subnetId", "ec2:CreateNetworkInterface"), c.ref("securityGroups", "ec2:CreateNetworkInterface"),
			c.at(fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/*", c.region, testAccount), "ec2:CreateNetworkInterface"))
	},
	"aws:efs/accessPoint:AccessPoint": func(c *callSite) {
		c.read(c.any("elasticfilesystem:DescribeAccessPoints"))
		c.write(c.fresh("elasticfilesystem:CreateAccessPoint"), with(c.fresh("elasticfilesystem:TagResource"), "elasticfilesystem:CreateAction", "CreateAccessPoint"),
			c.ref("fileSystemId", "elasticfilesystem:CreateAccessPoint"),
			c.own("elasticfilesystem:TagResource", "elasticfilesystem:UntagResource", "elasticfilesystem:DeleteAccessPoint"))
	},
	"aws:efs/fileSystemPolicy:FileSystemPolicy": func(c *callSite) {
		c.read(c.ref("fileSystemId", "elasticfilesystem:DescribeFileSystemPolicy"))
		c.write(c.ref("fileSystemId", "elasticfilesystem:PutFileSystemPolicy", "elasticfilesystem:DeleteFileSystemPolicy"))
	},
	"aws:efs/backupPolicy:BackupPolicy": func(c *callSite) {
		c.read(c.ref("fileSystemId", "elasticfilesystem:DescribeBackupPolicy"))
		c.write(c.ref("fileSystemId", "elasticfilesystem:PutBackupPolicy"))
	},
	// ----- IAM
	"aws:iam/role:Role": func(c *callSite) {
		c.read(c.own("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"))
		c.write(withBoundary(c.own("iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"), c.x),
			c.own("iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"))
	},
	"aws:iam/instanceProfile:InstanceProfile": func(c *callSite) {
		c.read(c.own("iam:GetInstanceProfile"))
		c.write(c.own("iam:CreateInstanceProfile", "iam:TagInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
			"iam:UntagInstanceProfile", "iam:DeleteInstanceProfile"))
	},
	"aws:iam/rolePolicy:RolePolicy": func(c *callSite) {
		c.read(c.roleCalls("role", "iam:GetRolePolicy"))
		c.write(c.roleCalls("role", "iam:PutRolePolicy", "iam:DeleteRolePolicy"))
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": func(c *callSite) {
		c.read(c.roleCalls("role", "iam:ListAttachedRolePolicies"))
		c.write(with(c.roleCalls("role", "iam:AttachRolePolicy", "iam:DetachRolePolicy"), "iam:PolicyARN", c.x.Str("policyArn")))
	},
	// ----- monitoring
	"aws:kms/key:Key": func(c *callSite) {
		c.read(c.own("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"))
		c.write(c.request("*", requestTags(c.x), "kms:CreateKey"), c.fresh("kms:TagResource"),
			c.own("kms:EnableKeyRotation", "kms:PutKeyPolicy", "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion"))
	},
	"aws:sns/topic:Topic": func(c *callSite) {
		c.read(c.own("sns:GetTopicAttributes", "sns:ListTagsForResource"))
		c.write(c.own("sns:CreateTopic", "sns:TagResource", "sns:SetTopicAttributes", "sns:UntagResource", "sns:DeleteTopic"))
	},
	"aws:sns/topicPolicy:TopicPolicy": func(c *callSite) {
		c.read(c.ref("arn", "sns:GetTopicAttributes"))
		c.write(c.ref("arn", "sns:SetTopicAttributes"))
	},
	"aws:sns/topicSubscription:TopicSubscription": func(c *callSite) {
		c.read(c.own("sns:GetSubscriptionAttributes"))
		c.write(c.ref("topic", "sns:Subscribe"), c.own("sns:SetSubscriptionAttributes", "sns:Unsubscribe"))
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": func(c *callSite) {
		c.read(c.any("cloudwatch:DescribeAlarms"), c.own("cloudwatch:ListTagsForResource"))
		c.write(c.fresh("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"),
			c.own("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:DeleteAlarms"))
	},
	"aws:cloudwatch/dashboard:Dashboard": func(c *callSite) {
		c.read(c.own("cloudwatch:GetDashboard"))
		c.write(c.own("cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"))
	},
	"aws:cloudwatch/eventRule:EventRule": func(c *callSite) {
		c.read(c.own("events:DescribeRule", "events:ListTagsForResource"))
		c.write(c.own("events:PutRule", "events:TagResource", "events:UntagResource", "events:DeleteRule"))
	},
	"aws:cloudwatch/eventTarget:EventTarget": func(c *callSite) {
		c.read(c.ref("rule", "events:ListTargetsByRule"))
		c.write(c.ref("rule", "events:PutTargets", "events:RemoveTargets"))
	},
	"aws:cloudwatch/logGroup:LogGroup": func(c *callSite) {
		c.read(c.any("logs:DescribeLogGroups"), c.own("logs:ListTagsForResource"))
		c.write(c.own("logs:CreateLogGroup", "logs:TagResource", "logs:PutRetentionPolicy", "logs:UntagResource", "logs:DeleteLogGroup"))
	},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": func(c *callSite) {
		c.read(c.any("logs:DescribeMetricFilters"))
		c.write(c.ref("logGroupName", "logs:PutMetricFilter", "logs:DeleteMetricFilter"))
	},
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy": func(c *callSite) {
		c.read(c.any("logs:DescribeResourcePolicies"))
		c.write(c.any("logs:PutResourcePolicy", "logs:DeleteResourcePolicy"))
	},
	"aws:cloudwatch/logDeliverySource:LogDeliverySource": func(c *callSite) {
		c.read(c.own("logs:GetDeliverySource"), c.any("logs:DescribeDeliverySources"))
		c.write(c.own("logs:PutDeliverySource", "logs:TagResource", "logs:UntagResource", "logs:DeleteDeliverySource"))
		// CloudFront must allow a log delivery from its distribution (in us-east-1).
		c.write(c.ref("resourceArn", "cloudfront:AllowVendedLogDeliveryForResource"))
	},
	"aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": func(c *callSite) {
		c.read(c.own("logs:GetDeliveryDestination"), c.any("logs:DescribeDeliveryDestinations"))
		c.write(c.own("logs:PutDeliveryDestination", "logs:TagResource", "logs:UntagResource", "logs:DeleteDeliveryDestination"))
	},
	"aws:cloudwatch/logDelivery:LogDelivery": func(c *callSite) {
		c.read(c.own("logs:GetDelivery"), c.any("logs:DescribeDeliveries"))
		c.write(c.own("logs:CreateDelivery", "logs:UpdateDeliveryConfiguration", "logs:TagResource", "logs:UntagResource", "logs:DeleteDelivery"))
	},
	// ----- edge
	"aws:cloudfront/cachePolicy:CachePolicy": func(c *callSite) {
		c.read(c.own("cloudfront:GetCachePolicy"))
		c.write(c.own("cloudfront:CreateCachePolicy", "cloudfront:UpdateCachePolicy", "cloudfront:DeleteCachePolicy"))
	},
	"aws:cloudfront/originRequestPolicy:OriginRequestPolicy": func(c *callSite) {
		c.read(c.own("cloudfront:GetOriginRequestPolicy"))
		c.write(c.own("cloudfront:CreateOriginRequestPolicy", "cloudfront:UpdateOriginRequestPolicy", "cloudfront:DeleteOriginRequestPolicy"))
	},
	"aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": func(c *callSite) {
		c.read(c.own("cloudfront:GetResponseHeadersPolicy"))
		c.write(c.own("cloudfront:CreateResponseHeadersPolicy", "cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy"))
	},
	"aws:cloudfront/vpcOrigin:VpcOrigin": func(c *callSite) {
		c.read(c.own("cloudfront:GetVpcOrigin", "cloudfront:ListTagsForResource"))
		c.write(c.own("cloudfront:CreateVpcOrigin", "cloudfront:TagResource", "cloudfront:UpdateVpcOrigin", "cloudfront:UntagResource", "cloudfront:DeleteVpcOrigin"),
			c.serviceLinkedRole("vpcorigin.cloudfront.amazonaws.com"))
	},
	"aws:cloudfront/distribution:Distribution": func(c *callSite) {
		c.read(c.own("cloudfront:GetDistribution", "cloudfront:GetDistributionConfig", "cloudfront:ListTagsForResource"))
		c.write(c.own("cloudfront:CreateDistributionWithTags", "cloudfront:TagResource", "cloudfront:UpdateDistribution", "cloudfront:UntagResource",
			"cloudfront:DeleteDistribution"))
		if c.x.Str("webAclId") != "" {
			// CloudFront checks that the caller may use the web ACL (in us-east-1).
			c.region = pipeline.GlobalRegion
			c.read(c.ref("webAclId", "wafv2:GetWebACL"))
		}
	},
	"aws:wafv2/webAcl:WebAcl": func(c *callSite) {
		c.read(c.own("wafv2:GetWebACL", "wafv2:ListTagsForResource"))
		scope := "regional"
		if c.x.Str("scope") == "CLOUDFRONT" {
			scope = "global"
		}
		c.write(c.own("wafv2:CreateWebACL", "wafv2:TagResource", "wafv2:UpdateWebACL", "wafv2:UntagResource", "wafv2:DeleteWebACL"))
		for _, rule := range unsecret(c.x.Inputs["rules"]).ArrayValue() {
			if g := rule.ObjectValue()["statement"].ObjectValue()["managedRuleGroupStatement"]; g.IsObject() {
				c.write(c.at(fmt.Sprintf("arn:aws:wafv2:%s:%s:%s/managedruleset/%s/00000000", c.region, testAccount, scope, propString(g.ObjectValue()["name"])),
					"wafv2:CreateWebACL", "wafv2:UpdateWebACL"))
			}
		}
	},
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": func(c *callSite) {
		// WAF delivers to CloudWatch Logs through the vended-log API and the log group's
		// resource policy, which the caller must be allowed to read and write.
		c.read(c.ref("resourceArn", "wafv2:GetLoggingConfiguration"), c.any("logs:DescribeResourcePolicies", "logs:DescribeLogGroups"))
		c.write(c.ref("resourceArn", "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration"),
			c.any("logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:PutResourcePolicy"))
	},
	"aws:wafv2/webAclAssociation:WebAclAssociation": func(c *callSite) {
		c.read(c.ref("resourceArn", "wafv2:GetWebACLForResource"))
		c.write(c.ref("webAclArn", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"),
			c.ref("resourceArn", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "elasticloadbalancing:SetWebAcl"))
	},
}

// securityGroupRule: the rule is authorized on its group and, being tagged, on itself.
func securityGroupRule(c *callSite, way string) {
	c.read(c.any("ec2:DescribeSecurityGroupRules"))
	c.write(c.ref("securityGroupId", "ec2:AuthorizeSecurityGroup"+way, "ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroup"+way),
		c.ec2Create("ec2:AuthorizeSecurityGroup"+way), c.own("ec2:CreateTags", "ec2:DeleteTags"))
}

// image is the AMI a server launches from: AWS's (no account in its ARN) or the stack's own.
func (c *callSite) image(input string) []pipeline.Request {
	ami := c.x.Str(input)
	if own := c.r.find(ami); own != nil {
		return c.request(c.r.arnOf(own, c.region), resourceTags(own), "ec2:RunInstances")
	}
	return c.at(fmt.Sprintf("arn:aws:ec2:%s::image/%s", c.region, ami), "ec2:RunInstances")
}

// keyPair is the key pair a server launches with, if any.
func (c *callSite) keyPair() []pipeline.Request {
	if k := c.x.Str("keyName"); k != "" {
		return c.at(fmt.Sprintf("arn:aws:ec2:%s:%s:key-pair/%s", c.region, testAccount, k), "ec2:RunInstances")
	}
	return nil
}

// passRoleOfTemplate is the launch template's instance profile's role, passed to EC2.
func (c *callSite) passRoleOfTemplate(template *recorded) []pipeline.Request {
	if template == nil {
		c.t.Errorf("%s: no launch template", c.x.URN)
		return nil
	}
	inner := &callSite{t: c.t, r: c.r, x: template, region: c.region}
	return inner.passRoleOfProfile("iamInstanceProfile.name")
}

// invokeCalls are the calls each lookup makes.
var invokeCalls = map[string]func(c *callSite){
	"aws:index/getAvailabilityZones:getAvailabilityZones": func(c *callSite) { c.read(c.any("ec2:DescribeAvailabilityZones")) },
	"aws:index/getPartition:getPartition":                 func(*callSite) {}, // answered by the provider itself
	"aws:index/getCallerIdentity:getCallerIdentity":       func(c *callSite) { c.read(c.any("sts:GetCallerIdentity")) },
	"aws:ec2/getManagedPrefixList:getManagedPrefixList": func(c *callSite) {
		c.read(c.any("ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries"))
	},
	"aws:cloudfront/getCachePolicy:getCachePolicy": func(c *callSite) {
		c.read(c.any("cloudfront:ListCachePolicies", "cloudfront:GetCachePolicy"))
	},
	"aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": func(c *callSite) {
		c.read(c.any("cloudfront:ListOriginRequestPolicies", "cloudfront:GetOriginRequestPolicy"))
	},
	"aws:acm/getCertificate:getCertificate": func(c *callSite) {
		c.read(c.any("acm:ListCertificates"), c.at(testIssuedCertificate, "acm:DescribeCertificate", "acm:ListTagsForCertificate"))
	},
	"aws:ssm/getParameter:getParameter": func(c *callSite) {
		c.read(c.at(fmt.Sprintf("arn:aws:ssm:%s::parameter%s", c.region, propString(c.args["name"])), "ssm:GetParameter"))
	},
}

// apiCalls are every call the provider makes for the run: the providers' own identity
// check, each registration's and each invoke's.
func apiCalls(t *testing.T, r *stackRun) []apiCall {
	t.Helper()
	site := func(by, provider string) *callSite {
		return &callSite{t: t, r: r, region: r.providerRegion(t, provider), by: by}
	}
	var calls []apiCall
	def := site("the default aws provider", "")
	def.read(def.any("sts:GetCallerIdentity"))
	calls = append(calls, def.calls...)
	for _, x := range r.m.Resources {
		switch {
		case !x.Custom || strings.HasPrefix(x.Type, "random:") || x.Type == "pulumi:providers:random":
			continue // components, and what never calls AWS
		case x.Type == "pulumi:providers:aws":
			c := site(x.URN, "")
			c.region = x.Str("region")
			c.read(c.any("sts:GetCallerIdentity"))
			calls = append(calls, c.calls...)
			continue
		}
		f, ok := providerCalls[x.Type]
		if !ok {
			t.Errorf("%s: resource type %s has no entry in providerCalls: add the calls the provider makes for it, so that the pipeline's roles are checked against them", x.URN, x.Type)
			continue
		}
		c := site(x.URN, x.Provider)
		c.x = x
		f(c)
		calls = append(calls, c.calls...)
	}
	for _, inv := range r.m.Invokes {
		f, ok := invokeCalls[inv.Token]
		if !ok {
			t.Errorf("invoke %s has no entry in invokeCalls: add the calls it makes", inv.Token)
			continue
		}
		c := site("invoke "+inv.Token, inv.Provider)
		c.args = inv.Args
		f(c)
		calls = append(calls, c.calls...)
	}
	return calls
}

// providerRegion is the region of an explicit provider ("" is the stack's default provider).
func (r *stackRun) providerRegion(t *testing.T, ref string) string {
	t.Helper()
	if ref == "" {
		return r.cfg.Region
	}
	for _, x := range r.m.Resources {
		if strings.HasPrefix(ref, x.URN+"::") {
			return x.Str("region")
		}
	}
	t.Fatalf("no provider %s", ref)
	return ""
}

// find is the resource whose ID, ARN or name is v.
func (r *stackRun) find(v string) *recorded {
	if x := r.m.ByID[v]; x != nil {
		return x
	}
	for _, x := range r.m.Resources {
		for _, k := range []string{"arn", "name", "id"} {
			if x.Custom && out(x, k) == v && v != "" {
				return x
			}
		}
	}
	return nil
}

// inputValues are the strings at a dotted input path (every element of a list).
func inputValues(m resource.PropertyMap, path string) []string {
	head, rest, nested := strings.Cut(path, ".")
	v := unsecret(m[resource.PropertyKey(head)])
	var vals []resource.PropertyValue
	if v.IsArray() {
		vals = v.ArrayValue()
	} else {
		vals = []resource.PropertyValue{v}
	}
	var out []string
	for _, e := range vals {
		e = unsecret(e)
		switch {
		case nested && e.IsObject():
			out = append(out, inputValues(e.ObjectValue(), rest)...)
		case !nested && propString(e) != "":
			out = append(out, propString(e))
		}
	}
	return out
}

// tagsOf reads a tags input: a map, or Auto Scaling's list of {key, value}.
func tagsOf(x *recorded, input string) map[string]string {
	tags := map[string]string{}
	v := unsecret(x.Inputs[resource.PropertyKey(input)])
	switch {
	case v.IsObject():
		for k, t := range v.ObjectValue() {
			tags[string(k)] = propString(t)
		}
	case v.IsArray():
		for _, t := range v.ArrayValue() {
			tags[propString(t.ObjectValue()["key"])] = propString(t.ObjectValue()["value"])
		}
	}
	return tags
}

func tagContext(prefix string, tags map[string]string) map[string][]string {
	ctx := map[string][]string{}
	var keys []string
	for k, v := range tags {
		ctx[prefix+k] = []string{v}
		keys = append(keys, k)
	}
	if prefix == "aws:RequestTag/" && len(keys) > 0 {
		sort.Strings(keys)
		ctx["aws:TagKeys"] = keys
	}
	return ctx
}

func requestTags(x *recorded) map[string][]string {
	return tagContext("aws:RequestTag/", tagsOf(x, "tags"))
}
func resourceTags(x *recorded) map[string][]string {
	return tagContext("aws:ResourceTag/", tagsOf(x, "tags"))
}

// arnOf is a resource's ARN as AWS forms it, from what the mock made of it: the ID, the
// name, and Pulumi's autoname (logical name and a random suffix) where AWS would name it.
func (r *stackRun) arnOf(x *recorded, region string) string {
	id, name := out(x, "id"), out(x, "name")
	autoname := name
	if autoname == "" || autoname == x.Name {
		autoname = x.Name + "-4f3c2a1"
	}
	ec2 := func(kind string) string { return fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", region, testAccount, kind, id) }
	regional := func(service, res string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, testAccount, res)
	}
	global := func(service, res string) string { return fmt.Sprintf("arn:aws:%s::%s:%s", service, testAccount, res) }
	switch x.Type {
	case "aws:ec2/vpc:Vpc":
		return ec2("vpc")
	case "aws:ec2/subnet:Subnet":
		return ec2("subnet")
	case "aws:ec2/internetGateway:InternetGateway":
		return ec2("internet-gateway")
	case "aws:ec2/routeTable:RouteTable":
		return ec2("route-table")
	case "aws:ec2/securityGroup:SecurityGroup":
		return ec2("security-group")
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		return ec2("security-group-rule")
	case "aws:ec2/instance:Instance":
		return ec2("instance")
	case "aws:ec2/amiFromInstance:AmiFromInstance":
		return ec2("image")
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return ec2("launch-template")
	case "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener",
		"aws:autoscaling/group:Group", "aws:rds/instance:Instance", "aws:secretsmanager/secret:Secret", "aws:ssm/parameter:Parameter",
		"aws:cloudwatch/metricAlarm:MetricAlarm":
		return out(x, "arn")
	case "aws:rds/subnetGroup:SubnetGroup":
		return regional("rds", "subgrp:"+name)
	case "aws:rds/snapshot:Snapshot":
		return regional("rds", "snapshot:"+x.Str("dbSnapshotIdentifier"))
	case "aws:rds/parameterGroup:ParameterGroup":
		return regional("rds", "pg:"+name)
	case "aws:ssm/document:Document":
		return regional("ssm", "document/"+x.Str("name"))
	case "aws:ssm/association:Association":
		return regional("ssm", "association/"+id)
	case "aws:efs/fileSystem:FileSystem":
		return regional("elasticfilesystem", "file-system/fs-"+x.Name)
	case "aws:efs/accessPoint:AccessPoint":
		return regional("elasticfilesystem", "access-point/fsap-"+x.Name)
	case "aws:kms/key:Key":
		return regional("kms", "key/"+id)
	case "aws:sns/topic:Topic":
		return regional("sns", autoname)
	case "aws:sns/topicSubscription:TopicSubscription":
		return r.arnOf(r.mustFind(x, "topic"), region) + ":0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
	case "aws:cloudwatch/dashboard:Dashboard":
		return global("cloudwatch", "dashboard/"+x.Str("dashboardName"))
	case "aws:cloudwatch/eventRule:EventRule":
		return regional("events", "rule/"+x.Str("name"))
	case "aws:cloudwatch/logGroup:LogGroup":
		return regional("logs", "log-group:"+x.Str("name"))
	case "aws:cloudwatch/logDeliverySource:LogDeliverySource":
		return regional("logs", "delivery-source:"+name)
	case "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination":
		return regional("logs", "delivery-destination:"+name)
	case "aws:cloudwatch/logDelivery:LogDelivery":
		return regional("logs", "delivery:"+id)
	case "aws:iam/role:Role":
		return global("iam", "role/"+name)
	case "aws:iam/instanceProfile:InstanceProfile":
		return global("iam", "instance-profile/"+name)
	case "aws:cloudfront/distribution:Distribution":
		return global("cloudfront", "distribution/"+id)
	case "aws:cloudfront/vpcOrigin:VpcOrigin":
		return global("cloudfront", "vpcorigin/"+id)
	case "aws:cloudfront/cachePolicy:CachePolicy":
		return global("cloudfront", "cache-policy/"+id)
	case "aws:cloudfront/originRequestPolicy:OriginRequestPolicy":
		return global("cloudfront", "origin-request-policy/"+id)
	case "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy":
		return global("cloudfront", "response-headers-policy/"+id)
	case "aws:wafv2/webAcl:WebAcl":
		scope := "regional"
		if x.Str("scope") == "CLOUDFRONT" {
			scope = "global"
		}
		return fmt.Sprintf("arn:aws:wafv2:%s:%s:%s/webacl/%s/%s", region, testAccount, scope, autoname, id)
	}
	panic("arnOf: no ARN for " + x.Type + " (" + x.URN + "): add it")
}

// mustFind is the resource an input names.
func (r *stackRun) mustFind(x *recorded, input string) *recorded {
	if t := r.find(x.Str(input)); t != nil {
		return t
	}
	panic(x.URN + ": " + input + " names no resource")
}

// deniedCalls evaluates calls against a role's policies and returns the ones whose outcome
// is not the wanted one, as messages.
func deniedCalls(t *testing.T, role string, docs map[string]pipeline.Document, calls []apiCall, want func(apiCall) bool) []string {
	t.Helper()
	var all []pipeline.Document
	for _, d := range docs {
		all = append(all, d)
	}
	var bad []string
	seen := map[string]bool{}
	for _, c := range calls {
		d, err := pipeline.Evaluate(c.Request, all...)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if (d == pipeline.Allowed) != want(c) {
			msg := fmt.Sprintf("%s %s: %s (for %s)", role, d, c.Request, c.by)
			if !seen[msg] {
				seen[msg] = true
				bad = append(bad, msg)
			}
		}
	}
	sort.Strings(bad)
	return bad
}

func TestPipelineRolesCanRunTheProgramAndNoMore(t *testing.T) {
	deploy, preview := pipeline.DeployPolicies(testScope), pipeline.PreviewPolicies(testScope)
	types := map[string]bool{}
	for name, shape := range pipelineShapes {
		t.Run(name, func(t *testing.T) {
			r := runShape(t, shape)
			calls := apiCalls(t, r)
			for _, x := range r.m.Resources {
				types[x.Type] = true
			}
			for _, msg := range deniedCalls(t, "deploy", deploy, calls, func(apiCall) bool { return true }) {
				t.Error(msg)
			}
			// preview: every read, no write, never a secret's value
			for _, msg := range deniedCalls(t, "preview", preview, calls, func(c apiCall) bool { return c.phase == readPhase }) {
				t.Error(msg)
			}
		})
	}
	// Every type of the table is in some shape, or its entry is tested by nothing.
	for typ := range providerCalls {
		if !types[typ] && typ != "aws:iam/rolePolicyAttachment:RolePolicyAttachment" {
			t.Errorf("no shape registers %s: add one to pipelineShapes", typ)
		}
	}
}

// The program's calls must reach the evaluator with the regions AWS would see: CloudFront's
// web ACL and certificate lookup through the us-east-1 provider, IAM and CloudFront at their
// global endpoint, everything else in the stack's region.
func TestPipelineCallsGoWhereAWSAnswersThem(t *testing.T) {
	r := mustRun(t, map[string]string{"siteDomain": testIssuedDomain, "iamPermissionsBoundary": testBoundary})
	regions := map[string]map[string]bool{}
	for _, c := range apiCalls(t, r) {
		svc, _, _ := strings.Cut(c.Action, ":")
		if regions[svc] == nil {
			regions[svc] = map[string]bool{}
		}
		regions[svc][c.Context["aws:RequestedRegion"][0]] = true
	}
	for svc, want := range map[string][]string{"iam": {"us-east-1"}, "cloudfront": {"us-east-1"}, "wafv2": {"us-east-1"}, "acm": {"us-east-1"},
		"ec2": {testRegion}, "rds": {testRegion}, "sts": {testRegion, "us-east-1"}} {
		var got []string
		for reg := range regions[svc] {
			got = append(got, reg)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s calls go to %v, want %v", svc, got, want)
		}
	}
}

// Without a boundary on its roles (a stack a person runs) the deploy role may not create
// them: the boundary condition is what stops the pipeline from making an unbounded role.
func TestDeployRoleCannotCreateRolesWithoutTheBoundary(t *testing.T) {
	for _, boundary := range []string{"", "arn:aws:iam::" + testAccount + ":policy/AdministratorAccess-copy"} {
		r := mustRun(t, map[string]string{"iamPermissionsBoundary": boundary})
		var roleCalls []apiCall
		for _, c := range apiCalls(t, r) {
			if slices.Contains([]string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}, c.Action) {
				roleCalls = append(roleCalls, c)
			}
		}
		if len(roleCalls) == 0 {
			t.Fatal("no role calls")
		}
		if allowed := deniedCalls(t, "deploy", pipeline.DeployPolicies(testScope), roleCalls, func(apiCall) bool { return false }); len(allowed) > 0 {
			t.Errorf("boundary %s: the deploy role may still %s", boundary, strings.Join(allowed, "\n"))
		}
	}
}

// Every role the program creates carries the configured boundary; none without the key.
func TestEveryProgramRoleCarriesTheBoundary(t *testing.T) {
	for name, shape := range pipelineShapes {
		r := runShape(t, shape)
		roles := r.ofType("aws:iam/role:Role")
		if len(roles) == 0 {
			t.Fatalf("%s: no roles", name)
		}
		for _, role := range roles {
			if got := role.Str("permissionsBoundary"); got != testBoundary {
				t.Errorf("%s: %s has boundary %q, want %s", name, role.URN, got, testBoundary)
			}
		}
	}
	for _, role := range mustRun(t, nil).ofType("aws:iam/role:Role") {
		if got := role.Str("permissionsBoundary"); got != "" {
			t.Errorf("%s: boundary %q without iamPermissionsBoundary", role.URN, got)
		}
	}
}

func TestIAMPermissionsBoundaryMustBeAPolicyARN(t *testing.T) {
	for _, bad := range []string{"server-boundary", "arn:aws:iam::123456789012:role/web", "arn:aws:iam::12345:policy/x", "arn:aws:iam::123456789012:policy/"} {
		r := runProgram(t, map[string]string{"iamPermissionsBoundary": bad})
		if r.err == nil || !strings.Contains(r.err.Error(), "config iamPermissionsBoundary") {
			t.Errorf("%q: err = %v, want one naming iamPermissionsBoundary", bad, r.err)
		}
		if len(r.m.Resources) != 0 {
			t.Errorf("%q: %d resources registered before the config error", bad, len(r.m.Resources))
		}
	}
	mustRun(t, map[string]string{"iamPermissionsBoundary": "arn:aws:iam::123456789012:policy/pipeline/server-boundary-4f3c2a1"})
}

// The boundary lets the servers do what the program's own policies give them, and nothing an
// attacker on a server would want beyond it.
func TestServerBoundaryAllowsTheServersAndNoMore(t *testing.T) {
	boundary := pipeline.ServerBoundary(testScope)
	r := mustRun(t, map[string]string{"iamPermissionsBoundary": testBoundary, "importFrom": testImportFrom})
	checked := 0
	for _, p := range r.ofType("aws:iam/rolePolicy:RolePolicy") {
		doc, err := pipeline.ParseDocument(p.Str("policy"))
		if err != nil {
			t.Fatalf("%s: %v", p.URN, err)
		}
		tags := resourceTags(r.mustFind(p, "role"))
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				for _, res := range s.Resource {
					ctx := map[string][]string{"aws:RequestedRegion": {testRegion}}
					for k, v := range s.Condition["StringEquals"] { // what the statement allows carries them
						ctx[k] = v
					}
					if res == "*" || strings.Contains(res, ":autoscaling:") {
						for k, v := range tags { // what the servers act on is the stack's
							ctx[k] = v
						}
					}
					req := pipeline.Request{Action: a, Resource: res, Context: ctx}
					if d, _ := pipeline.Evaluate(req, boundary); d != pipeline.Allowed {
						t.Errorf("%s: the boundary %s what the servers need: %s", p.URN, d, req)
					}
					checked++
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d grants", checked)
	}
	region := map[string][]string{"aws:RequestedRegion": {testRegion}}
	for _, req := range []pipeline.Request{
		{Action: "iam:CreateRole", Resource: "*"}, {Action: "iam:PassRole", Resource: "arn:aws:iam::" + testAccount + ":role/deploy-abc123"},
		{Action: "sts:AssumeRole", Resource: "*"}, {Action: "ec2:RunInstances", Resource: "*"}, {Action: "ssm:SendCommand", Resource: "*"},
		{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:" + testRegion + ":" + testAccount + ":secret:prod-payments-x1y2z3"},
		{Action: "ssm:GetParametersByPath", Resource: "arn:aws:ssm:" + testRegion + ":" + testAccount + ":parameter/other-project/prod"},
		{Action: "s3:GetObject", Resource: testScope.StateBucketARN + "/.pulumi/stacks/scalable-wordpress/prod.json"},
		{Action: "s3:PutObject", Resource: "arn:aws:s3:::old-site/scalable-wordpress-import/site.sql.gz"},
		{Action: "s3:GetObject", Resource: "arn:aws:s3:::old-site/backups/site.sql.gz"},
		{Action: "kms:Decrypt", Resource: testScope.StateKeyARN},
		{Action: "elasticfilesystem:ClientRootAccess", Resource: "arn:aws:elasticfilesystem:" + testRegion + ":" + testAccount + ":file-system/fs-1"},
		{Action: "autoscaling:CompleteLifecycleAction", Resource: "arn:aws:autoscaling:" + testRegion + ":" + testAccount + ":autoScalingGroup:x:autoScalingGroupName/other"},
		{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:" + testRegion + ":" + testAccount + ":log-group:/aws/lambda/payments:*"},
		{Action: "cloudwatch:PutMetricData", Resource: "*", Context: map[string][]string{"cloudwatch:namespace": {"AWS/EC2"}}},
	} {
		ctx := map[string][]string{}
		for k, v := range region {
			ctx[k] = v
		}
		for k, v := range req.Context {
			ctx[k] = v
		}
		req.Context = ctx
		if d, _ := pipeline.Evaluate(req, boundary); d == pipeline.Allowed {
			t.Errorf("the servers' boundary allows %s", req)
		}
	}
}

// commandCalls are the calls of the operator commands the deploy and destroy jobs run with
// the deploy role: cmd/rollout's watcher (the group, its refreshes, the target health) and its
// image pruner (the stack's images, the launch template's versions, the instances, and the
// deregistration of an image of the stack and the delete of its snapshot). Keyed by IAM
// action, which is the SDK method's name in the service's namespace.
var commandCalls = map[string]func(c *callSite){
	"autoscaling:DescribeInstanceRefreshes":     func(c *callSite) { c.read(c.any("autoscaling:DescribeInstanceRefreshes")) },
	"autoscaling:DescribeAutoScalingGroups":     func(c *callSite) { c.read(c.any("autoscaling:DescribeAutoScalingGroups")) },
	"elasticloadbalancing:DescribeTargetHealth": func(c *callSite) { c.read(c.any("elasticloadbalancing:DescribeTargetHealth")) },
	"ec2:DescribeImages":                        func(c *callSite) { c.read(c.any("ec2:DescribeImages")) },
	"ec2:DescribeLaunchTemplateVersions":        func(c *callSite) { c.read(c.any("ec2:DescribeLaunchTemplateVersions")) },
	"ec2:DescribeInstances":                     func(c *callSite) { c.read(c.any("ec2:DescribeInstances")) },
	// The image as the program tags it (project, stack, Name).
	"ec2:DeregisterImage": func(c *callSite) { c.write(c.own("ec2:DeregisterImage")) },
	// cmd/backup: the uploads' final backup, into EFS's automatic-backup vault, as the
	// program's backup role (passed to AWS Backup), and following the job.
	"backup:StartBackupJob": func(c *callSite) {
		role := c.r.m.Named("aws:iam/role:Role", "uploads-backup-role")
		c.write(c.at(fmt.Sprintf("arn:aws:backup:%s:%s:backup-vault:%s", c.region, testAccount, backup.DefaultVault), "backup:StartBackupJob"),
			with(c.request(out(role, "arn"), nil, "iam:PassRole"), "iam:PassedToService", "backup.amazonaws.com"))
	},
	"backup:DescribeBackupJob": func(c *callSite) { c.read(c.any("backup:DescribeBackupJob")) },
	// cmd/backup restore: reads a recovery point of the uploads in the vault, restores it into
	// a new file system as the program's backup role (passed to AWS Backup), follows the job.
	"backup:GetRecoveryPointRestoreMetadata": func(c *callSite) {
		c.read(c.at(fmt.Sprintf("arn:aws:backup:%s:%s:recovery-point:0a1b2c3d-4e5f", c.region, testAccount), "backup:GetRecoveryPointRestoreMetadata"))
	},
	"backup:StartRestoreJob": func(c *callSite) {
		role := c.r.m.Named("aws:iam/role:Role", "uploads-backup-role")
		c.write(c.at(fmt.Sprintf("arn:aws:backup:%s:%s:recovery-point:0a1b2c3d-4e5f", c.region, testAccount), "backup:StartRestoreJob"),
			with(c.request(out(role, "arn"), nil, "iam:PassRole"), "iam:PassedToService", "backup.amazonaws.com"))
	},
	"backup:DescribeRestoreJob": func(c *callSite) { c.read(c.any("backup:DescribeRestoreJob")) },
	// Its snapshot: untagged (the provider tags only the image).
	"ec2:DeleteSnapshot": func(c *callSite) {
		c.write(c.at(fmt.Sprintf("arn:aws:ec2:%s:%s:snapshot/snap-0a1b2c3d4e5f67890", c.region, testAccount), "ec2:DeleteSnapshot"))
	},
}

// commandInterfaces are the AWS interfaces the commands call through, by IAM service prefix.
var commandInterfaces = map[string][]reflect.Type{
	"autoscaling":          {reflect.TypeFor[rollout.AutoScaling]()},
	"elasticloadbalancing": {reflect.TypeFor[rollout.ELB]()},
	"ec2":                  {reflect.TypeFor[images.EC2]()},
	"backup":               {reflect.TypeFor[backup.Backup]()},
}

// The deploy job's second step (cmd/rollout: the watcher, then the image pruner) and the
// destroy job's last (the images command) run with the deploy role: it may make every call
// of their interfaces; the preview role may make their reads only. A method added to an
// interface without an entry in commandCalls fails here.
func TestDeployRoleCanRunTheCommands(t *testing.T) {
	covered := map[string]bool{}
	for prefix, types := range commandInterfaces {
		for _, typ := range types {
			for i := range typ.NumMethod() {
				action := prefix + ":" + typ.Method(i).Name
				covered[action] = true
				if commandCalls[action] == nil {
					t.Errorf("%s.%s has no entry in commandCalls: add the call %s, so that the pipeline's roles are checked against it", typ, typ.Method(i).Name, action)
				}
			}
		}
	}
	for action := range commandCalls {
		if !covered[action] {
			t.Errorf("commandCalls has %s, which no command interface calls", action)
		}
	}
	r := mustRun(t, map[string]string{"iamPermissionsBoundary": testBoundary})
	c := &callSite{t: t, r: r, x: r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance"), region: testRegion, by: "cmd/rollout"}
	for _, f := range commandCalls {
		f(c)
	}
	c.read(c.at(testScope.StateBucketARN+"/.pulumi/stacks/scalable-wordpress/dev.json", "s3:GetObject"), c.at(testScope.StateKeyARN, "kms:Decrypt"))
	for _, msg := range deniedCalls(t, "deploy", pipeline.DeployPolicies(testScope), c.calls, func(apiCall) bool { return true }) {
		t.Error(msg)
	}
	for _, msg := range deniedCalls(t, "preview", pipeline.PreviewPolicies(testScope), c.calls, func(c apiCall) bool { return c.phase == readPhase }) {
		t.Error(msg)
	}

	// The pruner may deregister only the project's images: not an untagged one, not another
	// project's.
	foreign := &callSite{t: t, r: r, region: testRegion, by: "a foreign image"}
	image := fmt.Sprintf("arn:aws:ec2:%s:%s:image/ami-0fedcba9876543210", testRegion, testAccount)
	foreign.write(foreign.at(image, "ec2:DeregisterImage"),
		foreign.request(image, tagContext("aws:ResourceTag/", map[string]string{pipeline.ProjectTag: "payments"}), "ec2:DeregisterImage"))
	for _, msg := range deniedCalls(t, "deploy", pipeline.DeployPolicies(testScope), foreign.calls, func(apiCall) bool { return false }) {
		t.Error(msg)
	}
}
