package pipeline

// The pipeline's two roles and the servers' permissions boundary.
//
// preview reads: the stack's state (never writes it), the key only to decrypt, and what the
// program looks up or reads. deploy manages what the program creates and nothing else it can
// tell apart: by the project's tag where the service authorizes on tags, by name where the
// program fixes the name or its prefix, by resource type where neither is possible. Every
// role the program creates carries the boundary, and the deploy role can create or change a
// role only with it: so no role it makes can do more than a web server needs.
//
// Regions: regional services are fenced to the stack's region (aws:RequestedRegion). IAM and
// CloudFront are global services whose endpoint is us-east-1, and CloudFront's web ACLs and
// certificates live there: those statements are fenced to us-east-1 instead.

import (
	"fmt"
	"slices"
	"strings"
)

// GlobalRegion is where IAM's and CloudFront's endpoints are, and where CloudFront's web ACLs
// and certificates live.
const GlobalRegion = "us-east-1"

// ProjectTag is the tag key the program puts on every resource, with the project's name as
// value (config.go Tags): what the deploy role's tag conditions test.
const ProjectTag = "project"

// Scope is what the policies name.
type Scope struct {
	Region    string // the stack's region (aws:region of the bootstrap)
	Partition string
	AccountID string
	DNSSuffix string // amazonaws.com
	Project   string // the Pulumi project the pipeline deploys: tag value, parameter path, name prefix

	StateBucketARN string
	StateKeyARN    string
	BoundaryARN    string // the servers' permissions boundary (ServerBoundary)
}

// The program's IAM roles and instance profiles, by the names Pulumi gives them: the logical
// name and a random suffix. The program's component "web" makes them (compute.go, image.go),
// and the component "uploads" the role AWS Backup assumes for the uploads' final backup
// (storage.go).
var (
	backupRoleName     = "uploads-backup-role-*"
	serverRoleNames    = []string{"web-role-*", "web-builder-role-*", backupRoleName}
	serverProfileNames = []string{"web-profile-*", "web-builder-profile-*"}
	// secrets by the Pulumi names of the database's and the web tier's (database.go, compute.go)
	secretNames = []string{"db-credentials-*", "db-app-credentials-*", "web-wordpress-*"}
	// rdsMasterSecretName is how RDS names the master credential's secret it manages.
	rdsMasterSecretName = "rds!db-*"
	// the alert topic (alerts.go) and the web ACL (waf.go)
	topicNames  = []string{"alerts-topic-*"}
	webACLNames = []string{"waf-acl-*"}
)

// UploadsBackupVault is the vault of EFS's automatic backups, where cmd/backup puts the
// uploads' final backup (internal/backup.DefaultVault).
const UploadsBackupVault = "aws/efs/automatic-backup-vault"

func (s Scope) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.Partition, service, region, s.AccountID, resource)
}

func (s Scope) regional(service string, resources ...string) []string {
	var out []string
	for _, r := range resources {
		out = append(out, s.arn(service, s.Region, r))
	}
	return out
}

func (s Scope) iam(resources ...string) []string {
	var out []string
	for _, r := range resources {
		out = append(out, s.arn("iam", "", r))
	}
	return out
}

func prefixed(prefix string, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, prefix+n)
	}
	return out
}

// here fences a statement to the stack's region; global to IAM's and CloudFront's; both to
// services used in either (WAF and ACM: regional for the load balancer, us-east-1 for
// CloudFront).
func (s Scope) here() Conditions { return cond("StringEquals", "aws:RequestedRegion", s.Region) }
func (s Scope) global() Conditions {
	return cond("StringEquals", "aws:RequestedRegion", GlobalRegion)
}
func (s Scope) hereAndGlobal() Conditions {
	regions := []string{s.Region}
	if s.Region != GlobalRegion {
		regions = append(regions, GlobalRegion)
	}
	return cond("StringEquals", "aws:RequestedRegion", regions...)
}

// owned: the resource carries the project's tag. tagging: the request sets it.
func (s Scope) owned() Conditions {
	return cond("StringEquals", "aws:ResourceTag/"+ProjectTag, s.Project)
}
func (s Scope) tagging() Conditions {
	return cond("StringEquals", "aws:RequestTag/"+ProjectTag, s.Project)
}

