// Package drill is the hands-on's availability check (SEED-SPEC §10) as a measured,
// repeatable command: probe the site through the load balancer while stopping a web server
// and while failing the database over, and report what users would have seen.
package drill

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/example/scalable-wordpress/internal/clock"
)

// The drill uses only these AWS calls; the real SDK clients satisfy the interfaces and the
// tests use fakes that simulate the state changes.

// EC2 stops and starts one web server and reads instance state and tags.
type EC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	StartInstances(ctx context.Context, in *ec2.StartInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
}

// AutoScaling reads the web servers' group and takes one server away from it (the group then
// launches a replacement: the drill never fights it).
type AutoScaling interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	TerminateInstanceInAutoScalingGroup(ctx context.Context, in *autoscaling.TerminateInstanceInAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error)
}

// Clients are the AWS clients of one region.
type Clients struct {
	EC2 EC2
	ELB ELB
	RDS RDS
	ASG AutoScaling
}

// ELB reads the target group's view of each server.
type ELB interface {
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// RDS reads the database's state and AZ and reboots it with failover.
type RDS interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	RebootDBInstance(ctx context.Context, in *rds.RebootDBInstanceInput, optFns ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error)
}

// Clock is time as the drill sees it; tests substitute a virtual clock so that scripted
// outages are measured exactly.
type Clock = clock.Clock

// RealClock is the wall clock.
type RealClock = clock.Real
