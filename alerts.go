package main

// Where the stack's alarms and database events go: one SNS topic, encrypted with a key of
// the stack's own (an AWS-managed key's policy cannot let CloudWatch or EventBridge use it,
// and they would then fail to publish), with an optional e-mail subscription.

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AlertsArgs configure the alert topic.
type AlertsArgs struct {
	Email string // "" subscribes no one
	// After is what the topic's key waits for, so that monitoring is built in the RDS
	// instance's shadow rather than compete with its chain for the engine's first minute.
	After pulumi.Resource
	Tags  Tags
}

// Alerts is the alert topic component.
type Alerts struct {
	pulumi.ResourceState

	Key          *kms.Key
	Topic        *sns.Topic
	Subscription *sns.TopicSubscription // nil without an e-mail
}

// alertPublishers are the services that publish to the topic: CloudWatch alarms and the
// EventBridge rule that forwards the database's events.
var alertPublishers = []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}

// NewAlerts creates the key, the topic with a policy that lets only this account's alarms
// and event rules publish (over TLS), and the e-mail subscription.
func NewAlerts(ctx *pulumi.Context, name string, args *AlertsArgs, opts ...pulumi.ResourceOption) (*Alerts, error) {
	a := &Alerts{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:monitoring:Alerts", name, a, opts...); err != nil {
		return nil, fmt.Errorf("register alerts component: %w", err)
	}
	parent := pulumi.Parent(a)
	acct, err := lookupAccount(ctx)
	if err != nil {
		return nil, err
	}
	keyPolicy, err := alertKeyPolicy(acct)
	if err != nil {
		return nil, err
	}
	if a.Key, err = kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String("Encrypts the stack's alert topic; usable by CloudWatch alarms and EventBridge of this account"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(7),
		Policy:               pulumi.String(keyPolicy),
		Tags:                 args.Tags.Named("alerts-key"),
	}, parent, dependsOnIf(args.After)); err != nil {
		return nil, fmt.Errorf("create alert topic key: %w", err)
	}
	if a.Topic, err = sns.NewTopic(ctx, name+"-topic", &sns.TopicArgs{
		KmsMasterKeyId: a.Key.Arn,
		Tags:           args.Tags.Named("alerts"),
	}, parent); err != nil {
		return nil, fmt.Errorf("create alert topic: %w", err)
	}
	policy := a.Topic.Arn.ApplyT(func(arn string) (string, error) { return alertTopicPolicy(acct, arn) }).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, name+"-topic-policy", &sns.TopicPolicyArgs{Arn: a.Topic.Arn, Policy: policy}, parent); err != nil {
		return nil, fmt.Errorf("create alert topic policy: %w", err)
	}
	if args.Email != "" {
		if a.Subscription, err = sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
			Topic:    a.Topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(args.Email),
		}, parent); err != nil {
			return nil, fmt.Errorf("subscribe %s to the alert topic: %w", args.Email, err)
		}
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"topicArn": a.Topic.Arn}); err != nil {
		return nil, fmt.Errorf("register alerts outputs: %w", err)
	}
	return a, nil
}

// alertKeyPolicy: the account administers the key; the publishers may only encrypt for the
// topic, on behalf of this account.
func alertKeyPolicy(acct accountFacts) (string, error) {
	root := fmt.Sprintf("arn:%s:iam::%s:root", acct.partition, acct.account)
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": root}, "Action": "kms:*", "Resource": "*"},
			{"Sid": "PublishersEncrypt", "Effect": "Allow", "Principal": map[string]any{"Service": alertPublishers},
				"Action": []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": acct.account}}},
		},
	})
	return string(b), err
}

// alertTopicPolicy: this account's principals manage the topic; the publishers may publish
// for this account only; nothing without TLS.
func alertTopicPolicy(acct accountFacts, topicArn string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "AccountManages", "Effect": "Allow", "Principal": map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", acct.partition, acct.account)},
				"Action":   []string{"sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic"},
				"Resource": topicArn},
			{"Sid": "PublishersPublish", "Effect": "Allow", "Principal": map[string]any{"Service": alertPublishers},
				"Action": "sns:Publish", "Resource": topicArn,
				"Condition": map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": acct.account}}},
			{"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": topicArn,
				"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
		},
	})
	return string(b), err
}
