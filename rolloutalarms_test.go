package main

// The rollout alarms, as registered: the refresh watches exactly them; each is evaluated
// every minute; the converge failures' alarm reads the metric the converge log's filter
// writes; and the 5xx share, computed here from the alarm's own metric math, fires on a
// broken release of a quiet site but not on its stray errors.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

const metricAlarmType = "aws:cloudwatch/metricAlarm:MetricAlarm"

func TestRolloutAlarmsAreWhatTheRefreshWatches(t *testing.T) {
	r := mustRun(t, nil)
	asg := r.one(t, "aws:autoscaling/group:Group")
	var watched []string
	for _, a := range asg.Obj("instanceRefresh")["preferences"].ObjectValue()["alarmSpecification"].ObjectValue()["alarms"].ArrayValue() {
		watched = append(watched, propString(a))
	}
	var rollout []string
	for _, n := range []string{"unhealthy-hosts", "rollout-5xx-rate", "converge-failures"} {
		rollout = append(rollout, out(r.m.Named(metricAlarmType, "lb-"+n), "name"))
	}
	slices.Sort(watched)
	slices.Sort(rollout)
	if !slices.Equal(watched, rollout) {
		t.Errorf("the refresh watches %v, want the rollout alarms %v", watched, rollout)
	}
	for _, a := range r.ofType(metricAlarmType) {
		if strings.HasSuffix(a.Name, "-converge-failures") && a.Name != "lb-converge-failures" {
			t.Errorf("%s: one alarm on the converge failures, the rollout one (two would page twice per failure)", a.URN)
		}
	}

	for name, want := range map[string]map[string]string{
		"lb-unhealthy-hosts": {"metricName": "UnHealthyHostCount", "statistic": "Maximum", "period": "60",
			"evaluationPeriods": "2", "datapointsToAlarm": "2", "threshold": "0", "comparisonOperator": "GreaterThanThreshold"},
		"lb-converge-failures": {"namespace": metricsNamespace, "statistic": "Sum", "period": "60",
			"evaluationPeriods": "1", "datapointsToAlarm": "1", "threshold": "1", "comparisonOperator": "GreaterThanOrEqualToThreshold"},
		"lb-rollout-5xx-rate": {"evaluationPeriods": "3", "datapointsToAlarm": "2", "threshold": strconv.Itoa(rollout5xxPercent),
			"comparisonOperator": "GreaterThanThreshold", "treatMissingData": "notBreaching"},
	} {
		a := r.m.Named(metricAlarmType, name)
		for k, v := range want {
			if got := a.Str(k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}

	// A new server's failed converge logs one FAILED line, which the filter counts into the
	// metric the alarm reads.
	filter := r.m.Named("aws:cloudwatch/logMetricFilter:LogMetricFilter", "logs-converge-failures")
	alarm := r.m.Named(metricAlarmType, "lb-converge-failures")
	tr := filter.Obj("metricTransformation")
	if propString(tr["name"]) != alarm.Str("metricName") || propString(tr["namespace"]) != alarm.Str("namespace") || propString(tr["value"]) != "1" {
		t.Errorf("the converge failures filter (%s/%s) does not feed %s (%s/%s)", propString(tr["namespace"]), propString(tr["name"]),
			alarm.URN, alarm.Str("namespace"), alarm.Str("metricName"))
	}

	// The 5xx share: the target group's requests and the servers' 5xx, and the load
	// balancer's own 5xx (which CloudWatch has per load balancer only), each a 1-minute sum.
	alb, tg := out(r.one(t, "aws:lb/loadBalancer:LoadBalancer"), "arnSuffix"), out(r.one(t, "aws:lb/targetGroup:TargetGroup"), "arnSuffix")
	q := rateQueries(t, r.m.Named(metricAlarmType, "lb-rollout-5xx-rate"))
	for metric, dims := range map[string]map[string]string{
		"RequestCount":              {"LoadBalancer": alb, "TargetGroup": tg},
		"HTTPCode_Target_5XX_Count": {"LoadBalancer": alb, "TargetGroup": tg},
		"HTTPCode_ELB_5XX_Count":    {"LoadBalancer": alb},
	} {
		m, ok := q.metrics[metric]
		if !ok {
			t.Errorf("the 5xx share reads no %s (queries %v)", metric, q.metrics)
			continue
		}
		if m.namespace != "AWS/ApplicationELB" || m.stat != "Sum" || m.period != "60" || fmt.Sprint(m.dims) != fmt.Sprint(dims) {
			t.Errorf("the 5xx share reads %s as %+v, want the Sum over 60 s of AWS/ApplicationELB with %v", metric, m, dims)
		}
	}
}

// The 5xx share as CloudWatch computes it from the registered alarm, minute by minute, over
// what the load balancer reports: a release is rolled back when it breaks the site for the
// users a quiet site has, and not for one error among a handful of requests.
func TestRollout5xxRateFiresOnABrokenReleaseOnly(t *testing.T) {
	r := mustRun(t, nil)
	a := r.m.Named(metricAlarmType, "lb-rollout-5xx-rate")
	q := rateQueries(t, a)
	threshold, _ := strconv.ParseFloat(a.Str("threshold"), 64)
	evaluations, _ := strconv.Atoi(a.Str("evaluationPeriods"))
	over, _ := strconv.Atoi(a.Str("datapointsToAlarm"))
	if a.Str("comparisonOperator") != "GreaterThanThreshold" || a.Str("treatMissingData") != "notBreaching" {
		t.Fatalf("%s: %s, missing data %s: the simulation below assumes GreaterThanThreshold, notBreaching",
			a.URN, a.Str("comparisonOperator"), a.Str("treatMissingData"))
	}
	type minute = map[string]float64 // metric name -> the minute's sum; absent: no data
	const req, target, elb = "RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"
	repeat := func(m minute, n int) []minute { return slices.Repeat([]minute{m}, n) }
	for _, c := range []struct {
		name    string
		minutes []minute
		fires   bool
	}{
		{"no traffic", repeat(minute{}, 5), false},
		{"healthy busy site", repeat(minute{req: 300, target: 3}, 5), false},
		{"quiet site, one 500 out of 2 requests every minute", repeat(minute{req: 2, target: 1}, 5), false},
		{"fewer requests than the guard, all failing", repeat(minute{req: rolloutMinRequests - 1, target: rolloutMinRequests - 1}, 5), false},
		{"one bad minute", []minute{{req: 50, target: 25}, {req: 50}, {req: 50}, {req: 50}}, false},
		{"quiet site, the new server fails every page", repeat(minute{req: rolloutMinRequests, target: 3}, 2), true},
		{"quiet site, every page fails", repeat(minute{req: rolloutMinRequests, target: rolloutMinRequests}, 2), true},
		{"a fifth of the new half's pages fail", repeat(minute{req: 100, target: 12}, 2), true},
		{"the new server resets connections (the load balancer's 502)", repeat(minute{req: 20, elb: 10}, 2), true},
		{"bad minutes 1 and 3 of 3", []minute{{req: 40, target: 20}, {req: 40}, {req: 40, target: 20}}, true},
	} {
		firedAt := -1
		var breaching []bool
		for i, m := range c.minutes {
			v := evalMetricMath(t, q.expr, func(id string) float64 {
				name, ok := q.ids[id]
				if !ok {
					t.Fatalf("%s: the expression %q names %s, which no query is", a.URN, q.expr, id)
				}
				if v, ok := m[name]; ok {
					return v
				}
				return math.NaN()
			})
			breaching = append(breaching, !math.IsNaN(v) && v > threshold) // missing data: not breaching
			window := breaching[max(0, len(breaching)-evaluations):]
			if n := len(slices.DeleteFunc(slices.Clone(window), func(b bool) bool { return !b })); n >= over && firedAt < 0 {
				firedAt = i + 1
			}
		}
		switch {
		case c.fires && firedAt < 0:
			t.Errorf("%s: the alarm does not fire (minutes breaching: %v)", c.name, breaching)
		case !c.fires && firedAt >= 0:
			t.Errorf("%s: the alarm fires in minute %d (minutes breaching: %v): it would roll a good release back", c.name, firedAt, breaching)
		case c.fires && firedAt > evaluations:
			t.Errorf("%s: the alarm fires only in minute %d, past its %d-minute window that the bake allows for", c.name, firedAt, evaluations)
		}
	}
}

// rateQuery is the 5xx share's metric math: its metrics by name and by query id, and the
// expression that returns the data.
type rateQuery struct {
	metrics map[string]mathMetric // by metric name
	ids     map[string]string     // query id -> metric name
	expr    string
}

type mathMetric struct {
	namespace, stat, period string
	dims                    map[string]string
}

func rateQueries(t *testing.T, a *recorded) rateQuery {
	t.Helper()
	q := rateQuery{metrics: map[string]mathMetric{}, ids: map[string]string{}}
	queries := a.Inputs[resourceKey("metricQueries")]
	if !queries.IsArray() || a.Str("metricName") != "" {
		t.Fatalf("%s: want metric math, not one metric", a.URN)
	}
	all := queries.ArrayValue()
	for i, e := range all {
		o := e.ObjectValue()
		returns := propString(o[resourceKey("returnData")]) == "true"
		if returns != (i == len(all)-1) {
			t.Errorf("%s: query %s returnData %v; only the last (the expression) returns data", a.URN, propString(o[resourceKey("id")]), returns)
		}
		if m, ok := o[resourceKey("metric")]; ok && m.IsObject() {
			mo := m.ObjectValue()
			name := propString(mo[resourceKey("metricName")])
			q.ids[propString(o[resourceKey("id")])] = name
			q.metrics[name] = mathMetric{namespace: propString(mo[resourceKey("namespace")]), stat: propString(mo[resourceKey("stat")]),
				period: propString(mo[resourceKey("period")]), dims: stringMap(mo[resourceKey("dimensions")].ObjectValue())}
			continue
		}
		q.expr = propString(o[resourceKey("expression")])
	}
	if q.expr == "" {
		t.Fatalf("%s: no expression", a.URN)
	}
	return q
}

// evalMetricMath computes a CloudWatch metric-math expression for one period, in the subset
// the program's alarms use: numbers, query ids (NaN when the query has no data), + - * /,
// comparisons (1 or 0), parentheses, IF(condition, then, else) and FILL(query, value).
func evalMetricMath(t *testing.T, expr string, value func(id string) float64) float64 {
	t.Helper()
	p := &mathParser{t: t, expr: expr, value: value}
	p.tokenize()
	v := p.comparison()
	if p.pos != len(p.tokens) {
		t.Fatalf("metric math %q: unexpected %q", expr, p.tokens[p.pos])
	}
	return v
}

type mathParser struct {
	t      *testing.T
	expr   string
	tokens []string
	pos    int
	value  func(string) float64
}

func (p *mathParser) tokenize() {
	s := p.expr
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '.':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '.') {
				j++
			}
			p.tokens, i = append(p.tokens, s[i:j]), j
		case strings.HasPrefix(s[i:], ">=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], "=="):
			p.tokens, i = append(p.tokens, s[i:i+2]), i+2
		case strings.ContainsRune("+-*/()<>,", c):
			p.tokens, i = append(p.tokens, s[i:i+1]), i+1
		default:
			p.t.Fatalf("metric math %q: unexpected %q", p.expr, c)
		}
	}
}

