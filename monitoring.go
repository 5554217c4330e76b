package main

// Alarms on what users feel and on what they depend on, all to the alert topic with OK
// actions too, the database's events through EventBridge, and one dashboard. The rollout
// alarms watch the target group's health and 5xx share and the servers' converge failures:
// the Auto Scaling group's instance refresh rolls back as soon as one of them fires.

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The rollout 5xx alarm's rule. At a refresh's first checkpoint half the servers run the new
// release, so a release that fails every page answers about half the requests with a 5xx, and
// one that fails a fifth of its pages about 10 %; a healthy site answers none.
const (
	// rollout5xxPercent is the share of requests answered 5xx, by the servers or by the load
	// balancer on their behalf (a 502 or 504 from a server that resets or hangs), above which
	// a minute counts as broken.
	rollout5xxPercent = 10
	// rolloutMinRequests is the fewest requests a minute must have for its share to count.
	// Below it one error is 25 % or more of the minute (one 500 out of 2 requests is 50 %):
	// noise, not a broken release. From it on, a quiet site whose new server fails every page
	// fires (5 requests a minute, about half of them to that server: 40-60 %), while a stray
	// error must recur in 2 minutes of 3 to.
	rolloutMinRequests = 5
)

// cloudWatchDelaySeconds is how long a minute's data takes to reach an alarm: the load
// balancer and the metric filters publish each minute's data after it ends, and an alarm
// evaluates once a minute on what has arrived. AWS documents no bound for it: two minutes is
// this program's allowance.
const cloudWatchDelaySeconds = 120

// alarmSpec is one alarm: a metric with a statistic, or metric math (queries, the last one
// returning the data), and when it fires.
type alarmSpec struct {
	name, description         string
	namespace, metric, stat   string // stat: a statistic, or a percentile such as p95
	dims                      pulumi.StringMap
	queries                   []mathQuery
	period, evaluations, over int // seconds; periods evaluated; of which breaching
	threshold                 float64
	comparison                string
}

// mathQuery is one metric of a metric-math alarm, or (with expr) the expression.
type mathQuery struct {
	id, namespace, metric, stat string
	dims                        pulumi.StringMap
	expr                        string
}

// newAlarm creates an alarm that notifies the topic when it fires and when it clears.
func newAlarm(ctx *pulumi.Context, name string, a alarmSpec, topic pulumi.StringInput, tags Tags, parent pulumi.ResourceOption) (*cloudwatch.MetricAlarm, error) {
	args := &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(a.description),
		EvaluationPeriods:  pulumi.Int(a.evaluations),
		DatapointsToAlarm:  pulumi.Int(a.over),
		Threshold:          pulumi.Float64(a.threshold),
		ComparisonOperator: pulumi.String(a.comparison),
		TreatMissingData:   pulumi.String("notBreaching"), // no traffic, no data: no failure
		AlarmActions:       pulumi.Array{topic},
		OkActions:          pulumi.Array{topic},
		Tags:               tags.Named("alarm-" + a.name),
	}
	if len(a.queries) == 0 {
		args.Namespace, args.MetricName, args.Dimensions = pulumi.String(a.namespace), pulumi.String(a.metric), a.dims
		args.Period = pulumi.Int(a.period)
		if a.stat[0] == 'p' {
			args.ExtendedStatistic = pulumi.String(a.stat)
		} else {
			args.Statistic = pulumi.String(a.stat)
		}
	}
	var queries cloudwatch.MetricAlarmMetricQueryArray
	for i, q := range a.queries {
		mq := &cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(q.id), ReturnData: pulumi.Bool(i == len(a.queries)-1)}
		if q.expr != "" {
			mq.Expression, mq.Label = pulumi.String(q.expr), pulumi.String(a.name)
		} else {
			mq.Metric = &cloudwatch.MetricAlarmMetricQueryMetricArgs{Namespace: pulumi.String(q.namespace), MetricName: pulumi.String(q.metric),
				Dimensions: q.dims, Stat: pulumi.String(q.stat), Period: pulumi.Int(a.period)}
		}
		queries = append(queries, mq)
	}
	if queries != nil {
		args.MetricQueries = queries
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+a.name, args, parent)
	if err != nil {
		return nil, fmt.Errorf("create alarm %s: %w", a.name, err)
	}
	return alarm, nil
}

