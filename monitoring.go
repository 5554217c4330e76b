package main

// Alarms on what users feel. The rollout alarms watch the target group: the Auto Scaling
// group's instance refresh rolls back as soon as one of them fires.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rolloutTarget5xxPerMinute is how many 5xx answers from the servers in a minute, two minutes
// running, say that a rollout broke the site (a healthy site answers none).
const rolloutTarget5xxPerMinute = 10

// newRolloutAlarms creates the alarms that roll a refresh back: any unhealthy target for two
// minutes, and the servers answering 5xx for two minutes. It returns their names.
func newRolloutAlarms(ctx *pulumi.Context, name string, alb *lb.LoadBalancer, tg *lb.TargetGroup, tags Tags, parent pulumi.ResourceOption) (pulumi.StringArray, error) {
	dims := pulumi.StringMap{"LoadBalancer": alb.ArnSuffix, "TargetGroup": tg.ArnSuffix}
	alarms := []struct {
		name, metric, statistic, description string
		threshold                            float64
	}{
		{"unhealthy-hosts", "UnHealthyHostCount", "Maximum",
			"A web server fails the load balancer's health check (two minutes running); rolls back an instance refresh.", 0},
		{"target-5xx", "HTTPCode_Target_5XX_Count", "Sum",
			fmt.Sprintf("The web servers answer more than %d 5xx a minute (two minutes running); rolls back an instance refresh.", rolloutTarget5xxPerMinute),
			rolloutTarget5xxPerMinute},
	}
	names := pulumi.StringArray{}
	for _, a := range alarms {
		alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+a.name, &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String(a.description),
			Namespace:          pulumi.String("AWS/ApplicationELB"),
			MetricName:         pulumi.String(a.metric),
			Dimensions:         dims,
			Statistic:          pulumi.String(a.statistic),
			Period:             pulumi.Int(60),
			EvaluationPeriods:  pulumi.Int(2),
			DatapointsToAlarm:  pulumi.Int(2),
			Threshold:          pulumi.Float64(a.threshold),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			TreatMissingData:   pulumi.String("notBreaching"), // no traffic is no failure
			Tags:               tags.Named("alarm-" + a.name),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("create alarm %s: %w", a.name, err)
		}
		names = append(names, alarm.Name)
	}
	return names, nil
}
