package main

// Where the team's Pulumi state and stack secrets live: a private, versioned S3 bucket
// encrypted with a KMS key that also encrypts the stacks' secrets (awskms:// provider).

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// State is the bucket and the key.
type State struct {
	Bucket *s3.BucketV2
	Key    *kms.Key
	Alias  *kms.Alias
}

// newState creates the key, the bucket and the bucket's protections. Both are protected
// from `pulumi destroy`: losing them loses every stack's state and secrets.
func newState(ctx *pulumi.Context, cfg Config) (*State, error) {
	protect := pulumi.Protect(true)
	key, err := kms.NewKey(ctx, "state-key", &kms.KeyArgs{
		Description:          pulumi.String("Pulumi state bucket and stack secrets of " + cfg.StackProject),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 cfg.tags("state-key"),
	}, protect)
	if err != nil {
		return nil, fmt.Errorf("create KMS key: %w", err)
	}
	alias, err := kms.NewAlias(ctx, "state-key-alias", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + cfg.StackProject + "-pulumi"),
		TargetKeyId: key.KeyId,
	})
	if err != nil {
		return nil, fmt.Errorf("create KMS alias: %w", err)
	}
	bucket, err := s3.NewBucketV2(ctx, "state", &s3.BucketV2Args{
		ForceDestroy: pulumi.Bool(false),
		Tags:         cfg.tags("state"),
	}, protect)
	if err != nil {
		return nil, fmt.Errorf("create state bucket: %w", err)
	}
	steps := []func() error{
		func() error {
			_, err := s3.NewBucketPublicAccessBlock(ctx, "state-public-access", &s3.BucketPublicAccessBlockArgs{
				Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
				IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
			})
			return err
		},
		func() error {
			_, err := s3.NewBucketOwnershipControls(ctx, "state-ownership", &s3.BucketOwnershipControlsArgs{
				Bucket: bucket.ID(), Rule: &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
			})
			return err
		},
		func() error {
			_, err := s3.NewBucketVersioningV2(ctx, "state-versioning", &s3.BucketVersioningV2Args{
				Bucket: bucket.ID(), VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
			})
			return err
		},
		func() error {
			_, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "state-encryption", &s3.BucketServerSideEncryptionConfigurationV2Args{
				Bucket: bucket.ID(),
				Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
					ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
						SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: key.Arn,
					},
					BucketKeyEnabled: pulumi.Bool(true),
				}},
			})
			return err
		},
		func() error {
			// Old state versions are kept 90 days: enough to roll back, not forever.
			_, err := s3.NewBucketLifecycleConfigurationV2(ctx, "state-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
				Bucket: bucket.ID(),
				Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
					Id: pulumi.String("expire-old-state-versions"), Status: pulumi.String("Enabled"),
					Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
					NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(90)},
					AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
				}},
			})
			return err
		},
		func() error {
			_, err := s3.NewBucketPolicy(ctx, "state-tls-only", &s3.BucketPolicyArgs{
				Bucket: bucket.ID(),
				Policy: bucket.Arn.ApplyT(tlsOnlyPolicy).(pulumi.StringOutput),
			})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("configure state bucket: %w", err)
		}
	}
	return &State{Bucket: bucket, Key: key, Alias: alias}, nil
}

// tlsOnlyPolicy denies any request to the bucket that does not use TLS.
func tlsOnlyPolicy(bucketARN string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []string{bucketARN, bucketARN + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}},
	})
	return string(b), err
}