// publicAMIParameters are AWS's public parameters of the current Amazon Linux images.
func (s Scope) publicAMIParameters() string {
	return fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/ami-amazon-linux-latest/*", s.Partition, s.Region)
}

// readStatements are what both roles may read: metadata of what the program manages and
// what it looks up. No secret value, no object data, no log events, no sampled requests.
func (s Scope) readStatements() []Statement {
	return []Statement{
		allow("ReadRegional", []string{
			"ec2:Describe*", "ec2:GetManagedPrefixListEntries", "ec2:GetLaunchTemplateData",
			"elasticloadbalancing:Describe*", "autoscaling:Describe*",
			"rds:Describe*", "rds:ListTagsForResource",
			"elasticfilesystem:Describe*", "elasticfilesystem:ListTagsForResource",
			"backup:DescribeBackupJob",                                            // cmd/backup follows the uploads' final backup
			"backup:DescribeRestoreJob", "backup:GetRecoveryPointRestoreMetadata", // and their restore
			"cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource",
			"events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource",
			"sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic",
			"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
			"ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeDocumentPermission", "ssm:DescribeAssociation",
			"ssm:ListAssociations", "ssm:DescribeParameters", "ssm:ListTagsForResource",
			"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds", "secretsmanager:ListSecrets",
		}, []string{"*"}, s.here()),
		allow("ReadParameters", []string{"ssm:GetParameter", "ssm:GetParameters"},
			append(s.regional("ssm", "parameter/"+s.Project+"/*"), s.publicAMIParameters()), s.here()),
		allow("ReadGlobal", []string{
			"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
			"iam:GetInstanceProfile", "iam:ListInstanceProfilesForRole", "iam:GetPolicy", "iam:GetPolicyVersion",
			"cloudfront:GetDistribution", "cloudfront:GetDistributionConfig", "cloudfront:GetCachePolicy", "cloudfront:GetOriginRequestPolicy", "cloudfront:GetResponseHeadersPolicy",
			"cloudfront:GetVpcOrigin", "cloudfront:ListCachePolicies", "cloudfront:ListOriginRequestPolicies", "cloudfront:ListTagsForResource",
		}, []string{"*"}, s.global()),
		// Log groups and log deliveries: the servers' in the stack's region, CloudFront's
		// access logs and CloudFront's web ACL's in us-east-1.
		allow("ReadLogs", []string{
			"logs:DescribeLogGroups", "logs:DescribeMetricFilters", "logs:DescribeResourcePolicies", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
			"logs:GetDeliverySource", "logs:GetDeliveryDestination", "logs:GetDelivery",
			"logs:DescribeDeliverySources", "logs:DescribeDeliveryDestinations", "logs:DescribeDeliveries",
		}, []string{"*"}, s.hereAndGlobal()),
		allow("ReadFirewallAndCertificates", []string{
			"wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:ListTagsForResource", "wafv2:GetLoggingConfiguration",
			"acm:ListCertificates", "acm:DescribeCertificate", "acm:ListTagsForCertificate",
		}, []string{"*"}, s.hereAndGlobal()),
		// GetCallerIdentity needs no permission; every AWS provider asks it first.
		allow("Identity", []string{"sts:GetCallerIdentity"}, []string{"*"}, nil),
	}
}

// PreviewPolicies are the preview role's policies: read the state and decrypt it (a preview
// decrypts the stack's data key, and with it the state's secrets, to load the snapshot and
// diff inputs), read what the program reads; write nothing. Preview takes no lock on an S3
// backend (the Pulumi CLI's diy backend locks only for up, refresh, destroy and import).
func PreviewPolicies(s Scope) map[string]Document {
	return map[string]Document{
		"preview": document(append([]Statement{
			allow("StateBucket", []string{"s3:ListBucket", "s3:GetBucketLocation"}, []string{s.StateBucketARN}, nil),
			allow("StateRead", []string{"s3:GetObject"}, []string{s.StateBucketARN + "/.pulumi/*"}, nil),
			allow("StateKeyDecrypt", []string{"kms:Decrypt", "kms:DescribeKey"}, []string{s.StateKeyARN}, nil),
		}, s.readStatements()...)...),
	}
}

// DeployPolicies are the deploy role's policies, one managed policy each (an inline policy
// would pass IAM's 10,240-character limit for a role's inline policies together).
func DeployPolicies(s Scope) map[string]Document {
	return map[string]Document{
		"state":      document(append(s.deployState(), s.readStatements()...)...),
		"network":    document(s.deployNetwork()...),
		"compute":    document(s.deployCompute()...),
		"data":       document(s.deployData()...),
		"edge":       document(s.deployEdge()...),
		"monitoring": document(s.deployMonitoring()...),
		"iam":        document(s.deployIAM()...),
	}
}

// deployState: the state objects under .pulumi/, the key to decrypt the stack's data key and
// the state, and to make S3's data keys for the objects it writes (through S3 only). Nothing
// here may change the bucket, the key or the boundary the bootstrap made.
func (s Scope) deployState() []Statement {
	return []Statement{
		allow("StateBucket", []string{"s3:ListBucket", "s3:GetBucketLocation"}, []string{s.StateBucketARN}, nil),
		allow("StateObjects", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, []string{s.StateBucketARN + "/.pulumi/*"}, nil),
		allow("StateKeyDecrypt", []string{"kms:Decrypt", "kms:DescribeKey"}, []string{s.StateKeyARN}, nil),
		allow("StateKeyThroughS3", []string{"kms:GenerateDataKey"}, []string{s.StateKeyARN},
			cond("StringEquals", "kms:ViaService", "s3."+s.Region+"."+s.DNSSuffix)),
		{Sid: "KeepStateKey", Effect: "Deny", NotAction: []string{"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"}, Resource: []string{s.StateKeyARN}},
		deny("KeepStateBucket", []string{"s3:PutBucket*", "s3:DeleteBucket*", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"}, []string{s.StateBucketARN}),
	}
}

// ec2Creates is what each EC2 create action makes. A create is allowed with the project's tag
// only on the kinds it makes, never on an existing resource it names (the VPC of a new
// subnet must carry the tag itself: EC2UseOwn), so a request's tag cannot stand for a
// foreign VPC.
var ec2Creates = []struct {
	action string
	makes  []string
}{
	{"ec2:CreateVpc", []string{"vpc"}},
	{"ec2:CreateSubnet", []string{"subnet"}},
	{"ec2:CreateInternetGateway", []string{"internet-gateway"}},
	{"ec2:CreateRouteTable", []string{"route-table"}},
	{"ec2:CreateSecurityGroup", []string{"security-group"}},
	{"ec2:CreateLaunchTemplate", []string{"launch-template"}},
	{"ec2:RunInstances", []string{"instance", "volume"}},
	{"ec2:CreateImage", []string{"image", "snapshot"}},
	{"ec2:AuthorizeSecurityGroupIngress", []string{"security-group-rule"}},
	{"ec2:AuthorizeSecurityGroupEgress", []string{"security-group-rule"}},
}

func (s Scope) deployNetwork() []Statement {
	var createActions []string
	var st []Statement
	// Creates share a statement only when none of them names an existing resource of a kind
	// another one makes (CreateSubnet names a VPC: not with CreateVpc).
	groups := [][]string{
		{"ec2:CreateVpc", "ec2:CreateInternetGateway", "ec2:CreateLaunchTemplate"},
		{"ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup"},
		{"ec2:RunInstances"},
		{"ec2:CreateImage"},
		{"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"},
	}
	for i, g := range groups {
		var resources []string
		for _, c := range ec2Creates {
			if slices.Contains(g, c.action) {
				for _, m := range c.makes {
					if r := s.regional("ec2", m+"/*"); !slices.Contains(resources, r[0]) {
						resources = append(resources, r...)
					}
				}
			}
		}
		for _, a := range g {
			createActions = append(createActions, strings.TrimPrefix(a, "ec2:"))
		}
		st = append(st, allow(fmt.Sprintf("EC2CreateTagged%d", i+1), g, resources, and(s.here(), s.tagging())))
	}
	return append(st,
		// Tags only as part of one of those creates, or on the project's own resources: a
		// foreign resource can never be tagged into the project.
		allow("EC2TagOnCreate", []string{"ec2:CreateTags"}, []string{"*"},
			and(s.here(), s.tagging(), cond("StringEquals", "ec2:CreateAction", createActions...))),
		allow("EC2UseOwn", []string{
			"ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:ModifyVpcAttribute", "ec2:DeleteVpc",
			"ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
			"ec2:ModifySubnetAttribute", "ec2:DeleteSubnet",
			"ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
			"ec2:ReplaceRouteTableAssociation", "ec2:DeleteRouteTable",
			"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
			"ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
			"ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:DeleteSecurityGroup",
			"ec2:RunInstances", "ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances", "ec2:ModifyInstanceAttribute",
			"ec2:ModifyInstanceMetadataOptions", "ec2:CreateImage", "ec2:DeregisterImage", "ec2:DeleteSnapshot",
			"ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate", "ec2:DeleteLaunchTemplateVersions",
			"ec2:CreateNetworkInterface", "ec2:CreateTags", "ec2:DeleteTags",
		}, []string{"*"}, and(s.here(), s.owned())),
		// What a launch names but nobody tags: AWS's base image (its ARN has no account), the
		// instance's network interface, a key pair; the uploads' mount targets' interfaces.
		allow("EC2Unowned", []string{"ec2:RunInstances", "ec2:CreateNetworkInterface"},
			append(s.regional("ec2", "image/*", "network-interface/*", "key-pair/*"), fmt.Sprintf("arn:%s:ec2:%s::image/*", s.Partition, s.Region)), s.here()),
		// The golden image's EBS snapshots carry no tag: the provider tags only the image
		// (CreateImage with an image tag specification alone), so EC2 cannot tell them from any
		// other snapshot of the region. The program retains the image; cmd/rollout's pruner
		// (internal/images) deregisters an image of the project (EC2UseOwn, by its tag) and only
		// then deletes the snapshots its block device mappings name.
		allow("EC2ImageSnapshots", []string{"ec2:DeleteSnapshot"}, s.regional("ec2", "snapshot/*"), s.here()),
	)
}

// deployCompute: the load balancer, the Auto Scaling group, the SSM documents and
// associations.
func (s Scope) deployCompute() []Statement {
	elb := s.regional("elasticloadbalancing", "loadbalancer/app/*", "targetgroup/*")
	return []Statement{
		allow("ELBCreateTagged", []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"}, elb,
			and(s.here(), s.tagging())),
		allow("ELBTagOnCreate", []string{"elasticloadbalancing:AddTags"}, []string{"*"},
			and(s.here(), s.tagging(), cond("StringEquals", "elasticloadbalancing:CreateAction",
				"CreateLoadBalancer", "CreateTargetGroup", "CreateListener"))),
		allow("ELBUseOwn", []string{
			"elasticloadbalancing:CreateListener", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener",
			"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
			"elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetWebAcl", "elasticloadbalancing:DeleteLoadBalancer",
			"elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
			"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
			"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
		}, []string{"*"}, and(s.here(), s.owned())),
		// Auto Scaling has no create-action key: tagging on create is a plain CreateOrUpdateTags.
		allow("ASGCreateTagged", []string{"autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"}, []string{"*"},
			and(s.here(), s.tagging())),
		allow("ASGUseOwn", []string{
			"autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup", "autoscaling:PutLifecycleHook",
			"autoscaling:DeleteLifecycleHook", "autoscaling:PutScalingPolicy", "autoscaling:DeletePolicy",
			"autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:EnableMetricsCollection",
			"autoscaling:DisableMetricsCollection", "autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups",
			"autoscaling:AttachTrafficSources", "autoscaling:DetachTrafficSources", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
		}, []string{"*"}, and(s.here(), s.owned())),
		allow("OwnDocuments", []string{
			"ssm:CreateDocument", "ssm:UpdateDocument", "ssm:DeleteDocument", "ssm:UpdateDocumentDefaultVersion", "ssm:ListDocumentVersions",
			"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:CreateAssociation", "ssm:UpdateAssociation",
		}, s.regional("ssm", "document/"+s.Project+"-*"), s.here()),
		// An association runs one of those documents on the project's instances (by ID) or on
		// the servers carrying the site tag; IAM cannot see instances a tag target names.
		allow("AssociateOwnInstances", []string{"ssm:CreateAssociation", "ssm:UpdateAssociation"}, s.regional("ec2", "instance/*"),
			and(s.here(), s.owned())),
		allow("Associations", []string{"ssm:UpdateAssociation", "ssm:DeleteAssociation", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"},
			s.regional("ssm", "association/*"), s.here()),
		allow("ServiceLinkedRoles", []string{"iam:CreateServiceLinkedRole"}, s.iam("role/aws-service-role/*"),
			and(s.global(), cond("StringEquals", "iam:AWSServiceName",
				"elasticloadbalancing."+s.DNSSuffix, "autoscaling."+s.DNSSuffix, "rds."+s.DNSSuffix,
				"elasticfilesystem."+s.DNSSuffix, "vpcorigin.cloudfront."+s.DNSSuffix))),
	}
}

// deployData: the database (by tag), the uploads file system (by tag), the secrets and
// parameters (by name).
func (s Scope) deployData() []Statement {
	return []Statement{
		// A restore (config dbRestore) creates an instance as CreateDBInstance does: tagged by
		// the request, from the project's own instance (a point in time) or snapshot, into its
		// own subnet and parameter groups (RDSUseOwn).
		allow("RDSCreateInstance", []string{"rds:CreateDBInstance", "rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBInstanceFromDBSnapshot"},
			s.regional("rds", "db:*"), and(s.here(), s.tagging())),
		allow("RDSCreateGroups", []string{"rds:CreateDBSubnetGroup", "rds:CreateDBParameterGroup"}, s.regional("rds", "subgrp:*", "pg:*"),
			and(s.here(), s.tagging())),
		// RDS checks tags on create as AddTagsToResource, with no create-action key.
		allow("RDSTagOnCreate", []string{"rds:AddTagsToResource"}, []string{"*"}, and(s.here(), s.tagging())),
		allow("RDSUseOwn", []string{
			"rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBInstance", "rds:RebootDBInstance", "rds:CreateDBSnapshot",
			"rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBInstanceFromDBSnapshot", "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", "rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup",
			"rds:DeleteDBParameterGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource",
		}, []string{"*"}, and(s.here(), s.owned())),
		// The engine's default option group (untagged, AWS's), and the final snapshot a delete
		// takes (the instance it is taken of must be the project's).
		allow("RDSDefaultOptionGroup", []string{"rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:RestoreDBInstanceToPointInTime",
			"rds:RestoreDBInstanceFromDBSnapshot"}, s.regional("rds", "og:default:*"), s.here()),
		allow("RDSFinalSnapshot", []string{"rds:CreateDBSnapshot"}, s.regional("rds", "snapshot:*"), s.here()),
		// The uploads' final backup before a destroy (cmd/backup): an on-demand job into the
		// vault of EFS's automatic backups, and nowhere else.
		allow("FinalUploadsBackup", []string{"backup:StartBackupJob"}, s.regional("backup", "backup-vault:"+UploadsBackupVault), s.here()),
		// The uploads' restore (cmd/backup restore): a recovery point into a new file system,
		// which AWS Backup creates as the program's backup role (PassUploadsBackupRole).
		allow("UploadsRestore", []string{"backup:StartRestoreJob"}, s.regional("backup", "recovery-point:*"), s.here()),
		allow("EFSCreateTagged", []string{"elasticfilesystem:CreateFileSystem", "elasticfilesystem:CreateAccessPoint"},
			s.regional("elasticfilesystem", "file-system/*", "access-point/*"), and(s.here(), s.tagging())),
		allow("EFSTagOnCreate", []string{"elasticfilesystem:TagResource"}, []string{"*"},
			and(s.here(), s.tagging(), cond("StringEquals", "elasticfilesystem:CreateAction", "CreateFileSystem", "CreateAccessPoint"))),
		allow("EFSUseOwn", []string{
			"elasticfilesystem:CreateMountTarget", "elasticfilesystem:DeleteMountTarget", "elasticfilesystem:ModifyMountTargetSecurityGroups",
			"elasticfilesystem:CreateAccessPoint", "elasticfilesystem:DeleteAccessPoint", "elasticfilesystem:UpdateFileSystem",
			"elasticfilesystem:PutLifecycleConfiguration", "elasticfilesystem:PutFileSystemPolicy", "elasticfilesystem:DeleteFileSystemPolicy",
			"elasticfilesystem:PutBackupPolicy", "elasticfilesystem:DeleteFileSystem", "elasticfilesystem:TagResource", "elasticfilesystem:UntagResource",
		}, []string{"*"}, and(s.here(), s.owned())),
		// No resource policy: it could share a secret with another account.
		allow("OwnSecrets", []string{
			"secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
			"secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret", "secretsmanager:RestoreSecret", "secretsmanager:TagResource",
			"secretsmanager:UntagResource", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds",
			"secretsmanager:UpdateSecretVersionStage",
		}, s.regional("secretsmanager", prefixed("secret:", secretNames)...), s.here()),
		// RDS creates, rotates and deletes the master credential's secret (rds!db-...) with the
		// caller's rights when it manages the master password; reading it is not among them.
		allow("RDSManagedMasterSecret", []string{
			"secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret",
			"secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret",
		}, s.regional("secretsmanager", "secret:"+rdsMasterSecretName), s.here()),
		allow("OwnParameters", []string{
			"ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters",
			"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource",
		}, s.regional("ssm", "parameter/"+s.Project+"/*"), s.here()),
	}
}

// deployEdge: CloudFront (by resource type: its policies and VPC origins carry no tags the
// program could set, and CloudFront does not authorize on them) and the web ACL (by name), in
// us-east-1 and, for the load balancer's web ACL, in the stack's region.
func (s Scope) deployEdge() []Statement {
	cf := func(kinds ...string) []string {
		var out []string
		for _, k := range kinds {
			out = append(out, fmt.Sprintf("arn:%s:cloudfront::%s:%s/*", s.Partition, s.AccountID, k))
		}
		return out
	}
	// A regional web ACL in the stack's region, CloudFront's ("global") in us-east-1; each
	// names AWS's managed rule groups.
	var acls []string
	for _, where := range []struct{ region, scope string }{{s.Region, "regional"}, {GlobalRegion, "global"}} {
		for _, n := range webACLNames {
			acls = append(acls, s.arn("wafv2", where.region, where.scope+"/webacl/"+n+"/*"))
		}
		acls = append(acls, s.arn("wafv2", where.region, where.scope+"/managedruleset/*/*"))
	}
	return []Statement{
		allow("CloudFront", []string{
			"cloudfront:CreateDistribution", "cloudfront:CreateDistributionWithTags", "cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution",
			"cloudfront:CreateCachePolicy", "cloudfront:UpdateCachePolicy", "cloudfront:DeleteCachePolicy",
			"cloudfront:CreateOriginRequestPolicy", "cloudfront:UpdateOriginRequestPolicy", "cloudfront:DeleteOriginRequestPolicy",
			"cloudfront:CreateResponseHeadersPolicy", "cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy",
			"cloudfront:CreateVpcOrigin", "cloudfront:UpdateVpcOrigin", "cloudfront:DeleteVpcOrigin",
			"cloudfront:TagResource", "cloudfront:UntagResource",
		}, cf("distribution", "cache-policy", "origin-request-policy", "response-headers-policy", "vpcorigin"), s.global()),
		allow("WebACL", []string{
			"wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:TagResource", "wafv2:UntagResource",
			"wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration",
		}, acls, s.hereAndGlobal()),
		// The distribution's access logs are a vended log delivery that CloudFront must allow.
		allow("CloudFrontLogDelivery", []string{"cloudfront:AllowVendedLogDeliveryForResource"}, cf("distribution"), s.global()),
		// A regional web ACL is associated with the project's load balancer.
		allow("WebACLOnOwnLoadBalancer", []string{"wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"},
			s.regional("elasticloadbalancing", "loadbalancer/app/*"), and(s.here(), s.owned())),
	}
}

