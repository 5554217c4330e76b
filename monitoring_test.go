package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Every alarm notifies the alert topic when it fires and when it clears, and watches the
// resources of this stack by the dimensions CloudWatch names them with.
func TestAlarmsWatchTheStackAndNotifyTheTopic(t *testing.T) {
	r := mustRun(t, nil)
	topic := out(r.one(t, "aws:sns/topic:Topic"), "arn")
	alb, tg := r.one(t, "aws:lb/loadBalancer:LoadBalancer"), r.one(t, "aws:lb/targetGroup:TargetGroup")
	want := map[string]string{ // dimension -> value of this stack
		"LoadBalancer":         out(alb, "arnSuffix"),
		"TargetGroup":          out(tg, "arnSuffix"),
		"DBInstanceIdentifier": out(r.one(t, "aws:rds/instance:Instance"), "identifier"),
		"FileSystemId":         out(r.one(t, "aws:efs/fileSystem:FileSystem"), "id"),
		"AutoScalingGroupName": out(r.one(t, "aws:autoscaling/group:Group"), "name"),
	}
	seen := map[string]bool{}
	alarms := r.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
	for _, a := range alarms {
		for _, k := range []string{"alarmActions", "okActions"} {
			if acts := a.Inputs[resourceKey(k)]; !acts.IsArray() || len(acts.ArrayValue()) != 1 || propString(acts.ArrayValue()[0]) != topic {
				t.Errorf("%s: %s %v, want the alert topic", a.URN, k, acts)
			}
		}
		dims := []map[string]string{stringMap(a.Obj("dimensions"))}
		if q := a.Inputs[resourceKey("metricQueries")]; q.IsArray() {
			for _, e := range q.ArrayValue() {
				if m, ok := e.ObjectValue()[resourceKey("metric")]; ok && m.IsObject() {
					dims = append(dims, stringMap(m.ObjectValue()[resourceKey("dimensions")].ObjectValue()))
				}
			}
		}
		for _, d := range dims {
			for k, v := range d {
				seen[k] = true
				if w, ok := want[k]; !ok || v != w {
					t.Errorf("%s: dimension %s=%q, want %q", a.URN, k, v, w)
				}
			}
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("no alarm watches %s", k)
		}
	}
	names := map[string]bool{}
	for _, a := range alarms {
		names[strings.TrimPrefix(strings.TrimPrefix(a.Name, "monitoring-"), "lb-")] = true
	}
	for _, n := range []string{"alb-5xx-rate", "target-5xx-rate", "unhealthy-hosts", "rollout-5xx-rate", "latency-p95", "group-below-min", "db-cpu",
		"db-free-storage", "db-free-memory", "db-connections", "db-failover", "uploads-throughput", "uploads-io-limit", "converge-failures"} {
		if !names[n] {
			t.Errorf("no %s alarm (have %v)", n, names)
		}
	}
}

// The thresholds come from the config.
func TestAlarmThresholdsFollowConfig(t *testing.T) {
	r := mustRun(t, map[string]string{"alarm5xxPercent": "2", "alarmLatencyP95Ms": "1500", "alarmDbFreeStorageGiB": "5", "alarmDbConnections": "100"})
	for name, want := range map[string]string{"monitoring-alb-5xx-rate": "2", "monitoring-latency-p95": "1.5",
		"monitoring-db-free-storage": "5.36870912e+09", "monitoring-db-connections": "100"} {
		if got := r.m.Named("aws:cloudwatch/metricAlarm:MetricAlarm", name).Str("threshold"); got != want {
			t.Errorf("%s: threshold %s, want %s", name, got, want)
		}
	}
	fixed := mustRun(t, map[string]string{"webTierMode": "fixed"})
	for _, a := range fixed.ofType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if strings.HasSuffix(a.Name, "group-below-min") {
			t.Errorf("%s: the fixed mode has no group", a.URN)
		}
	}
}

