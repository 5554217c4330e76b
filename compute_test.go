package main

import (
	"encoding/base64"
	"fmt"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/pipeline"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// servers returns the EC2 instances (the image builder and, in the fixed mode, the clones).
func servers(r *stackRun) []*recorded { return r.ofType("aws:ec2/instance:Instance") }

// builderOf is the instance the golden image is taken from.
func builderOf(t *testing.T, r *stackRun) (builder, ami *recorded) {
	t.Helper()
	ami = r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance")
	builder = r.byID(ami.Str("sourceInstanceId"))
	if builder == nil || builder.Type != "aws:ec2/instance:Instance" {
		t.Fatalf("%s: the image must be taken from an instance of the stack, got %q", ami.URN, ami.Str("sourceInstanceId"))
	}
	return builder, ami
}

// convergeMode is the converge mode a boot script's user data sets.
func convergeMode(t *testing.T, script string) string {
	t.Helper()
	_, rest, ok := strings.Cut(script, "echo 'CONVERGE_MODE=")
	if !ok {
		t.Fatalf("user data sets no converge mode")
	}
	mode, _, _ := strings.Cut(rest, "'")
	return mode
}

// SEED-SPEC §2, §6: server 1 from the current AL2023 prepares WordPress; an SSM association
// waits until that has finished; only then is the image taken; the builder is then stopped.
func TestGoldenImage(t *testing.T) {
	r := mustRun(t, nil)
	builder, ami := builderOf(t, r)
	if builder.Str("ami") != testAMI {
		t.Errorf("%s: the builder must launch from the current Amazon Linux 2023, got %q", builder.URN, builder.Str("ami"))
	}
	if got := convergeMode(t, userDataOf(t, builder)); got != convergePrepare {
		t.Errorf("%s: the builder runs converge %q, want %q (no setting, no secret in the image)", builder.URN, got, convergePrepare)
	}
	if builder.Str("userDataReplaceOnChange") != "true" {
		t.Errorf("%s: a new script must replace the builder (cloud-init runs user data once per instance)", builder.URN)
	}
	if tags := builder.Obj("tags"); propString(tags[siteTagKey]) != "" {
		t.Errorf("%s: the builder serves nothing and must not get settings refreshes (tag %s)", builder.URN, siteTagKey)
	}
	// Its profile's role reads no secret: only SSM.
	profile := r.m.Named("aws:iam/instanceProfile:InstanceProfile", "web-builder-profile")
	if profile == nil || builder.Str("iamInstanceProfile") != out(profile, "name") {
		t.Fatalf("%s: the builder must use the builder's own profile", builder.URN)
	}
	for _, st := range roleGrants(t, r, profile.Str("role")) {
		if !slices.Contains(pipeline.SSMAgentActions, st.action) || st.resource != "*" {
			t.Errorf("%s: the builder's role must hold nothing beyond the SSM agent's rights (it reads no secret): %s on %s", st.from, st.action, st.resource)
		}
	}

	wait := prepareWait(t, r)
	targets := wait.Inputs["targets"].ArrayValue()
	if len(targets) != 1 || propString(targets[0].ObjectValue()["key"]) != "InstanceIds" ||
		propString(targets[0].ObjectValue()["values"].ArrayValue()[0]) != out(builder, "id") {
		t.Errorf("%s: must run on the builder, got targets %v", wait.URN, targets)
	}
	if !slices.Contains(wait.ReplaceOnChanges, "targets") {
		t.Errorf("%s: a new builder must get a new association (the provider waits only on create)", wait.URN)
	}
	doc := r.byID(wait.Str("name"))
	if doc == nil || !strings.Contains(doc.Str("content"), "prepare-failed") || doc.Str("documentType") != "Command" {
		t.Fatalf("%s: must run the prepare-wait Command document", wait.URN)
	}
	if !slices.Contains(ami.Deps, wait.URN) {
		t.Errorf("%s: the image must wait for the prepare phase (%s)", ami.URN, wait.URN)
	}
	if ami.Str("snapshotWithoutReboot") != "false" {
		t.Errorf("%s: image must be taken with a reboot, as in the hands-on", ami.URN)
	}
	stop := r.one(t, "aws:ec2transitgateway/instanceState:InstanceState")
	if stop.Str("instanceId") != out(builder, "id") || stop.Str("state") != "stopped" || !slices.Contains(stop.Deps, ami.URN) {
		t.Errorf("%s: the builder must be stopped once imaged", stop.URN)
	}
}

// The default web tier: a launch template from the golden image and an Auto Scaling group
// over every AZ, in the target group, rolling changes launch-before-terminate.
func TestAutoScalingGroup(t *testing.T) {
	r := mustRun(t, nil)
	_, ami := builderOf(t, r)
	lt := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate")
	asg := r.one(t, "aws:autoscaling/group:Group")
	tg := r.one(t, "aws:lb/targetGroup:TargetGroup")

	if lt.Str("imageId") != out(ami, "id") || lt.Str("instanceType") != "t3.micro" {
		t.Errorf("%s: image %q type %q, want the golden image and the configured type", lt.URN, lt.Str("imageId"), lt.Str("instanceType"))
	}
	web := r.m.Named("aws:iam/instanceProfile:InstanceProfile", "web-profile")
	if propString(lt.Obj("iamInstanceProfile")["name"]) != out(web, "name") {
		t.Errorf("%s: servers must use the web servers' profile", lt.URN)
	}
	if got := convergeMode(t, userDataOf(t, lt)); got != convergeBoot {
		t.Errorf("%s: servers run converge %q, want %q", lt.URN, got, convergeBoot)
	}
	ni := lt.Inputs["networkInterfaces"].ArrayValue()
	roles := groupRoles(r)
	if len(ni) != 1 || propString(ni[0].ObjectValue()["associatePublicIpAddress"]) != "true" {
		t.Errorf("%s: want one interface with a public address (egress without NAT), got %v", lt.URN, ni)
	} else if sgs := ni[0].ObjectValue()["securityGroups"].ArrayValue(); len(sgs) != 1 || roles[propString(sgs[0])] != "web" {
		t.Errorf("%s: servers must be in the web group only, got %v", lt.URN, sgs)
	}
	specs := map[string]map[string]string{}
	for _, ts := range lt.Inputs["tagSpecifications"].ArrayValue() {
		m := map[string]string{}
		for k, v := range ts.ObjectValue()["tags"].ObjectValue() {
			m[string(k)] = propString(v)
		}
		specs[propString(ts.ObjectValue()["resourceType"])] = m
	}
	if specs["instance"][siteTagKey] != "scalable-wordpress/test" || specs["instance"]["stack"] != testStack || specs["volume"]["stack"] != testStack {
		t.Errorf("%s: instances and volumes must carry the stack's tags, instances the site tag: %v", lt.URN, specs)
	}

	var azs []string
	for _, id := range asg.Inputs["vpcZoneIdentifiers"].ArrayValue() {
		sn := r.byID(propString(id))
		if sn == nil || sn.Str("mapPublicIpOnLaunch") != "true" {
			t.Errorf("%s: %v is not a public subnet", asg.URN, id)
			continue
		}
		azs = append(azs, sn.Str("availabilityZone"))
	}
	slices.Sort(azs)
	if strings.Join(azs, ",") != "ap-northeast-1a,ap-northeast-1c" {
		t.Errorf("%s: the group must span every AZ, got %v", asg.URN, azs)
	}
	for k, v := range map[string]string{"minSize": "2", "maxSize": "6", "desiredCapacity": "2", "healthCheckType": "ELB",
		"waitForCapacityTimeout": "0"} {
		if asg.Str(k) != v {
			t.Errorf("%s: %s = %q, want %q", asg.URN, k, asg.Str(k), v)
		}
	}
	if grace := asg.Str("healthCheckGracePeriod"); grace == "" || grace == "0" {
		t.Errorf("%s: ELB health checks need a grace period that fits the configure phase", asg.URN)
	}
	ltRef := asg.Obj("launchTemplate")
	if propString(ltRef["id"]) != out(lt, "id") || propString(ltRef["version"]) != "1" {
		t.Errorf("%s: launch template %v, want the template's latest version number (never $Latest)", asg.URN, ltRef)
	}
	if tgs := asg.Inputs["targetGroupArns"].ArrayValue(); len(tgs) != 1 || propString(tgs[0]) != out(tg, "arn") {
		t.Errorf("%s: the group must register its servers in the target group, got %v", asg.URN, tgs)
	}
	if !slices.Contains(asg.IgnoreChanges, "desiredCapacity") {
		t.Errorf("%s: pulumi up must never reset the desired capacity the scaling policy set", asg.URN)
	}
	hooks := asg.Inputs["initialLifecycleHooks"].ArrayValue()
	if len(hooks) != 1 || propString(hooks[0].ObjectValue()["name"]) != launchHookName ||
		propString(hooks[0].ObjectValue()["lifecycleTransition"]) != "autoscaling:EC2_INSTANCE_LAUNCHING" ||
		propString(hooks[0].ObjectValue()["defaultResult"]) != "ABANDON" {
		t.Errorf("%s: want the launch hook the boot script completes, got %v", asg.URN, hooks)
	}

	refresh := asg.Obj("instanceRefresh")
	prefs := refresh["preferences"].ObjectValue()
	for k, v := range map[string]string{"minHealthyPercentage": "100", "skipMatching": "true", "autoRollback": "true"} {
		if propString(prefs[resourceKey(k)]) != v {
			t.Errorf("%s: instance refresh %s = %q, want %q", asg.URN, k, propString(prefs[resourceKey(k)]), v)
		}
	}
	if maxHealthy, _ := strconv.Atoi(propString(prefs["maxHealthyPercentage"])); propString(refresh["strategy"]) != "Rolling" || maxHealthy <= 100 {
		t.Errorf("%s: want a rolling refresh that launches before it terminates (max healthy over 100), got %v", asg.URN, refresh)
	}
	if propString(prefs["instanceWarmup"]) == "" {
		t.Errorf("%s: the refresh needs a warm-up matching the boot", asg.URN)
	}
	// Which alarms the refresh watches, and how they fire: rolloutalarms_test.go.
	if alarms := prefs["alarmSpecification"].ObjectValue()["alarms"]; !alarms.IsArray() || len(alarms.ArrayValue()) == 0 {
		t.Errorf("%s: the refresh watches no alarm, so nothing rolls a bad release back", asg.URN)
	}

	var complete *recorded
	for _, p := range r.ofType("aws:iam/rolePolicy:RolePolicy") {
		if strings.Contains(p.Str("policy"), "CompleteLifecycleAction") {
			complete = p
		}
	}
	if complete == nil || !strings.Contains(complete.Str("policy"), `"Resource":["`+out(asg, "arn")+`"]`) || complete.Str("role") != out(r.m.Named("aws:iam/role:Role", "web-role"), "name") {
		t.Errorf("the servers may complete the launch of their own group only: %v", complete)
	}
	if len(servers(r)) != 1 {
		t.Errorf("the autoscaling mode runs no fixed server, only the builder; got %d instances", len(servers(r)))
	}
}

// A refresh replaces half the servers, waits releaseBakeMinutes while they serve under the
// rollout alarms, then replaces the rest: the checkpoints end in 100 (else the refresh stops
// with the group half rolled), and the delay is the configured bake in seconds, which is at
// least what the slowest rollout alarm needs to fire.
func TestRefreshBakesHalfTheServersUnderTheAlarms(t *testing.T) {
	def, _ := strconv.Atoi(configText(readProjectFile(t).Config["releaseBakeMinutes"].Default))
	for _, c := range []struct {
		overrides map[string]string
		delay     string
	}{
		{nil, strconv.Itoa(def * 60)},
		{map[string]string{"releaseBakeMinutes": "7"}, "420"},
		{map[string]string{"releaseBakeMinutes": strconv.Itoa(minReleaseBakeMinutes())}, strconv.Itoa(minReleaseBakeMinutes() * 60)},
	} {
		r := mustRun(t, c.overrides)
		asg := r.one(t, "aws:autoscaling/group:Group")
		prefs := asg.Obj("instanceRefresh")["preferences"].ObjectValue()
		var checkpoints []string
		for _, p := range prefs["checkpointPercentages"].ArrayValue() {
			checkpoints = append(checkpoints, propString(p))
		}
		if strings.Join(checkpoints, ",") != "50,100" {
			t.Errorf("%v: checkpoints %v, want half the servers, then the rest (50, 100)", c.overrides, checkpoints)
		}
		if got := propString(prefs["checkpointDelay"]); got != c.delay {
			t.Errorf("%v: checkpoint delay %q, want %s (seconds)", c.overrides, got, c.delay)
		}
		bake, _ := strconv.Atoi(propString(prefs["checkpointDelay"]))
		for _, name := range prefs["alarmSpecification"].ObjectValue()["alarms"].ArrayValue() {
			a := r.byID(propString(name))
			if a == nil {
				t.Fatalf("the refresh watches %s, which the program does not create", propString(name))
			}
			period, _ := strconv.Atoi(a.Str("period"))
			if q := a.Inputs[resourceKey("metricQueries")]; q.IsArray() {
				for _, e := range q.ArrayValue() {
					if m, ok := e.ObjectValue()[resourceKey("metric")]; ok && m.IsObject() {
						p, _ := strconv.Atoi(propString(m.ObjectValue()[resourceKey("period")]))
						period = max(period, p)
					}
				}
			}
			evaluations, _ := strconv.Atoi(a.Str("evaluationPeriods"))
			if need := evaluations*period + cloudWatchDelaySeconds; period == 0 || bake < need {
				t.Errorf("%v: a %d s bake is shorter than %s needs to fire (%d × %d s and CloudWatch's %d s)", c.overrides, bake, a.Name, evaluations, period, cloudWatchDelaySeconds)
			}
		}
	}
}

func TestScalingPolicy(t *testing.T) {
	for _, c := range []struct {
		overrides      map[string]string
		metric, target string
	}{
		// By default the target is derived from the type's measured capacity (capacity.go).
		{nil, "ALBRequestCountPerTarget", strconv.Itoa(derivedScalingRequests("t3.micro"))},
		{map[string]string{"instanceType": "t3.small"}, "ALBRequestCountPerTarget", strconv.Itoa(derivedScalingRequests("t3.small"))},
		{map[string]string{"scalingRequestsPerTarget": "1200"}, "ALBRequestCountPerTarget", "1200"},
		{map[string]string{"scalingMetric": "cpu", "scalingCpuPercent": "60"}, "ASGAverageCPUUtilization", "60"},
	} {
		r := mustRun(t, c.overrides)
		p := r.one(t, "aws:autoscaling/policy:Policy")
		ttc := p.Obj("targetTrackingConfiguration")
		spec := ttc["predefinedMetricSpecification"].ObjectValue()
		if p.Str("policyType") != "TargetTrackingScaling" || p.Str("autoscalingGroupName") != out(r.one(t, "aws:autoscaling/group:Group"), "name") ||
			propString(spec["predefinedMetricType"]) != c.metric || propString(ttc["targetValue"]) != c.target {
			t.Errorf("%v: %s tracks %v at %s, want %s at %s", c.overrides, p.URN, spec, propString(ttc["targetValue"]), c.metric, c.target)
		}
		if c.metric == "ALBRequestCountPerTarget" {
			alb, tg := r.one(t, "aws:lb/loadBalancer:LoadBalancer"), r.one(t, "aws:lb/targetGroup:TargetGroup")
			if want := out(alb, "arnSuffix") + "/" + out(tg, "arnSuffix"); propString(spec["resourceLabel"]) != want {
				t.Errorf("%s: resource label %q, want %q", p.URN, propString(spec["resourceLabel"]), want)
			}
		}
	}
}

// The hands-on's layout: server 1 serves and is imaged, servers 2..N launch from the image,
// all registered in the target group and spread over the AZs.
func TestFixedMode(t *testing.T) {
	r := mustRun(t, map[string]string{"webTierMode": "fixed", "webServerCount": "3"})
	s := servers(r)
	if len(s) != 3 || len(r.ofType("aws:autoscaling/group:Group")) != 0 || len(r.ofType("aws:ec2/launchTemplate:LaunchTemplate")) != 0 {
		t.Fatalf("fixed mode: want 3 servers and no group, got %d servers", len(s))
	}
	builder, ami := builderOf(t, r)
	if len(r.ofType("aws:ec2transitgateway/instanceState:InstanceState")) != 0 {
		t.Error("fixed mode: server 1 serves; it must not be stopped")
	}
	roles := groupRoles(r)
	web := r.m.Named("aws:iam/instanceProfile:InstanceProfile", "web-profile")
	perAZ := map[string]int{}
	for _, inst := range s {
		if inst != builder && inst.Str("ami") != out(ami, "id") {
			t.Errorf("%s: servers other than the first must launch from its image, got ami %q", inst.URN, inst.Str("ami"))
		}
		if got := convergeMode(t, userDataOf(t, inst)); got != convergeBoot {
			t.Errorf("%s: converge %q, want %q", inst.URN, got, convergeBoot)
		}
		if inst.Str("iamInstanceProfile") != out(web, "name") || propString(inst.Obj("tags")[siteTagKey]) != "scalable-wordpress/test" {
			t.Errorf("%s: a serving server needs the web profile and the site tag", inst.URN)
		}
		if sgs := inst.Inputs["vpcSecurityGroupIds"].ArrayValue(); len(sgs) != 1 || roles[sgs[0].StringValue()] != "web" {
			t.Errorf("%s: security groups %v, want only the web group", inst.URN, sgs)
		}
		perAZ[out(inst, "availabilityZone")]++
	}
	if perAZ["ap-northeast-1a"] != 2 || perAZ["ap-northeast-1c"] != 1 {
		t.Errorf("3 servers over 1a/1c: got %v, want 2 and 1", perAZ)
	}
	var targets, ids []string
	for _, a := range r.ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment") {
		targets = append(targets, a.Str("targetId"))
	}
	for _, inst := range s {
		ids = append(ids, out(inst, "id"))
	}
	if !sameSet(targets, ids) {
		t.Errorf("every server must be registered once: targets %v, servers %v", targets, ids)
	}
}