// deployMonitoring: the alert topic (by name) and its key (by tag), alarms (by tag), the
// dashboard, event rule and log groups (by the project's name prefix).
func (s Scope) deployMonitoring() []Statement {
	return []Statement{
		allow("Topic", []string{
			"sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
			"sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes",
		}, s.regional("sns", topicNames...), s.here()),
		// KMS has no create-action key: tagging on create is a plain TagResource.
		allow("KeyCreateTagged", []string{"kms:CreateKey", "kms:TagResource"}, []string{"*"}, and(s.here(), s.tagging())),
		allow("KeyUseOwn", []string{
			"kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:UpdateKeyDescription",
			"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:TagResource", "kms:UntagResource",
		}, s.regional("kms", "key/*"), and(s.here(), s.owned())),
		allow("AlarmsCreateTagged", []string{"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"}, s.regional("cloudwatch", "alarm:*"),
			and(s.here(), s.tagging())),
		allow("AlarmsUseOwn", []string{"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"},
			s.regional("cloudwatch", "alarm:*"), and(s.here(), s.owned())),
		allow("Dashboard", []string{"cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"},
			[]string{fmt.Sprintf("arn:%s:cloudwatch::%s:dashboard/%s-*", s.Partition, s.AccountID, s.Project)}, s.here()),
		allow("EventRule", []string{
			"events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource",
		}, s.regional("events", "rule/"+s.Project+"-*"), s.here()),
		allow("LogGroups", []string{
			"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
			"logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup",
		}, s.logGroups(), s.hereAndGlobal()),
		// CloudWatch Logs resource policies are account-wide, without resource-level permissions.
		allow("LogResourcePolicy", []string{"logs:PutResourcePolicy", "logs:DeleteResourcePolicy"}, []string{"*"}, s.hereAndGlobal()),
		// CloudFront's access logs (delivery source, destination, delivery; auto-named, so by
		// kind) and the web ACL's (the older vended-log API, which has no resource-level
		// permissions).
		allow("LogDeliveries", []string{
			"logs:PutDeliverySource", "logs:DeleteDeliverySource", "logs:PutDeliveryDestination", "logs:DeleteDeliveryDestination",
			"logs:CreateDelivery", "logs:DeleteDelivery", "logs:UpdateDeliveryConfiguration", "logs:TagResource", "logs:UntagResource",
		}, []string{
			s.arn("logs", GlobalRegion, "delivery-source:*"), s.arn("logs", GlobalRegion, "delivery-destination:*"), s.arn("logs", GlobalRegion, "delivery:*"),
		}, s.global()),
		allow("VendedLogDelivery", []string{"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries"},
			[]string{"*"}, s.hereAndGlobal()),
	}
}