// rolloutAlarms are the alarms that roll a refresh back: any unhealthy target for two
// minutes; more than rollout5xxPercent of a minute's requests (at least rolloutMinRequests of
// them) answered 5xx, 2 minutes of 3; and any server's converge failure (a new server of the
// release refused by its configure or its checks) within the minute. label is the stack's
// label of its own metrics (pathLabel of the settings path).
func rolloutAlarms(lbSuffix, tgSuffix pulumi.StringInput, label string) []alarmSpec {
	lb := pulumi.StringMap{"LoadBalancer": lbSuffix}
	tg := pulumi.StringMap{"LoadBalancer": lbSuffix, "TargetGroup": tgSuffix}
	count := func(id, metric string, dims pulumi.StringMap) mathQuery { // a load balancer count per period
		return mathQuery{id: id, namespace: "AWS/ApplicationELB", metric: metric, stat: "Sum", dims: dims}
	}
	return []alarmSpec{
		{name: "unhealthy-hosts", namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount", stat: "Maximum", dims: tg,
			description: "A web server fails the load balancer's health check (two minutes running); rolls back an instance refresh.",
			period:      60, evaluations: 2, over: 2, threshold: 0, comparison: "GreaterThanThreshold"},
		{name: "rollout-5xx-rate", description: fmt.Sprintf("More than %d%% of a minute's requests (when it has %d or more) get a 5xx from the web servers or the load balancer, 2 of 3 minutes; rolls back an instance refresh.",
			rollout5xxPercent, rolloutMinRequests),
			queries: []mathQuery{count("requests", "RequestCount", tg), count("target", "HTTPCode_Target_5XX_Count", tg), count("elb", "HTTPCode_ELB_5XX_Count", lb),
				{id: "rate", expr: fmt.Sprintf("IF(FILL(requests, 0) >= %d, 100 * (FILL(target, 0) + FILL(elb, 0)) / FILL(requests, 0), 0)", rolloutMinRequests)}},
			period: 60, evaluations: 3, over: 2, threshold: rollout5xxPercent, comparison: "GreaterThanThreshold"},
		{name: "converge-failures", namespace: metricsNamespace, metric: convergeFailuresMetric(label), stat: "Sum",
			description: "A server's converge script failed (its journal is in the converge log group): a new server failed to configure or to render WordPress and never joined the load balancer, or a reboot or settings refresh left a server whose pages fail; rolls back an instance refresh.",
			period:      60, evaluations: 1, over: 1, threshold: 1, comparison: "GreaterThanOrEqualToThreshold"},
	}
}

// rolloutAlarmSeconds is how long the slowest rollout alarm takes to fire once a release
// breaks: its evaluation window (all its periods) and CloudWatch's delay. A refresh must bake
// at least this long for the alarms to roll it back (releaseBakeMinutes).
func rolloutAlarmSeconds() int {
	longest := 0
	for _, a := range rolloutAlarms(nil, nil, "") {
		longest = max(longest, a.evaluations*a.period)
	}
	return longest + cloudWatchDelaySeconds
}

// newRolloutAlarms creates the rollout alarms: by their spec name, and their names in spec
// order (as the instance refresh lists them).
func newRolloutAlarms(ctx *pulumi.Context, name string, lbSuffix, tgSuffix pulumi.StringInput, label string, topic pulumi.StringInput, tags Tags, parent pulumi.ResourceOption) (map[string]*cloudwatch.MetricAlarm, pulumi.StringArray, error) {
	alarms, names := map[string]*cloudwatch.MetricAlarm{}, pulumi.StringArray{}
	for _, a := range rolloutAlarms(lbSuffix, tgSuffix, label) {
		alarm, err := newAlarm(ctx, name, a, topic, tags, parent)
		if err != nil {
			return nil, nil, err
		}
		alarms[a.name], names = alarm, append(names, alarm.Name)
	}
	return alarms, names, nil
}