func TestServersSpreadOverEveryAZ(t *testing.T) {
	for _, n := range []int{2, 4, 5} {
		r := mustRun(t, map[string]string{"webTierMode": "fixed", "webServerCount": fmt.Sprint(n)})
		perAZ := map[string]int{}
		for _, inst := range servers(r) {
			perAZ[out(inst, "availabilityZone")]++
		}
		a, c := perAZ["ap-northeast-1a"], perAZ["ap-northeast-1c"]
		if a+c != n || a-c > 1 || c-a > 1 || c == 0 {
			t.Errorf("webServerCount=%d: spread %v, want balanced over both AZs", n, perAZ)
		}
	}
}

func TestSingleServerStillGetsImage(t *testing.T) {
	r := mustRun(t, map[string]string{"webTierMode": "fixed", "webServerCount": "1"})
	if len(servers(r)) != 1 || len(r.ofType("aws:ec2/amiFromInstance:AmiFromInstance")) != 1 {
		t.Errorf("webServerCount=1: want one server and its image")
	}
}

// In the autoscaling mode the builder prepares an image for every server size: changing the
// servers' type, root volume or key pair must roll the group from the same image, not
// rebuild the builder and the image (a stopped builder would be started to resize it).
func TestBuilderIndependentOfServerMachine(t *testing.T) {
	base, _ := builderOf(t, mustRun(t, nil))
	for key, value := range map[string]string{"instanceType": "t3.small", "rootVolumeSizeGiB": "40", "keyPairName": "ops"} {
		r := mustRun(t, map[string]string{key: value})
		builder, _ := builderOf(t, r)
		for _, input := range []string{"instanceType", "keyName", "rootBlockDevice", "userData", "ami"} {
			if !reflect.DeepEqual(builder.Inputs[resource.PropertyKey(input)], base.Inputs[resource.PropertyKey(input)]) {
				t.Errorf("%s=%s changes the builder's %s: %v -> %v", key, value, input,
					base.Inputs[resource.PropertyKey(input)], builder.Inputs[resource.PropertyKey(input)])
			}
		}
	}
	if b, _ := builderOf(t, mustRun(t, map[string]string{"instanceType": "t4g.large"})); b.Str("instanceType") != "t4g.micro" {
		t.Errorf("an arm64 fleet needs an arm64 builder of the smallest size, got %q", b.Str("instanceType"))
	}
	if b, _ := builderOf(t, mustRun(t, map[string]string{"webTierMode": "fixed", "instanceType": "t3.small"})); b.Str("instanceType") != "t3.small" {
		t.Errorf("in the fixed mode the builder is server 1 and serves: it must have the servers' type, got %q", b.Str("instanceType"))
	}
}

