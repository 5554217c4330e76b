package main

// GitHub Actions' way into the account: the OIDC identity provider and two roles. The
// preview role is for pull requests of this repository; the deploy role only for jobs in
// the deploy environment (which main's deploy and the manual destroy use), so a pull
// request can never change the stack. No long-lived keys exist anywhere.

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const githubOIDCHost = "token.actions.githubusercontent.com"

// Account is where the roles live.
type Account struct {
	ID, Partition, DNSSuffix string
}

// Pipeline is the provider and the two roles.
type Pipeline struct {
	ProviderARN pulumi.StringOutput
	PreviewRole *iam.Role
	DeployRole  *iam.Role
}

func newPipeline(ctx *pulumi.Context, cfg Config, acct Account, state *State) (*Pipeline, error) {
	p := &Pipeline{}
	if cfg.CreateOIDCProvider {
		provider, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
			Url:           pulumi.String("https://" + githubOIDCHost),
			ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
			// AWS no longer checks these for GitHub, but older provider versions require a value.
			ThumbprintLists: pulumi.StringArray{
				pulumi.String("6938fd4d98bab03faadb97b34396831e3780aea1"),
				pulumi.String("1c58a3a8518e8759bf075b76b750d4f2df264fcd"),
			},
			Tags: cfg.tags("github-oidc"),
		})
		if err != nil {
			return nil, fmt.Errorf("create GitHub OIDC provider: %w", err)
		}
		p.ProviderARN = provider.Arn
	} else {
		p.ProviderARN = pulumi.String(fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", acct.Partition, acct.ID, githubOIDCHost)).ToStringOutput()
	}

	roles := []struct {
		name, description string
		subjects          []string
		policy            func(Config, Account, string, string) (string, error)
		target            **iam.Role
	}{
		{"preview", "pulumi preview from pull requests of " + cfg.Repository,
			[]string{"repo:" + cfg.Repository + ":pull_request"}, previewPolicy, &p.PreviewRole},
		{"deploy", "pulumi up/destroy from the " + cfg.Environment + " environment of " + cfg.Repository,
			[]string{"repo:" + cfg.Repository + ":environment:" + cfg.Environment}, deployPolicy, &p.DeployRole},
	}
	for _, r := range roles {
		trust := p.ProviderARN.ApplyT(func(arn string) (string, error) { return trustPolicy(arn, r.subjects) }).(pulumi.StringOutput)
		role, err := iam.NewRole(ctx, r.name, &iam.RoleArgs{
			Description:      pulumi.String(r.description),
			AssumeRolePolicy: trust,
			// A first deploy takes 20 minutes (RDS), and the rollout watcher can follow a
			// refresh for 40 more: the deploy job asks for two hours.
			MaxSessionDuration: pulumi.Int(7200),
			Tags:               cfg.tags(r.name + "-role"),
		})
		if err != nil {
			return nil, fmt.Errorf("create %s role: %w", r.name, err)
		}
		policy := pulumi.All(state.Bucket.Arn, state.Key.Arn).ApplyT(func(args []any) (string, error) {
			return r.policy(cfg, acct, args[0].(string), args[1].(string))
		}).(pulumi.StringOutput)
		if _, err := iam.NewRolePolicy(ctx, r.name+"-permissions", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}); err != nil {
			return nil, fmt.Errorf("create %s role policy: %w", r.name, err)
		}
		*r.target = role
	}
	return p, nil
}

// trustPolicy lets GitHub's OIDC tokens for exactly these subjects assume the role.
func trustPolicy(providerARN string, subjects []string) (string, error) {
	return policyJSON(statement{
		"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
		"Principal": map[string]any{"Federated": providerARN},
		"Condition": map[string]any{
			"StringEquals": map[string]any{
				githubOIDCHost + ":aud": "sts.amazonaws.com",
				githubOIDCHost + ":sub": subjects,
			},
		},
	})
}

type statement = map[string]any

func policyJSON(statements ...statement) (string, error) {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}

// stateAccess is what every Pulumi operation needs of the backend: the state objects (and
// their lock files) and the key that encrypts them and the stack secrets.
func stateAccess(bucketARN, keyARN string) []statement {
	return []statement{
		{"Sid": "StateBucket", "Effect": "Allow", "Action": []string{"s3:ListBucket", "s3:GetBucketLocation"}, "Resource": bucketARN},
		{"Sid": "StateObjects", "Effect": "Allow", "Action": []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, "Resource": bucketARN + "/*"},
		{"Sid": "StateKey", "Effect": "Allow", "Action": []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, "Resource": keyARN},
	}
}