// MonitoringArgs are what the alarms and the dashboard watch.
type MonitoringArgs struct {
	Topic                     pulumi.StringInput // the alert topic's ARN
	LoadBalancer, TargetGroup pulumi.StringInput // ARN suffixes, as CloudWatch names them
	Group                     pulumi.StringInput // the Auto Scaling group's name; nil in the fixed mode
	DBIdentifier              pulumi.StringInput
	FileSystemID              pulumi.StringInput
	DBEvents                  *cloudwatch.LogGroup
	After                     pulumi.Resource // what the event rule waits for (as Alerts)
	Thresholds                AlarmThresholds
	// RolloutAlarms are the alarms that roll a refresh back (converge-failures among them).
	// They are made with the load balancer, since the Auto Scaling group that is built before
	// this component names them, and are listed here so that alarmNames is every alarm.
	RolloutAlarms map[string]*cloudwatch.MetricAlarm
	Region, Name  string // Name: the dashboard's and the stack's metrics' label (project-stack)
	Tags          Tags
}

// Monitoring is the alarms and dashboard component.
type Monitoring struct {
	pulumi.ResourceState

	Alarms       map[string]*cloudwatch.MetricAlarm
	DBFailover   *cloudwatch.MetricAlarm // must fire when the database fails over (the drill checks)
	Dashboard    *cloudwatch.Dashboard
	DashboardURL pulumi.StringOutput
}

// NewMonitoring creates the alarms, the database event rule and the dashboard.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	m := &Monitoring{Alarms: map[string]*cloudwatch.MetricAlarm{}}
	if err := ctx.RegisterComponentResource("scalable-wordpress:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, fmt.Errorf("register monitoring component: %w", err)
	}
	parent := pulumi.Parent(m)
	for _, a := range siteAlarms(args) {
		alarm, err := newAlarm(ctx, name, a, args.Topic, args.Tags, parent)
		if err != nil {
			return nil, err
		}
		m.Alarms[a.name] = alarm
	}
	m.DBFailover = m.Alarms["db-failover"]
	for k, alarm := range args.RolloutAlarms {
		if m.Alarms[k] != nil {
			return nil, fmt.Errorf("monitoring %s: a rollout alarm and a site alarm are both named %s", name, k)
		}
		m.Alarms[k] = alarm
	}
	if err := newDBEventsLog(ctx, name, args.Name, args.DBEvents, parent); err != nil {
		return nil, err
	}
	if err := newDBEventRule(ctx, name, args, parent); err != nil {
		return nil, err
	}
	if err := m.newDashboard(ctx, name, args, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"dashboardUrl": m.DashboardURL}); err != nil {
		return nil, fmt.Errorf("register monitoring outputs: %w", err)
	}
	return m, nil
}

// dbFailoversMetric is the metric the db-events filter counts failovers in.
func dbFailoversMetric(label string) string { return "DBFailovers-" + label }

// convergeFailuresMetric is the metric the converge log's filter counts failures in.
func convergeFailuresMetric(label string) string { return "ConvergeFailures-" + label }