func TestPinnedAMIAndGraviton(t *testing.T) {
	r := mustRun(t, map[string]string{"amiId": "ami-0123456789abcdef0", "keyPairName": "ops"})
	if builder, _ := builderOf(t, r); builder.Str("ami") != "ami-0123456789abcdef0" || builder.Str("keyName") != "" {
		t.Errorf("the builder must launch from the pinned amiId, without the servers' key pair (nobody logs in to it)")
	}
	if lt := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate"); lt.Str("keyName") != "ops" {
		t.Errorf("%s: keyName %q", lt.URN, lt.Str("keyName"))
	}
	if slices.Contains(r.m.Calls, "aws:ssm/getParameter:getParameter") {
		t.Errorf("a pinned amiId must not look up the latest image")
	}
	for typ, want := range map[string]string{"t3.micro": "x86_64", "t4g.small": "arm64", "m7gd.large": "arm64",
		"c7gn.xlarge": "arm64", "g5.xlarge": "x86_64", "m6a.large": "x86_64", "r7iz.large": "x86_64"} {
		if got := architecture(typ); got != want {
			t.Errorf("architecture(%q) = %q, want %q", typ, got, want)
		}
	}
}

// The servers may read exactly their two secrets, the master credential (for the boot script
// to create WordPress's database user, while dbServersReadMaster allows it) and the stack's
// settings path, find their own group, and nothing else.
func TestServerRoleIsScopedToItsOwnSecretsAndSettings(t *testing.T) {
	r := mustRun(t, nil)
	role := r.m.Named("aws:iam/role:Role", "web-role")
	assume := jsonInput(t, role, "assumeRolePolicy")
	stmt := assume["Statement"].([]any)[0].(map[string]any)
	if stmt["Principal"].(map[string]any)["Service"] != "ec2.amazonaws.com" || stmt["Action"] != "sts:AssumeRole" {
		t.Errorf("%s: trust policy %v", role.URN, assume)
	}
	got := map[string][]string{}
	for _, g := range roleGrants(t, r, out(role, "name")) {
		got[g.action] = append(got[g.action], g.resource)
	}
	var secretARNs []string
	for _, s := range r.ofType("aws:secretsmanager/secret:Secret") {
		secretARNs = append(secretARNs, out(s, "arn"))
	}
	secretARNs = append(secretARNs, rdsMasterSecretArn(t, r))
	path := "arn:aws:ssm:ap-northeast-1:" + testAccount + ":parameter/scalable-wordpress/test"
	want := map[string][]string{
		"secretsmanager:GetSecretValue":            secretARNs,
		"ssm:GetParametersByPath":                  {path, path + "/*"},
		"autoscaling:DescribeAutoScalingInstances": {"*"}, // no resource-level permissions exist for it
		"autoscaling:CompleteLifecycleAction":      {out(r.one(t, "aws:autoscaling/group:Group"), "arn")},
	}
	// The log agent: streams of the four shipped groups only (not the database events').
	var shipped []string
	for _, g := range r.ofType("aws:cloudwatch/logGroup:LogGroup") {
		if strings.Contains(g.URN, "ServerLogs$") && !strings.HasSuffix(g.Str("name"), "/"+dbEventsLogLeaf) {
			shipped = append(shipped, out(g, "arn")+":*")
		}
	}
	if len(shipped) != len(serverLogs) {
		t.Errorf("%d shipped log groups, want %d", len(shipped), len(serverLogs))
	}
	for _, action := range shipLogsActions {
		want[action] = shipped
	}
	for _, action := range pipeline.SSMAgentActions {
		want[action] = []string{"*"}
	}
	if len(got) != len(want) {
		t.Errorf("the servers' role allows %v, want exactly %v", got, want)
	}
	for action, res := range want {
		if !sameSet(got[action], res) {
			t.Errorf("%s on %v, want %v", action, got[action], res)
		}
	}
}

