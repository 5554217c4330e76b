// Command bootstrap creates, once per AWS account, what the delivery pipeline needs:
// state bucket, secrets key, GitHub OIDC provider and the preview and deploy roles.
package main

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(run)
}

func run(ctx *pulumi.Context) error {
	outputs, err := build(ctx)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return nil
}

// build creates everything and returns the stack outputs: what the README's "Working as a
// team" asks you to copy into the CLI and GitHub.
func build(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("look up AWS account: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("look up AWS partition: %w", err)
	}
	acct := Account{ID: caller.AccountId, Partition: partition.Partition, DNSSuffix: partition.DnsSuffix}
	state, err := newState(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pipeline, err := newPipeline(ctx, cfg, acct, state)
	if err != nil {
		return nil, err
	}
	return pulumi.Map{
		"backendUrl":      pulumi.Sprintf("s3://%s", state.Bucket.Bucket),
		"secretsProvider": pulumi.Sprintf("awskms://%s?region=%s", state.Alias.Name, cfg.Region),
		"previewRoleArn":  pipeline.PreviewRole.Arn,
		"deployRoleArn":   pipeline.DeployRole.Arn,
		// every stack the pipeline deploys sets it as iamPermissionsBoundary
		"serverBoundaryArn": pipeline.Boundary.Arn,
		"oidcProviderArn":   pipeline.ProviderARN,
		"region":            pulumi.String(cfg.Region),
	}, nil
}