// The topic is encrypted with a key the publishers may use, for this account only, and
// takes an e-mail subscription when one is configured.
func TestAlertTopic(t *testing.T) {
	r := mustRun(t, map[string]string{"alarmEmail": "ops@example.org"})
	key, topic := r.one(t, "aws:kms/key:Key"), r.one(t, "aws:sns/topic:Topic")
	if topic.Str("kmsMasterKeyId") != out(key, "arn") || key.Str("enableKeyRotation") != "true" {
		t.Errorf("%s: encrypted with %q (key %s, rotation %s)", topic.URN, topic.Str("kmsMasterKeyId"), out(key, "arn"), key.Str("enableKeyRotation"))
	}
	for _, doc := range []map[string]any{jsonInput(t, key, "policy"), jsonInput(t, r.one(t, "aws:sns/topicPolicy:TopicPolicy"), "policy")} {
		for _, s := range doc["Statement"].([]any) {
			st := s.(map[string]any)
			if p, ok := st["Principal"].(map[string]any); ok && p["Service"] != nil {
				if cond, _ := json.Marshal(st["Condition"]); !strings.Contains(string(cond), `"aws:SourceAccount":"`+testAccount+`"`) {
					t.Errorf("a service may use the topic or key for another account: %v", st)
				}
			}
		}
	}
	sub := r.one(t, "aws:sns/topicSubscription:TopicSubscription")
	if sub.Str("protocol") != "email" || sub.Str("endpoint") != "ops@example.org" || sub.Str("topic") != out(topic, "arn") {
		t.Errorf("%s: %s %s on %s", sub.URN, sub.Str("protocol"), sub.Str("endpoint"), sub.Str("topic"))
	}
	if n := len(mustRun(t, nil).ofType("aws:sns/topicSubscription:TopicSubscription")); n != 0 {
		t.Errorf("%d subscriptions without alarmEmail", n)
	}
}

// The database's events reach the topic and the log group whose filter feeds db-failover.
func TestDatabaseEventsReachTheTopicAndTheFailoverAlarm(t *testing.T) {
	r := mustRun(t, nil)
	rule := r.one(t, "aws:cloudwatch/eventRule:EventRule")
	pattern := jsonInput(t, rule, "eventPattern")
	detail := pattern["detail"].(map[string]any)
	dbTags := r.one(t, "aws:rds/instance:Instance").Obj("tags")
	tags, _ := detail["Tags"].(map[string]any)
	if len(tags) != 2 || fmt.Sprint(tags["project"]) != "["+propString(dbTags["project"])+"]" || fmt.Sprint(tags["stack"]) != "["+propString(dbTags["stack"])+"]" ||
		!slices.Contains(detail["EventCategories"].([]any), any("failover")) {
		t.Errorf("%s: pattern %v does not select this database's failovers", rule.URN, pattern)
	}
	targets := map[string]bool{}
	for _, tg := range r.ofType("aws:cloudwatch/eventTarget:EventTarget") {
		targets[tg.Str("arn")] = tg.Str("rule") == out(rule, "name")
	}
	events := r.m.Named("aws:cloudwatch/logGroup:LogGroup", "logs-"+dbEventsLogLeaf)
	if !targets[out(r.one(t, "aws:sns/topic:Topic"), "arn")] || !targets[out(events, "arn")] {
		t.Errorf("the rule's targets %v, want the topic and the db-events log group", targets)
	}
	filter := r.m.Named("aws:cloudwatch/logMetricFilter:LogMetricFilter", "monitoring-db-failovers")
	alarm := r.m.Named("aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-db-failover")
	tr := filter.Obj("metricTransformation")
	if filter.Str("logGroupName") != out(events, "name") || propString(tr["name"]) != alarm.Str("metricName") || propString(tr["namespace"]) != alarm.Str("namespace") {
		t.Errorf("the failover filter (%s on %s) does not feed %s", propString(tr["name"]), filter.Str("logGroupName"), alarm.Str("metricName"))
	}
	if r.outputs["dbFailoverAlarm"] != out(alarm, "name") {
		t.Errorf("output dbFailoverAlarm %v, want %s", r.outputs["dbFailoverAlarm"], out(alarm, "name"))
	}
}