// The boot script reads the settings where the program writes them: a wrong path would leave
// every server waiting for settings that never appear.
func TestUserDataNamesTheSettingsPath(t *testing.T) {
	r := mustRun(t, nil)
	vars := convergeVariables(t, userDataOf(t, r.one(t, "aws:ec2/launchTemplate:LaunchTemplate")), "SETTINGS_PATH", "REGION", "LAUNCH_HOOK")
	for _, p := range r.ofType("aws:ssm/parameter:Parameter") {
		if dir := p.Str("name")[:strings.LastIndex(p.Str("name"), "/")]; dir != vars["SETTINGS_PATH"] {
			t.Errorf("%s: written under %s, the servers read %s", p.URN, dir, vars["SETTINGS_PATH"])
		}
	}
	db := r.one(t, "aws:rds/instance:Instance")
	if handoffParameter(t, r, out(db, "address")).Str("name") != vars["SETTINGS_PATH"]+"/"+dbHostParameterLeaf {
		t.Error("the database endpoint is not where settings.php looks for it")
	}
	site := jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
	for _, k := range siteSettings {
		if _, ok := site[k]; !ok {
			t.Errorf("the site settings lack %s, which the servers require", k)
		}
	}
	app, _ := userSecret(t, r, dbAppUser)
	if site[settingWPSecret] != out(secretHolding(t, r, "admin_password"), "arn") || site[settingDBAppSecret] != out(app, "arn") {
		t.Errorf("the site settings do not name the secrets the program created: %v", site)
	}
	hook := r.one(t, "aws:autoscaling/group:Group").Inputs["initialLifecycleHooks"].ArrayValue()[0].ObjectValue()["name"]
	if vars["REGION"] != "ap-northeast-1" || vars["LAUNCH_HOOK"] != propString(hook) {
		t.Errorf("boot script region %q, launch hook %q", vars["REGION"], vars["LAUNCH_HOOK"])
	}
}

