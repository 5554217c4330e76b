package main

// GitHub Actions' way into the account: the OIDC identity provider and two roles, each only for
// jobs in a GitHub environment of this repository: the preview role for the preview
// environment (a pull request's preview runs the pull request's code and can decrypt the
// stack's secrets, so that environment requires an approval), the deploy role for the deploy
// environment (main's deploy and the manual destroy). What each may do is
// internal/pipeline's; the servers' permissions boundary is created here. No long-lived keys
// exist anywhere.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/scalable-wordpress/internal/pipeline"
)

const githubOIDCHost = "token.actions.githubusercontent.com"

// Account is where the roles live.
type Account struct {
	ID, Partition, DNSSuffix string
}

// Pipeline is the provider, the two roles and the boundary of the roles the program makes.
type Pipeline struct {
	ProviderARN pulumi.StringOutput
	PreviewRole *iam.Role
	DeployRole  *iam.Role
	Boundary    *iam.Policy
}

// scope is what the policies name, once the state's bucket and key and the boundary exist.
func scope(cfg Config, acct Account, bucketARN, keyARN, boundaryARN string) pipeline.Scope {
	return pipeline.Scope{Region: cfg.Region, Partition: acct.Partition, AccountID: acct.ID, DNSSuffix: acct.DNSSuffix,
		Project: cfg.StackProject, StateBucketARN: bucketARN, StateKeyARN: keyARN, BoundaryARN: boundaryARN}
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
	// The boundary names nothing the bootstrap creates: it exists before the roles' policies,
	// which name it.
	boundaryDoc, err := pipeline.ServerBoundary(scope(cfg, acct, "", "", "")).JSON()
	if err != nil {
		return nil, err
	}
	if p.Boundary, err = iam.NewPolicy(ctx, "server-boundary", &iam.PolicyArgs{
		Description: pulumi.String("Permissions boundary of the roles " + cfg.StackProject + " creates: the most a web server may do"),
		Policy:      pulumi.String(boundaryDoc),
		Tags:        cfg.tags("server-boundary"),
	}); err != nil {
		return nil, fmt.Errorf("create the servers' permissions boundary: %w", err)
	}

	roles := []struct {
		name, description string
		subjects          []string
		policies          func(pipeline.Scope) map[string]pipeline.Document
		target            **iam.Role
	}{
		{"preview", "pulumi preview from the " + cfg.PreviewEnvironment + " environment of " + cfg.Repository,
			[]string{"repo:" + cfg.Repository + ":environment:" + cfg.PreviewEnvironment}, pipeline.PreviewPolicies, &p.PreviewRole},
		{"deploy", "pulumi up/destroy from the " + cfg.Environment + " environment of " + cfg.Repository,
			[]string{"repo:" + cfg.Repository + ":environment:" + cfg.Environment}, pipeline.DeployPolicies, &p.DeployRole},
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
		// One managed policy per area: a role's inline policies together may not pass 10,240
		// characters, a managed policy 6,144 (the tests check each).
		for _, area := range slices.Sorted(maps.Keys(r.policies(pipeline.Scope{}))) {
			doc := pulumi.All(state.Bucket.Arn, state.Key.Arn, p.Boundary.Arn).ApplyT(func(args []any) (string, error) {
				return r.policies(scope(cfg, acct, args[0].(string), args[1].(string), args[2].(string)))[area].JSON()
			}).(pulumi.StringOutput)
			name := r.name + "-" + area
			policy, err := iam.NewPolicy(ctx, name, &iam.PolicyArgs{
				Description: pulumi.String(r.description + ": " + area),
				Policy:      doc,
				Tags:        cfg.tags(name),
			})
			if err != nil {
				return nil, fmt.Errorf("create %s policy: %w", name, err)
			}
			if _, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{Role: role.Name, PolicyArn: policy.Arn}); err != nil {
				return nil, fmt.Errorf("attach %s policy: %w", name, err)
			}
		}
		*r.target = role
	}
	return p, nil
}

// trustPolicy lets GitHub's OIDC tokens for exactly these subjects assume the role.
func trustPolicy(providerARN string, subjects []string) (string, error) {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{
		"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
		"Principal": map[string]any{"Federated": providerARN},
		"Condition": map[string]any{
			"StringEquals": map[string]any{
				githubOIDCHost + ":aud": "sts.amazonaws.com",
				githubOIDCHost + ":sub": subjects,
			},
		},
	}}})
	return string(b), err
}