// logGroups are the project's log groups: the servers' and the access logs' under
// /<project>/, the web ACL's under the name WAF requires (aws-waf-logs-); in the stack's
// region and in us-east-1 (CloudFront's access logs, CloudFront's web ACL).
func (s Scope) logGroups() []string {
	regions := []string{s.Region}
	if s.Region != GlobalRegion {
		regions = append(regions, GlobalRegion)
	}
	var out []string
	for _, region := range regions {
		out = append(out, s.arn("logs", region, "log-group:/"+s.Project+"/*"), s.arn("logs", region, "log-group:aws-waf-logs-"+s.Project+"-*"))
	}
	return out
}

// deployIAM: the program's roles and instance profiles by name, only with the boundary; the
// boundary itself is out of reach.
func (s Scope) deployIAM() []Statement {
	roles := s.iam(prefixed("role/", serverRoleNames)...)
	profiles := s.iam(prefixed("instance-profile/", serverProfileNames)...)
	withBoundary := cond("StringEquals", "iam:PermissionsBoundary", s.BoundaryARN)
	return []Statement{
		// Creating a role, and every write of its rights, only while it carries the boundary.
		allow("ServerRolesWithBoundary", []string{
			"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
		}, roles, and(s.global(), withBoundary)),
		allow("ServerRolesManagedPolicy", []string{"iam:AttachRolePolicy"}, roles,
			and(s.global(), withBoundary, cond("ArnEquals", "iam:PolicyARN", fmt.Sprintf("arn:%s:iam::aws:policy/AmazonSSMManagedInstanceCore", s.Partition)))),
		allow("ServerRoles", []string{
			"iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
		}, roles, s.global()),
		allow("ServerProfiles", []string{
			"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
			"iam:TagInstanceProfile", "iam:UntagInstanceProfile",
		}, profiles, s.global()),
		allow("PassServerRoles", []string{"iam:PassRole"}, roles,
			and(s.global(), cond("StringEquals", "iam:PassedToService", "ec2."+s.DNSSuffix))),
		// cmd/backup starts the uploads' final backup, and their restore, as the program's
		// backup role: passed to AWS Backup only, and only that role.
		allow("PassUploadsBackupRole", []string{"iam:PassRole"}, s.iam("role/"+backupRoleName),
			and(s.global(), cond("StringEquals", "iam:PassedToService", "backup.amazonaws.com"))),
		deny("KeepBoundary", []string{"iam:DeleteRolePermissionsBoundary"}, []string{"*"}),
		deny("KeepBoundaryPolicy", []string{
			"iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
			"iam:TagPolicy", "iam:UntagPolicy",
		}, []string{s.BoundaryARN}),
	}
}