// The agent config in the servers' user data ships to exactly the log groups the program
// creates, with the configured retention; the converge filter counts the script's FAILED line.
func TestServerLogsShipToTheStacksGroups(t *testing.T) {
	r := mustRun(t, map[string]string{"logRetentionDays": "90"})
	groups, serverGroups := map[string]*recorded{}, 0
	for _, g := range r.ofType("aws:cloudwatch/logGroup:LogGroup") {
		groups[g.Str("name")] = g
		if strings.Contains(g.URN, "ServerLogs$") {
			serverGroups++
		}
		if g.Str("retentionInDays") != "90" {
			t.Errorf("%s: retention %s, want 90", g.URN, g.Str("retentionInDays"))
		}
	}
	script := userDataOf(t, r.one(t, "aws:ec2/launchTemplate:LaunchTemplate"))
	start := strings.Index(script, "<<'JSON'\n")
	end := strings.Index(script[start+1:], "\nJSON\n")
	if start < 0 || end < 0 {
		t.Fatal("the user data has no agent config")
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(script[start+len("<<'JSON'\n"):start+1+end]), &cfg); err != nil {
		t.Fatalf("the agent config is not JSON: %v", err)
	}
	list := cfg["logs"].(map[string]any)["logs_collected"].(map[string]any)["files"].(map[string]any)["collect_list"].([]any)
	for _, e := range list {
		name := e.(map[string]any)["log_group_name"].(string)
		if groups[name] == nil {
			t.Errorf("the agent ships to %s, which the program does not create", name)
		}
	}
	if len(list) != serverGroups-1 {
		t.Errorf("the agent ships %d files, want one per server log group (%d)", len(list), serverGroups-1)
	}
	// It runs as the one user the metadata firewall lets reach the role, and flushes as often
	// as a failed boot waits for it (twice, before the group terminates the server).
	if user := cfg["agent"].(map[string]any)["run_as_user"]; user != metadataUser {
		t.Errorf("the agent runs as %v; the metadata firewall lets only %s reach the role's credentials", user, metadataUser)
	}
	if flush := cfg["logs"].(map[string]any)["force_flush_interval"]; flush != float64(agentFlushSeconds) || logShipWaitSeconds <= 2*agentFlushSeconds {
		t.Errorf("the agent flushes every %v s; a failed boot waits %d s before abandoning its launch, want more than two flushes", flush, logShipWaitSeconds)
	}
	filter := r.m.Named("aws:cloudwatch/logMetricFilter:LogMetricFilter", "logs-converge-failures")
	if filter.Str("pattern") != `"`+convergeFailedMarker+`"` || filter.Str("logGroupName") != "/scalable-wordpress/test/converge" {
		t.Errorf("%s: pattern %s on %s", filter.URN, filter.Str("pattern"), filter.Str("logGroupName"))
	}
	if !strings.Contains(script, `log "FAILED: $1 (exit $rc)"`) {
		t.Error("the converge script no longer logs the FAILED line the filter counts")
	}
}

// The dashboard's body is JSON CloudWatch accepts: metric widgets with a region and metrics.
func TestDashboard(t *testing.T) {
	r := mustRun(t, nil)
	d := r.one(t, "aws:cloudwatch/dashboard:Dashboard")
	body := jsonInput(t, d, "dashboardBody")
	widgets := body["widgets"].([]any)
	if len(widgets) < 7 {
		t.Errorf("%d widgets, want requests, latency, hosts, group, database ×2, uploads", len(widgets))
	}
	for _, w := range widgets {
		p := w.(map[string]any)["properties"].(map[string]any)
		if p["region"] != "ap-northeast-1" || len(p["metrics"].([]any)) == 0 {
			t.Errorf("widget %v", p["title"])
		}
	}
	if u := r.outputs["dashboardUrl"]; !strings.Contains(u.(string), "#dashboards/dashboard/"+d.Str("dashboardName")) {
		t.Errorf("dashboardUrl %v", u)
	}
}

func stringMap(m resource.PropertyMap) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[string(k)] = propString(v)
	}
	return out
}