// siteAlarms are the alarms beyond the rollout ones, with the thresholds of the config.
func siteAlarms(args *MonitoringArgs) []alarmSpec {
	t := args.Thresholds
	lb := pulumi.StringMap{"LoadBalancer": args.LoadBalancer}
	tg := pulumi.StringMap{"LoadBalancer": args.LoadBalancer, "TargetGroup": args.TargetGroup}
	db := pulumi.StringMap{"DBInstanceIdentifier": args.DBIdentifier}
	fs := pulumi.StringMap{"FileSystemId": args.FileSystemID}
	count := func(id, metric string, dims pulumi.StringMap) mathQuery { // a load balancer count per period
		return mathQuery{id: id, namespace: "AWS/ApplicationELB", metric: metric, stat: "Sum", dims: dims}
	}
	rate := func(errors string) string {
		return fmt.Sprintf("IF(FILL(requests, 0) > 0, 100 * FILL(%s, 0) / FILL(requests, 0), 0)", errors)
	}
	pct := float64(t.FiveXXPercent)
	alarms := []alarmSpec{
		{name: "alb-5xx-rate", description: fmt.Sprintf("More than %d%% of requests get a 5xx from the load balancer itself (no healthy server, timeouts), 3 of 5 minutes.", t.FiveXXPercent),
			queries: []mathQuery{count("requests", "RequestCount", lb), count("errors", "HTTPCode_ELB_5XX_Count", lb), {id: "rate", expr: rate("errors")}},
			period:  60, evaluations: 5, over: 3, threshold: pct, comparison: "GreaterThanThreshold"},
		{name: "target-5xx-rate", description: fmt.Sprintf("More than %d%% of requests get a 5xx from the web servers (PHP or database errors), 3 of 5 minutes.", t.FiveXXPercent),
			queries: []mathQuery{count("requests", "RequestCount", tg), count("errors", "HTTPCode_Target_5XX_Count", tg), {id: "rate", expr: rate("errors")}},
			period:  60, evaluations: 5, over: 3, threshold: pct, comparison: "GreaterThanThreshold"},
		{name: "latency-p95", namespace: "AWS/ApplicationELB", metric: "TargetResponseTime", stat: "p95", dims: tg,
			description: fmt.Sprintf("The servers' 95th-percentile response time is above %d ms, 3 of 5 minutes.", t.LatencyP95Ms),
			period:      60, evaluations: 5, over: 3, threshold: float64(t.LatencyP95Ms) / 1000, comparison: "GreaterThanThreshold"},
		{name: "db-cpu", namespace: "AWS/RDS", metric: "CPUUtilization", stat: "Average", dims: db,
			description: fmt.Sprintf("The database's CPU is above %d%% for 10 minutes.", t.DBCPUPercent),
			period:      300, evaluations: 2, over: 2, threshold: float64(t.DBCPUPercent), comparison: "GreaterThanThreshold"},
		{name: "db-free-storage", namespace: "AWS/RDS", metric: "FreeStorageSpace", stat: "Minimum", dims: db,
			description: fmt.Sprintf("The database has less than %d GiB of free storage (storage autoscaling, if on, grows it; past its ceiling writes fail).", t.DBFreeStorageGiB),
			period:      300, evaluations: 1, over: 1, threshold: float64(t.DBFreeStorageGiB) * (1 << 30), comparison: "LessThanThreshold"},
		{name: "db-free-memory", namespace: "AWS/RDS", metric: "FreeableMemory", stat: "Minimum", dims: db,
			description: fmt.Sprintf("The database has less than %d MiB of freeable memory for 10 minutes (it swaps, queries slow down).", t.DBFreeMemoryMiB),
			period:      300, evaluations: 2, over: 2, threshold: float64(t.DBFreeMemoryMiB) * (1 << 20), comparison: "LessThanThreshold"},
		{name: "db-connections", namespace: "AWS/RDS", metric: "DatabaseConnections", stat: "Maximum", dims: db,
			description: fmt.Sprintf("More than %d database connections for 5 minutes (near the class's max_connections, new PHP workers fail to connect).", t.DBConnections),
			period:      60, evaluations: 5, over: 5, threshold: float64(t.DBConnections), comparison: "GreaterThanThreshold"},
		{name: "db-failover", namespace: metricsNamespace, metric: dbFailoversMetric(args.Name), stat: "Sum",
			description: "The database failed over to its standby (an RDS failover event): the site had an outage of up to a minute or two.",
			period:      60, evaluations: 1, over: 1, threshold: 1, comparison: "GreaterThanOrEqualToThreshold"},
		{name: "uploads-throughput", description: fmt.Sprintf("The shared uploads use more than %d%% of their permitted throughput, 3 of 5 minutes.", t.UploadsThroughputPercent),
			queries: []mathQuery{{id: "io", namespace: "AWS/EFS", metric: "MeteredIOBytes", stat: "Sum", dims: fs},
				{id: "permitted", namespace: "AWS/EFS", metric: "PermittedThroughput", stat: "Average", dims: fs},
				{id: "utilisation", expr: "IF(FILL(permitted, 0) > 0, 100 * (FILL(io, 0) / PERIOD(io)) / permitted, 0)"}},
			period: 60, evaluations: 5, over: 3, threshold: float64(t.UploadsThroughputPercent), comparison: "GreaterThanThreshold"},
		{name: "uploads-io-limit", namespace: "AWS/EFS", metric: "PercentIOLimit", stat: "Maximum", dims: fs,
			description: fmt.Sprintf("The shared uploads are above %d%% of the General Purpose I/O limit, 3 of 5 minutes.", t.UploadsThroughputPercent),
			period:      60, evaluations: 5, over: 3, threshold: float64(t.UploadsThroughputPercent), comparison: "GreaterThanThreshold"},
	}
	if args.Group != nil {
		g := pulumi.StringMap{"AutoScalingGroupName": args.Group}
		alarms = append(alarms, alarmSpec{name: "group-below-min",
			description: "The Auto Scaling group has fewer in-service servers than its minimum for 5 minutes (replacements are failing).",
			queries: []mathQuery{{id: "inservice", namespace: "AWS/AutoScaling", metric: "GroupInServiceInstances", stat: "Minimum", dims: g},
				{id: "minimum", namespace: "AWS/AutoScaling", metric: "GroupMinSize", stat: "Maximum", dims: g},
				{id: "below", expr: "IF(FILL(inservice, 0) < FILL(minimum, 0), 1, 0)"}},
			period: 60, evaluations: 5, over: 5, threshold: 1, comparison: "GreaterThanOrEqualToThreshold"})
	}
	return alarms
}