// previewPolicy reads what the stack manages, and nothing it could change or leak: no
// secret values, no object data outside the state bucket.
func previewPolicy(cfg Config, acct Account, bucketARN, keyARN string) (string, error) {
	return policyJSON(append(stateAccess(bucketARN, keyARN),
		statement{"Sid": "ReadStack", "Effect": "Allow", "Resource": "*", "Action": []string{
			"ec2:Describe*", "elasticloadbalancing:Describe*", "rds:Describe*", "rds:ListTagsForResource",
			"autoscaling:Describe*", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
			"ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeDocumentPermission", "ssm:DescribeAssociation",
			"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
			"iam:GetInstanceProfile", "iam:ListInstanceProfilesForRole",
			"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds",
			"ssm:DescribeParameters", "ssm:ListTagsForResource", "sts:GetCallerIdentity",
		}},
		statement{"Sid": "ReadParameters", "Effect": "Allow", "Action": []string{"ssm:GetParameter", "ssm:GetParameters"}, "Resource": []string{
			fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s/*", acct.Partition, cfg.Region, acct.ID, cfg.StackProject),
			fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/ami-amazon-linux-latest/*", acct.Partition, cfg.Region),
		}},
	)...)
}

// deployPolicy manages what the stack manages: the network, servers, images, Auto Scaling
// group, load balancer, alarms and database in the stack's region; its own secrets,
// parameters, SSM documents and associations, roles and instance profiles by name; and
// nothing in IAM beyond them. It also lets the rollout watcher follow the group.
func deployPolicy(cfg Config, acct Account, bucketARN, keyARN string) (string, error) {
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", acct.Partition, service, cfg.Region, acct.ID, resource)
	}
	iamARN := func(resource string) string {
		return fmt.Sprintf("arn:%s:iam::%s:%s", acct.Partition, acct.ID, resource)
	}
	webRole, webProfile := iamARN("role/web-role-*"), iamARN("instance-profile/web-profile-*")
	builderRole, builderProfile := iamARN("role/web-builder-role-*"), iamARN("instance-profile/web-builder-profile-*")
	return policyJSON(append(stateAccess(bucketARN, keyARN),
		statement{"Sid": "ComputeNetworkDatabase", "Effect": "Allow", "Resource": "*",
			"Action":    []string{"ec2:*", "elasticloadbalancing:*", "rds:*", "autoscaling:*", "cloudwatch:*"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": cfg.Region}}},
		statement{"Sid": "OwnSecrets", "Effect": "Allow", "Action": "secretsmanager:*", "Resource": []string{
			arn("secretsmanager", "secret:db-credentials-*"), arn("secretsmanager", "secret:db-app-credentials-*"),
			arn("secretsmanager", "secret:web-wordpress-*")}},
		// RDS creates, rotates and deletes the master credential's secret (rds!db-...) with the
		// caller's rights when it manages the master password; reading it is not among them.
		statement{"Sid": "RDSManagedMasterSecret", "Effect": "Allow", "Resource": arn("secretsmanager", "secret:rds!db-*"), "Action": []string{
			"secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret",
			"secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret"}},
		statement{"Sid": "OwnParameters", "Effect": "Allow", "Action": []string{
			"ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters",
			"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"},
			"Resource": arn("ssm", "parameter/"+cfg.StackProject+"/*")},
		statement{"Sid": "OwnDocuments", "Effect": "Allow", "Resource": arn("ssm", "document/"+cfg.StackProject+"-*"), "Action": []string{
			"ssm:CreateDocument", "ssm:UpdateDocument", "ssm:DeleteDocument", "ssm:DescribeDocument", "ssm:GetDocument",
			"ssm:UpdateDocumentDefaultVersion", "ssm:DescribeDocumentPermission", "ssm:ListDocumentVersions",
			"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"}},
		// Associations name their targets by tag or instance, which IAM cannot scope.
		statement{"Sid": "Associations", "Effect": "Allow", "Resource": "*", "Action": []string{
			"ssm:CreateAssociation", "ssm:UpdateAssociation", "ssm:DeleteAssociation", "ssm:DescribeAssociation",
			"ssm:ListAssociations", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": cfg.Region}}},
		statement{"Sid": "PublicAMIParameter", "Effect": "Allow", "Action": "ssm:GetParameter",
			"Resource": fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/ami-amazon-linux-latest/*", acct.Partition, cfg.Region)},
		statement{"Sid": "DescribeAnywhere", "Effect": "Allow", "Resource": "*",
			"Action": []string{"ssm:DescribeParameters", "secretsmanager:ListSecrets", "sts:GetCallerIdentity"}},
		statement{"Sid": "WebServerRole", "Effect": "Allow", "Resource": []string{webRole, webProfile, builderRole, builderProfile}, "Action": []string{
			"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
			"iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies",
			"iam:ListAttachedRolePolicies", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
			"iam:ListInstanceProfilesForRole", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
			"iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
			"iam:TagInstanceProfile", "iam:UntagInstanceProfile"}},
		statement{"Sid": "WebServerManagedPolicy", "Effect": "Allow", "Resource": []string{webRole, builderRole},
			"Action":    []string{"iam:AttachRolePolicy", "iam:DetachRolePolicy"},
			"Condition": map[string]any{"ArnEquals": map[string]any{"iam:PolicyARN": fmt.Sprintf("arn:%s:iam::aws:policy/AmazonSSMManagedInstanceCore", acct.Partition)}}},
		statement{"Sid": "PassWebServerRole", "Effect": "Allow", "Resource": []string{webRole, builderRole}, "Action": "iam:PassRole",
			"Condition": map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2." + acct.DNSSuffix}}},
		statement{"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Resource": "*", "Action": "iam:CreateServiceLinkedRole",
			"Condition": map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": []string{
				"elasticloadbalancing." + acct.DNSSuffix, "rds." + acct.DNSSuffix, "autoscaling." + acct.DNSSuffix}}}},
	)...)
}