func (p *mathParser) peek() string {
	if p.pos < len(p.tokens) {
		return p.tokens[p.pos]
	}
	return ""
}

func (p *mathParser) expect(tok string) {
	if p.peek() != tok {
		p.t.Fatalf("metric math %q: want %q at token %d, got %q", p.expr, tok, p.pos, p.peek())
	}
	p.pos++
}

func (p *mathParser) comparison() float64 {
	l := p.sum()
	op := p.peek()
	if !slices.Contains([]string{">", ">=", "<", "<=", "=="}, op) {
		return l
	}
	p.pos++
	r := p.sum()
	truth := map[string]bool{">": l > r, ">=": l >= r, "<": l < r, "<=": l <= r, "==": l == r}[op]
	if truth {
		return 1
	}
	return 0
}

func (p *mathParser) sum() float64 {
	v := p.product()
	for p.peek() == "+" || p.peek() == "-" {
		op := p.peek()
		p.pos++
		if r := p.product(); op == "+" {
			v += r
		} else {
			v -= r
		}
	}
	return v
}

func (p *mathParser) product() float64 {
	v := p.operand()
	for p.peek() == "*" || p.peek() == "/" {
		op := p.peek()
		p.pos++
		if r := p.operand(); op == "*" {
			v *= r
		} else {
			v /= r
		}
	}
	return v
}

func (p *mathParser) operand() float64 {
	tok := p.peek()
	p.pos++
	switch {
	case tok == "(":
		v := p.comparison()
		p.expect(")")
		return v
	case tok == "IF":
		p.expect("(")
		cond := p.comparison()
		p.expect(",")
		then := p.comparison()
		p.expect(",")
		otherwise := p.comparison()
		p.expect(")")
		if cond != 0 && !math.IsNaN(cond) {
			return then
		}
		return otherwise
	case tok == "FILL":
		p.expect("(")
		v := p.comparison()
		p.expect(",")
		fill := p.comparison()
		p.expect(")")
		if math.IsNaN(v) {
			return fill
		}
		return v
	case tok != "" && (unicode.IsDigit(rune(tok[0])) || tok[0] == '.'):
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			p.t.Fatalf("metric math %q: %v", p.expr, err)
		}
		return f
	case tok != "" && unicode.IsLetter(rune(tok[0])) && p.peek() != "(":
		return p.value(tok)
	}
	p.t.Fatalf("metric math %q: unexpected %q at token %d (a function the simulation does not know?)", p.expr, tok, p.pos-1)
	return 0
}
