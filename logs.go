package main

// The servers' logs off the servers: the CloudWatch agent on every server ships Apache's
// access and error logs, PHP's errors and the converge script's journal to log groups of the
// stack, so that what a server did survives the Auto Scaling group terminating it. A metric
// filter counts the converge script's failures, for an alarm. The log groups that AWS services
// write through log delivery (the WAF's, CloudFront's) are made by newDeliveredLogGroup.

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// serverLogs are the files the agent ships, by log group leaf. The group of each is
// <settings path>/<leaf>, e.g. /scalable-wordpress/dev/apache-access.
var serverLogs = []struct{ leaf, file string }{
	{"apache-access", "/var/log/httpd/access_log"},
	{"apache-error", "/var/log/httpd/error_log"},
	{"php-errors", "/var/log/php-fpm/www-error.log"},
	{convergeLogLeaf, convergeLogFile},
}

const (
	convergeLogLeaf  = "converge"
	convergeLogFile  = "/var/log/wordpress-converge.log" // the converge script appends its journal here
	dbEventsLogLeaf  = "db-events"                       // the database's events, from EventBridge
	cdnAccessLogLeaf = "cdn-access"                      // CloudFront's access logs (in us-east-1, by the edge)
	// convergeFailedMarker starts the line the converge script logs when it fails.
	convergeFailedMarker = "wordpress-converge: FAILED"
	// metricsNamespace holds the stack's own metrics (from metric filters).
	metricsNamespace = "ScalableWordPress"
	// agentFlushSeconds is the agent's force_flush_interval: it sends what it has read of a
	// file at least this often (the agent's default, written out because a failed boot waits
	// for it: logShipWaitSeconds).
	agentFlushSeconds = 5
)

func logGroupName(prefix, leaf string) string { return prefix + "/" + leaf }

// agentConfig is the CloudWatch agent's configuration: the server logs, one stream per
// instance. No retention setting: the groups exist with theirs, and the agent needs no right
// to change them. The agent runs as metadataUser, the one user the metadata firewall lets
// reach the instance's role credentials (bootfacts.go).
func agentConfig(prefix string) (string, error) {
	var files []map[string]any
	for _, l := range serverLogs {
		files = append(files, map[string]any{"file_path": l.file, "log_group_name": logGroupName(prefix, l.leaf),
			"log_stream_name": "{instance_id}", "timezone": "UTC"})
	}
	b, err := json.MarshalIndent(map[string]any{
		"agent": map[string]any{"run_as_user": metadataUser, "logfile": "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log"},
		"logs": map[string]any{"force_flush_interval": agentFlushSeconds,
			"logs_collected": map[string]any{"files": map[string]any{"collect_list": files}}},
	}, "", "  ")
	return string(b) + "\n", err
}

// ServerLogsArgs configure the log groups.
type ServerLogsArgs struct {
	Prefix        string             // the stack's settings path: groups are <Prefix>/<leaf>
	RetentionDays int                // logRetentionDays
	ServerRole    pulumi.StringInput // the servers' role name: it gets the rights to ship
	After         pulumi.Resource    // what the groups wait for (the RDS instance's shadow, as Alerts)
	Tags          Tags
}

// ServerLogs is the log component.
type ServerLogs struct {
	pulumi.ResourceState

	Groups map[string]*cloudwatch.LogGroup // by leaf, db-events included
}