// dbEventCategories are the RDS events that reach the topic (backups and the like do not).
var dbEventCategories = []string{"availability", "failover", "failure", "low storage", "maintenance", "recovery"}

// dbEventPattern selects this stack's database instance events by the instance's tags (RDS
// puts them in each event's detail), not its identifier: RDS names the instance, and the name
// is known only once its 18-minute create is done. So the rule is ready before the database,
// and nothing waits for it; an RDS event subscription would need the identifier, then take
// 30 s or more to become active, past the deploy-time budget.
func dbEventPattern(tags Tags) (string, error) {
	b, err := json.Marshal(map[string]any{"source": []string{"aws.rds"}, "detail-type": []string{"RDS DB Instance Event"},
		"detail": map[string]any{"EventCategories": dbEventCategories,
			"Tags": map[string][]string{"project": {tags.common["project"]}, "stack": {tags.common["stack"]}}}})
	return string(b), err
}

// newDBEventRule sends the database's events to the topic (readable) and to the db-events
// log group, where a metric filter counts failovers for the db-failover alarm.
func newDBEventRule(ctx *pulumi.Context, name string, args *MonitoringArgs, parent pulumi.ResourceOption) error {
	pattern, err := dbEventPattern(args.Tags)
	if err != nil {
		return err
	}
	rule, err := cloudwatch.NewEventRule(ctx, name+"-db-events", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(args.Name + "-db-events"),
		Description:  pulumi.String("The database's availability, failover, failure, storage, maintenance and recovery events"),
		EventPattern: pulumi.String(pattern),
		Tags:         args.Tags.Named("db-events"),
	}, parent, dependsOnIf(args.After))
	if err != nil {
		return fmt.Errorf("create the database event rule: %w", err)
	}
	if _, err := cloudwatch.NewEventTarget(ctx, name+"-db-events-topic", &cloudwatch.EventTargetArgs{
		Rule: rule.Name, Arn: args.Topic,
		InputTransformer: &cloudwatch.EventTargetInputTransformerArgs{
			InputPaths:    pulumi.StringMap{"db": pulumi.String("$.detail.SourceIdentifier"), "message": pulumi.String("$.detail.Message"), "time": pulumi.String("$.time")},
			InputTemplate: pulumi.String(`"RDS <db> at <time>: <message>"`),
		},
	}, parent); err != nil {
		return fmt.Errorf("send the database events to the topic: %w", err)
	}
	if _, err := cloudwatch.NewEventTarget(ctx, name+"-db-events-log", &cloudwatch.EventTargetArgs{Rule: rule.Name, Arn: args.DBEvents.Arn}, parent); err != nil {
		return fmt.Errorf("send the database events to their log group: %w", err)
	}
	return nil
}