// Site settings live in SSM: two stacks that differ only in them boot the same user data, so
// changing a setting never restarts or replaces a server. The image recipe does change it.
func TestUserDataIsTheSameWhateverTheSiteSettings(t *testing.T) {
	userData := func(overrides map[string]string) (builder, template string) {
		r := mustRun(t, overrides)
		b, _ := builderOf(t, r)
		return b.Str("userDataBase64"), r.one(t, "aws:ec2/launchTemplate:LaunchTemplate").Str("userData")
	}
	b0, lt0 := userData(nil)
	for _, settings := range []map[string]string{
		{"siteTitle": "Another title"},
		{"adminEmail": "someone@example.org", "adminUser": "editor-in-chief"},
		{"siteDomain": "www.example.com", "certificateArn": testCDNCertificate},
		{"edge": edgeALB, "siteDomain": "www.example.com", "certificateArn": testALBCertificate},
		{"cdnPageTtlSeconds": "600", "waf": "false"},
		{"webMaxSize": "10", "scalingMetric": "cpu", "dbInstanceClass": "db.t4g.small"},
	} {
		if b, lt := userData(settings); b != b0 || lt != lt0 {
			t.Errorf("%v changed the user data: it must reach servers through SSM, not a new boot", settings)
		}
	}
	for _, recipe := range []map[string]string{{"phpVersion": "8.4"}, {"wordpressLocale": "en_US"}} {
		if b, lt := userData(recipe); b == b0 || lt == lt0 {
			t.Errorf("%v is part of the image: it must change the user data and so roll new servers", recipe)
		}
	}
}