// NewServerLogs creates the log groups, the servers' right to write to them and the metric
// filter that counts the converge script's failures.
func NewServerLogs(ctx *pulumi.Context, name string, args *ServerLogsArgs, opts ...pulumi.ResourceOption) (*ServerLogs, error) {
	s := &ServerLogs{Groups: map[string]*cloudwatch.LogGroup{}}
	if err := ctx.RegisterComponentResource("scalable-wordpress:monitoring:ServerLogs", name, s, opts...); err != nil {
		return nil, fmt.Errorf("register logs component: %w", err)
	}
	parent := pulumi.Parent(s)
	leaves := []string{dbEventsLogLeaf}
	for _, l := range serverLogs {
		leaves = append(leaves, l.leaf)
	}
	var shipped pulumi.StringArray
	for _, leaf := range leaves {
		g, err := cloudwatch.NewLogGroup(ctx, name+"-"+leaf, &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(logGroupName(args.Prefix, leaf)),
			RetentionInDays: pulumi.Int(args.RetentionDays),
			Tags:            args.Tags.Named("logs-" + leaf),
		}, parent, dependsOnIf(args.After))
		if err != nil {
			return nil, fmt.Errorf("create log group %s: %w", leaf, err)
		}
		s.Groups[leaf] = g
		if leaf != dbEventsLogLeaf {
			shipped = append(shipped, g.Arn)
		}
	}
	policy := shipped.ToStringArrayOutput().ApplyT(shipLogsPolicy).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-ship", &iam.RolePolicyArgs{Role: args.ServerRole, Policy: policy}, parent); err != nil {
		return nil, fmt.Errorf("create the servers' log policy: %w", err)
	}
	metric := convergeFailuresMetric(pathLabel(args.Prefix))
	if _, err := cloudwatch.NewLogMetricFilter(ctx, name+"-converge-failures", &cloudwatch.LogMetricFilterArgs{
		Name:         pulumi.String(metric),
		LogGroupName: s.Groups[convergeLogLeaf].Name,
		Pattern:      pulumi.String(`"` + convergeFailedMarker + `"`),
		MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
			Namespace: pulumi.String(metricsNamespace),
			Name:      pulumi.String(metric),
			Value:     pulumi.String("1"),
			Unit:      pulumi.String("Count"),
		},
	}, parent); err != nil {
		return nil, fmt.Errorf("create the converge failures filter: %w", err)
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{}); err != nil {
		return nil, fmt.Errorf("register logs outputs: %w", err)
	}
	return s, nil
}

// shipLogsActions are what the CloudWatch agent calls to ship a file.
var shipLogsActions = []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}

// shipLogsPolicy lets the agent write streams of the shipped groups, nothing else: no new
// group, no retention change, no read.
func shipLogsPolicy(groupArns []string) (string, error) {
	var streams []string
	for _, arn := range groupArns {
		streams = append(streams, arn+":*") // the group's streams (the provider's ARN has no ":*")
	}
	var statements []map[string]any
	for _, action := range shipLogsActions {
		statements = append(statements, map[string]any{"Effect": "Allow", "Action": action, "Resource": streams})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}

// pathLabel turns the settings path (/project/stack) into a metric-name label (project-stack).
func pathLabel(prefix string) string {
	out := []rune{}
	for _, r := range prefix {
		if r == '/' {
			if len(out) > 0 {
				out = append(out, '-')
			}
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// deliveredLogGroupArgs are a log group that an AWS service writes through CloudWatch Logs'
// log delivery ("vended logs": WAF, CloudFront).
type deliveredLogGroupArgs struct {
	Name          string // the group's name
	RetentionDays int    // logRetentionDays
	Leaf          string // names the group's Name tag and its resource policy
	Tags          Tags
}

// newDeliveredLogGroup creates the log group and the resource policy that lets the log
// delivery service write its streams, for this account's deliveries only. Without one, the
// service adds the group to a shared policy of its own (AWSWAF-LOGS, AWSLogDeliveryWrite...),
// which grows with every group until it exceeds its size limit. opts carry the region's
// provider: the policy is in the group's region.
func newDeliveredLogGroup(ctx *pulumi.Context, name string, args *deliveredLogGroupArgs, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, *cloudwatch.LogResourcePolicy, error) {
	group, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.Name),
		RetentionInDays: pulumi.Int(args.RetentionDays),
		Tags:            args.Tags.Named(args.Leaf),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create log group %s: %w", args.Name, err)
	}
	policy, err := cloudwatch.NewLogResourcePolicy(ctx, name, &cloudwatch.LogResourcePolicyArgs{
		PolicyName:     pulumi.String(args.Tags.name(args.Leaf)),
		PolicyDocument: group.Arn.ApplyT(deliveryWritePolicy).(pulumi.StringOutput),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("let the log delivery write to %s: %w", args.Name, err)
	}
	return group, policy, nil
}

// deliveryWritePolicy is CloudWatch Logs' documented resource policy for log delivery to a
// group (arn:<partition>:logs:<region>:<account>:log-group:<name>): the delivery service may
// create and write the group's streams, on behalf of this account's deliveries in the region.
func deliveryWritePolicy(groupArn string) (string, error) {
	parts := strings.SplitN(groupArn, ":", 6)
	if len(parts) != 6 || parts[2] != "logs" || !strings.HasPrefix(parts[5], "log-group:") {
		return "", fmt.Errorf("not a log group ARN: %q", groupArn)
	}
	partition, region, account := parts[1], parts[3], parts[4]
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid": "LogDeliveryWrite", "Effect": "Allow",
			"Principal": map[string]any{"Service": "delivery.logs.amazonaws.com"},
			"Action":    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource":  groupArn + ":log-stream:*",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": account},
				"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:logs:%s:%s:*", partition, region, account)},
			},
		}},
	})
	return string(b), err
}
