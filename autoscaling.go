package main

// The default web tier: an Auto Scaling group of servers launched from the golden image.
//
//   - A new server stays out of the load balancer until it has configured itself: the
//     group's launch lifecycle hook holds it in Pending:Wait and the boot script completes the
//     hook (or abandons the launch when configuring fails).
//   - A change that needs new servers (a new image, instance type, user data) is a new launch
//     template version, which the group rolls through an instance refresh: launch before
//     terminate (100 % healthy kept), instances already matching skipped, half the servers
//     first, which serve for the bake (releaseBakeMinutes) before the rest are replaced, and
//     automatic rollback when a rollout alarm fires.
//   - A target-tracking policy sizes the group; pulumi up never resets its desired capacity.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Timings of the group, in seconds, sized to the configure phase of a server from the
// golden image (settings, secrets, a database check: well under a minute) and to the target
// group's health check (2 checks 10 s apart).
const (
	groupHealthCheckGrace = 90 // after the launch hook completed
	groupInstanceWarmup   = 60 // before a new server's metrics count, and between refresh batches
	launchHookTimeout     = handoffTimeoutSeconds + 600
)

// refreshCheckpoints are the instance refresh's checkpoints, in percent of the group's servers
// on the new release: half of them first, which then serve for the bake (CheckpointDelay)
// while the rollout alarms watch, then the rest. The last must be 100 to replace them all;
// AWS does not wait after it: the refresh succeeds once the last servers have warmed up.
var refreshCheckpoints = []int{50, 100}

// refreshBatchMinutes bounds one batch of a refresh (with maximum healthy 200 %, a batch's
// servers launch together): launch, configure from the golden image (under a minute), two
// health checks, the warm-up, and the drain of the servers it replaces.
const refreshBatchMinutes = 5

// refreshMinutes is how long a refresh with this bake takes: every batch, and the bake at
// every checkpoint but the last. A scale-out during the bake can reach the checkpoint again,
// which AWS then waits at again.
func refreshMinutes(bakeMinutes int) int {
	return len(refreshCheckpoints)*refreshBatchMinutes + (len(refreshCheckpoints)-1)*bakeMinutes
}

// groupMetrics are the group metrics CloudWatch collects (free at 1-minute granularity).
var groupMetrics = []string{"GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
	"GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"}

type serverGroup struct {
	LaunchTemplate *ec2.LaunchTemplate
	Group          *autoscaling.Group
}

// newServerGroup builds the launch template, the group, the right to complete its launch
// hook and the scaling policy.
func newServerGroup(ctx *pulumi.Context, tier string, args *WebTierArgs, ami *ec2.AmiFromInstance, profile pulumi.StringInput, role *iam.Role, parent pulumi.ResourceOption) (*serverGroup, error) {
	lt, err := newLaunchTemplate(ctx, tier, args, ami, profile, parent)
	if err != nil {
		return nil, err
	}
	subnets := pulumi.StringArray{}
	for _, s := range args.Subnets {
		subnets = append(subnets, s.ID)
	}
	g := args.Group
	group, err := autoscaling.NewGroup(ctx, tier+"-asg", &autoscaling.GroupArgs{
		VpcZoneIdentifiers: subnets,
		MinSize:            pulumi.Int(g.Min),
		MaxSize:            pulumi.Int(g.Max),
		DesiredCapacity:    pulumi.Int(g.Desired),
		LaunchTemplate: &autoscaling.GroupLaunchTemplateArgs{
			Id: lt.ID(),
			// A concrete version number: a new version is a change the provider rolls out with
			// an instance refresh ("$Latest" would never look changed).
			Version: lt.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
		},
		TargetGroupArns:        pulumi.StringArray{args.LoadBalancer.TargetGroupArn},
		HealthCheckType:        pulumi.String("ELB"),
		HealthCheckGracePeriod: pulumi.Int(groupHealthCheckGrace),
		DefaultInstanceWarmup:  pulumi.Int(groupInstanceWarmup),
		// Servers launched on day 1 wait for the database (15-20 minutes); pulumi up does not
		// wait for them, and cmd/rollout follows refreshes.
		WaitForCapacityTimeout: pulumi.String("0"),
		InitialLifecycleHooks: autoscaling.GroupInitialLifecycleHookArray{&autoscaling.GroupInitialLifecycleHookArgs{
			Name:                pulumi.String(launchHookName),
			LifecycleTransition: pulumi.String("autoscaling:EC2_INSTANCE_LAUNCHING"),
			HeartbeatTimeout:    pulumi.Int(launchHookTimeout),
			DefaultResult:       pulumi.String("ABANDON"),
		}},
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage:  pulumi.Int(100), // launch before terminate
				MaxHealthyPercentage:  pulumi.Int(200),
				SkipMatching:          pulumi.Bool(true),
				InstanceWarmup:        pulumi.String(strconv.Itoa(groupInstanceWarmup)),
				CheckpointPercentages: pulumi.ToIntArray(refreshCheckpoints),
				CheckpointDelay:       pulumi.String(strconv.Itoa(g.BakeMinutes * 60)), // seconds
				AutoRollback:          pulumi.Bool(true),
				AlarmSpecification: &autoscaling.GroupInstanceRefreshPreferencesAlarmSpecificationArgs{
					Alarms: args.LoadBalancer.RolloutAlarms,
				},
			},
		},
		EnabledMetrics:     pulumi.ToStringArray(groupMetrics),
		MetricsGranularity: pulumi.String("1Minute"),
		Tags:               groupTags(args.Tags.Named("web-asg")),
	}, parent, pulumi.IgnoreChanges([]string{"desiredCapacity"})) // the scaling policy owns it
	if err != nil {
		return nil, fmt.Errorf("create the web servers' Auto Scaling group: %w", err)
	}
	if err := allowCompletingLaunch(ctx, tier, role, group, parent); err != nil {
		return nil, err
	}
	if err := newScalingPolicy(ctx, tier, args, group, parent); err != nil {
		return nil, err
	}
	return &serverGroup{LaunchTemplate: lt, Group: group}, nil
}