// convergeVariables runs the settings block of a boot script and returns the named variables'
// values as bash sees them.
func convergeVariables(t *testing.T, script string, names ...string) map[string]string {
	t.Helper()
	start := strings.Index(script, "readonly PHP_VERSION=")
	end := strings.Index(script, "\nexport AWS_DEFAULT_REGION")
	if start < 0 || end < start {
		t.Fatalf("user data has no settings block")
	}
	block := script[start:end] + "\n"
	for _, n := range names {
		block += fmt.Sprintf("printf '%%s\\0' \"$%s\"\n", n)
	}
	outb, err := exec.Command("bash", "-c", block).Output()
	if err != nil {
		t.Fatalf("settings block does not run: %v", err)
	}
	values := strings.Split(string(outb), "\x00")
	got := map[string]string{}
	for i, n := range names {
		got[n] = values[i]
	}
	return got
}

func TestWordPressSecretShape(t *testing.T) {
	r := mustRun(t, nil)
	_, v := secretDocument(t, r, "admin_password")
	generated := map[string]*recorded{}
	for _, p := range r.ofType("random:index/randomPassword:RandomPassword") {
		generated[p.Outputs["result"].SecretValue().Element.StringValue()] = p
	}
	if p := generated[fmt.Sprint(v["admin_password"])]; p == nil || p.Str("length") != "24" {
		t.Errorf("admin_password is not a generated 24-character password")
	} else if p.Str("overrideSpecial") != "" || p.Str("special") == "false" {
		// The provider's default specials hold no ' " \, which WordPress's login form slashes.
		t.Errorf("%s: the admin password must use the provider's default specials (no quotes or backslashes), got %q", p.URN, p.Str("overrideSpecial"))
	}
	salts, _ := v["salts"].(map[string]any)
	seen := map[string]bool{}
	for _, n := range wordpressSaltNames {
		s, _ := salts[n].(string)
		if p := generated[s]; p == nil || len(s) != saltLength {
			t.Errorf("salt %s is not a generated %d-character value", n, saltLength)
		}
		if seen[s] {
			t.Errorf("salt %s repeats another salt's value", n)
		}
		seen[s] = true
	}
	if len(salts) != len(wordpressSaltNames) {
		t.Errorf("want the 8 salts by name, got %d", len(salts))
	}
	if _, err := wordpressSecretJSON("pw", []string{"only-one"}); err == nil {
		t.Error("a missing salt must be an error")
	}
}