// SSMAgentActions are what the SSM agent calls on the program's servers: registering and reporting
// (UpdateInstanceInformation); Session Manager and Run Command over the message gateway
// (ssmmessages) or, where the agent falls back to it, the message delivery service
// (ec2messages); and State Manager associations (the settings refresh, the prepare wait),
// both the current calls and the legacy ones older agents make. They are
// AmazonSSMManagedInstanceCore's actions without ssm:GetParameter and ssm:GetParameters on
// every parameter of the account (the agent reads a parameter only to resolve an {{ssm:...}}
// reference in a document, and the program's documents have none), Patch Manager's
// GetDeployablePatchSnapshotForInstance (images are replaced, never patched in place),
// Inventory's PutInventory, PutComplianceItems (patch and custom compliance), and
// Distributor's GetManifest and PutConfigurePackageResult (the CloudWatch agent comes from
// dnf).
var SSMAgentActions = []string{
	"ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
	"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
	"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
	"ssm:ListInstanceAssociations", "ssm:UpdateInstanceAssociationStatus",
	"ssm:ListAssociations", "ssm:DescribeAssociation", "ssm:UpdateAssociationStatus",
	"ssm:GetDocument", "ssm:DescribeDocument",
}

// ServerBoundary is the permissions boundary of every role the program creates (the web
// servers' and the image builder's): the most any of them may do, whatever policy the deploy
// role puts on them. What the servers need: the SSM agent and Session Manager, their secrets,
// their settings, the uploads file system, their logs, the agent's metrics, their launch hook.
func ServerBoundary(s Scope) Document {
	return document(
		allow("SSMAgent", SSMAgentActions, []string{"*"}, s.here()),
		// Their own secrets, and the master credential's that RDS manages, which the program's
		// policy lets them read only until the owner seals it (dbServersReadMaster).
		allow("OwnSecrets", []string{"secretsmanager:GetSecretValue"},
			s.regional("secretsmanager", append(prefixed("secret:", secretNames), "secret:"+rdsMasterSecretName)...), s.here()),
		allow("OwnSettings", []string{"ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"},
			s.regional("ssm", "parameter/"+s.Project+"/*"), s.here()),
		// Secrets Manager decrypts with the account's key on the server's behalf.
		allow("DecryptThroughSecretsManager", []string{"kms:Decrypt"}, s.regional("kms", "key/*"),
			and(s.here(), cond("StringEquals", "kms:ViaService", "secretsmanager."+s.Region+"."+s.DNSSuffix))),
		// The file system's policy names the servers' role and the access point.
		allow("UploadsClient", []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"},
			s.regional("elasticfilesystem", "file-system/*"), s.here()),
		// AWS Backup, as the uploads' backup role, backs the file system up (the final backup
		// before a destroy, cmd/backup); it reads its tags to copy them onto the recovery point.
		allow("UploadsBackup", []string{"elasticfilesystem:Backup", "elasticfilesystem:DescribeTags"},
			s.regional("elasticfilesystem", "file-system/*"), s.here()),
		// And restores a recovery point of them into a new file system (cmd/backup restore),
		// encrypted with EFS's key.
		allow("UploadsRestore", []string{
			"elasticfilesystem:Restore", "elasticfilesystem:CreateFilesystem", "elasticfilesystem:DescribeFilesystems",
			"elasticfilesystem:DeleteFilesystem", "elasticfilesystem:TagResource",
		}, s.regional("elasticfilesystem", "file-system/*"), s.here()),
		allow("UploadsRestoreKey", []string{"kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"}, s.regional("kms", "key/*"),
			and(s.here(), cond("StringEquals", "kms:ViaService", "elasticfilesystem."+s.Region+"."+s.DNSSuffix))),
		allow("UploadsLookup", []string{"elasticfilesystem:DescribeMountTargets", "ec2:DescribeAvailabilityZones"}, []string{"*"}, s.here()),
		allow("ShipLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			s.regional("logs", "log-group:/"+s.Project+"/*"), s.here()),
		allow("AgentMetrics", []string{"cloudwatch:PutMetricData"}, []string{"*"},
			and(s.here(), cond("StringEquals", "cloudwatch:namespace", "CWAgent", "ScalableWordPress"))),
		allow("LaunchHook", []string{"autoscaling:CompleteLifecycleAction"}, []string{"*"}, and(s.here(), s.owned())),
		allow("FindOwnGroup", []string{"autoscaling:DescribeAutoScalingInstances"}, []string{"*"}, s.here()),
		// A site moved in (importFrom): the program's policy names the dump and the uploads
		// archive, in any bucket but under the key prefix <project>-import/ (the state
		// bucket holds .pulumi/ only).
		allow("ReadImportSources", []string{"s3:GetObject"}, []string{fmt.Sprintf("arn:%s:s3:::*/%s-import/*", s.Partition, s.Project)}, nil),
	)
}