// newDBEventsLog lets EventBridge write to the db-events log group, and counts failovers.
func newDBEventsLog(ctx *pulumi.Context, name, label string, group *cloudwatch.LogGroup, parent pulumi.ResourceOption) error {
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{{"Sid": "EventBridgeWritesDBEvents", "Effect": "Allow",
				"Principal": map[string]any{"Service": []string{"events.amazonaws.com", "delivery.logs.amazonaws.com"}},
				"Action":    []string{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": arn + ":*"}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := cloudwatch.NewLogResourcePolicy(ctx, name+"-db-events", &cloudwatch.LogResourcePolicyArgs{
		PolicyName: pulumi.String(label + "-db-events"), PolicyDocument: policy,
	}, parent); err != nil {
		return fmt.Errorf("let EventBridge write the database events: %w", err)
	}
	if _, err := cloudwatch.NewLogMetricFilter(ctx, name+"-db-failovers", &cloudwatch.LogMetricFilterArgs{
		Name:         pulumi.String(dbFailoversMetric(label)),
		LogGroupName: group.Name,
		Pattern:      pulumi.String(`{ $.detail.EventCategories[0] = "failover" }`),
		MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
			Namespace: pulumi.String(metricsNamespace), Name: pulumi.String(dbFailoversMetric(label)), Value: pulumi.String("1"), Unit: pulumi.String("Count"),
		},
	}, parent); err != nil {
		return fmt.Errorf("count the database failovers: %w", err)
	}
	return nil
}

// newDashboard is one dashboard of what users feel and what it rests on.
func (m *Monitoring) newDashboard(ctx *pulumi.Context, name string, args *MonitoringArgs, parent pulumi.ResourceOption) error {
	group := pulumi.StringInput(pulumi.String(""))
	if args.Group != nil {
		group = args.Group
	}
	body := pulumi.All(args.LoadBalancer, args.TargetGroup, group, args.DBIdentifier, args.FileSystemID).ApplyT(func(v []any) (string, error) {
		return dashboardBody(args.Region, v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string))
	}).(pulumi.StringOutput)
	d, err := cloudwatch.NewDashboard(ctx, name+"-dashboard", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.Name), DashboardBody: body,
	}, parent)
	if err != nil {
		return fmt.Errorf("create dashboard: %w", err)
	}
	m.Dashboard = d
	m.DashboardURL = d.DashboardName.ApplyT(func(n string) string {
		return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards/dashboard/%s", args.Region, args.Region, n)
	}).(pulumi.StringOutput)
	return nil
}

// dashboardBody renders the dashboard: requests and 5xx, latency, healthy hosts, group
// size, the database's CPU, connections, storage and memory, the uploads' throughput.
func dashboardBody(region, lb, tg, group, db, fs string) (string, error) {
	type metric = []any
	widget := func(title string, metrics []metric, stat string) map[string]any {
		return map[string]any{"type": "metric", "width": 12, "height": 6, "properties": map[string]any{
			"title": title, "region": region, "stat": stat, "period": 60, "view": "timeSeries", "metrics": metrics}}
	}
	elb := "AWS/ApplicationELB"
	widgets := []map[string]any{
		widget("Requests and 5xx", []metric{{elb, "RequestCount", "LoadBalancer", lb}, {elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb},
			{elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup", tg}}, "Sum"),
		widget("Response time p50 / p95 (s)", []metric{{elb, "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, map[string]any{"stat": "p50"}},
			{elb, "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", tg, map[string]any{"stat": "p95"}}}, "p95"),
		widget("Healthy and unhealthy servers", []metric{{elb, "HealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg},
			{elb, "UnHealthyHostCount", "LoadBalancer", lb, "TargetGroup", tg}}, "Minimum"),
	}
	if group != "" {
		widgets = append(widgets, widget("Group size", []metric{{"AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", group},
			{"AWS/AutoScaling", "GroupDesiredCapacity", "AutoScalingGroupName", group}}, "Average"))
	}
	widgets = append(widgets,
		widget("Database CPU (%) and connections", []metric{{"AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db},
			{"AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, map[string]any{"yAxis": "right"}}}, "Average"),
		widget("Database free storage and memory (bytes)", []metric{{"AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db},
			{"AWS/RDS", "FreeableMemory", "DBInstanceIdentifier", db}}, "Minimum"),
		widget("Uploads throughput (bytes per minute)", []metric{{"AWS/EFS", "MeteredIOBytes", "FileSystemId", fs}}, "Sum"),
	)
	b, err := json.Marshal(map[string]any{"widgets": widgets})
	return string(b), err
}

// alarmNames are the names of every alarm of the stack, the rollout alarms included (the
// drill reports which fired).
func (m *Monitoring) alarmNames() pulumi.StringArray {
	var names pulumi.StringArray
	for _, k := range sortedKeys(m.Alarms) {
		names = append(names, m.Alarms[k].Name)
	}
	return names
}