// decodeUserData reads back what userDataPayload made; base64 alone is not enough.
func TestUserDataPayloadIsGzip(t *testing.T) {
	p, err := userDataPayload("#!/bin/bash\necho hi\n")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(p)
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		t.Errorf("user data must be gzip (cloud-init's magic 1f 8b), got % x", raw[:2])
	}
}

// The image recipe in config reaches the boot script the builder and the servers run: the
// pinned release's archive, and the plugin and theme lists as the config gives them.
func TestUserDataCarriesTheImageRecipe(t *testing.T) {
	theme := "twentytwentyfive@1.2:" + strings.Repeat("ab", 32)
	r := mustRun(t, map[string]string{"wordpressVersion": "6.9.1", "wordpressPlugins": `["akismet@5.3.3","wordfence@8.0.1"]`,
		"wordpressThemes": `["` + theme + `"]`})
	builder, _ := builderOf(t, r)
	for _, res := range []*recorded{builder, r.one(t, "aws:ec2/launchTemplate:LaunchTemplate")} {
		vars := convergeVariables(t, userDataOf(t, res), "WP_ARCHIVE_URL", "WP_PLUGINS", "WP_THEMES")
		want := map[string]string{"WP_ARCHIVE_URL": "https://ja.wordpress.org/wordpress-6.9.1-ja.tar.gz",
			"WP_PLUGINS": "akismet@5.3.3 wordfence@8.0.1", "WP_THEMES": theme}
		for k, v := range want {
			if vars[k] != v {
				t.Errorf("%s: %s = %q, want %q", res.URN, k, vars[k], v)
			}
		}
	}
}

// prepareWait is the association through which Pulumi waits for the builder's prepare phase.
func prepareWait(t *testing.T, r *stackRun) *recorded {
	t.Helper()
	for _, a := range r.ofType("aws:ssm/association:Association") {
		if a.Str("waitForSuccessTimeoutSeconds") != "" {
			return a
		}
	}
	t.Fatal("no association waits for the builder's prepare phase")
	return nil
}