// newLaunchTemplate describes a server of the group: the golden image, the servers' profile
// and security group, IMDSv2 only, an encrypted gp3 root volume, the generic user data, and
// tags on the instance and its volume.
func newLaunchTemplate(ctx *pulumi.Context, tier string, args *WebTierArgs, ami *ec2.AmiFromInstance, profile pulumi.StringInput, parent pulumi.ResourceOption) (*ec2.LaunchTemplate, error) {
	userData, err := bootUserData(args, convergeBoot)
	if err != nil {
		return nil, err
	}
	instanceTags := args.Tags.Named("web")
	instanceTags[siteTagKey] = pulumi.String(args.SiteTag)
	a := &ec2.LaunchTemplateArgs{
		Description:        pulumi.String("WordPress web server of " + ctx.Project() + "/" + ctx.Stack() + ", from the golden image"),
		ImageId:            ami.ID(),
		InstanceType:       pulumi.String(args.InstanceType),
		IamInstanceProfile: &ec2.LaunchTemplateIamInstanceProfileArgs{Name: profile},
		NetworkInterfaces: ec2.LaunchTemplateNetworkInterfaceArray{&ec2.LaunchTemplateNetworkInterfaceArgs{
			DeviceIndex:              pulumi.Int(0),
			AssociatePublicIpAddress: pulumi.String("true"), // outbound to package repos; no inbound but from the ALB
			SecurityGroups:           pulumi.StringArray{args.SecurityGroupID},
			DeleteOnTermination:      pulumi.String("true"),
		}},
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: pulumi.Int(1),
			InstanceMetadataTags:    pulumi.String("disabled"),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"), // Amazon Linux 2023's root device
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeType:          pulumi.String("gp3"),
				VolumeSize:          pulumi.Int(args.RootVolumeSizeGiB),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		UserData: pulumi.String(userData),
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: instanceTags},
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: args.Tags.Named("web-root")},
		},
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 args.Tags.Named("web-launch-template"),
	}
	if args.KeyPairName != "" {
		a.KeyName = pulumi.String(args.KeyPairName)
	}
	// A new version launches servers that run the release's one-time database upgrade.
	lt, err := ec2.NewLaunchTemplate(ctx, tier+"-lt", a, parent, dependsOnIf(args.ReleaseGate))
	if err != nil {
		return nil, fmt.Errorf("create the web servers' launch template: %w", err)
	}
	return lt, nil
}

// groupTags are the group's own tags (not propagated: the launch template tags instances).
func groupTags(tags pulumi.StringMap) autoscaling.GroupTagArray {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := autoscaling.GroupTagArray{}
	for _, k := range keys {
		out = append(out, &autoscaling.GroupTagArgs{Key: pulumi.String(k), Value: tags[k], PropagateAtLaunch: pulumi.Bool(false)})
	}
	return out
}

// allowCompletingLaunch lets the servers complete (or abandon) the launch hook of this group
// and no other.
func allowCompletingLaunch(ctx *pulumi.Context, tier string, role *iam.Role, group *autoscaling.Group, parent pulumi.ResourceOption) error {
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{{
				"Sid": "CompleteOwnLaunch", "Effect": "Allow", "Action": "autoscaling:CompleteLifecycleAction",
				"Resource": []string{arn},
			}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, tier+"-complete-launch", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent); err != nil {
		return fmt.Errorf("allow the web servers to complete their launch: %w", err)
	}
	return nil
}

// newScalingPolicy keeps the configured load per server: the load balancer's requests per
// target per minute (what a WordPress server saturates on), or the group's average CPU.
func newScalingPolicy(ctx *pulumi.Context, tier string, args *WebTierArgs, group *autoscaling.Group, parent pulumi.ResourceOption) error {
	spec := &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
		PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
	}
	target := float64(args.Group.CPUPercent)
	opts := []pulumi.ResourceOption{parent}
	if args.Group.Metric == metricRequests {
		spec = &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
			PredefinedMetricType: pulumi.String("ALBRequestCountPerTarget"),
			ResourceLabel:        args.LoadBalancer.ResourceLabel,
		}
		target = float64(args.Group.RequestsPerTarget)
		// The metric exists once a listener forwards to the target group.
		opts = append(opts, pulumi.DependsOn(args.LoadBalancer.Listeners))
	}
	if _, err := autoscaling.NewPolicy(ctx, tier+"-scaling", &autoscaling.PolicyArgs{
		AutoscalingGroupName: group.Name,
		PolicyType:           pulumi.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
			PredefinedMetricSpecification: spec,
			TargetValue:                   pulumi.Float64(target),
		},
	}, opts...); err != nil {
		return fmt.Errorf("create the web servers' scaling policy: %w", err)
	}
	return nil
}
