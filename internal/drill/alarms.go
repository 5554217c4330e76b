package drill

// The stack's alarms as the drill sees them: which are already in ALARM before it acts, and
// which went into ALARM during each phase.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// maxHistoryPages bounds the pages of one alarm's history read for one phase.
const maxHistoryPages = 5

// alarmNames are the stack's alarms, the failover alarm included, each once.
func (t Target) alarmNames() []string {
	names := slices.Clone(t.AlarmNames)
	if t.DBFailoverAlarm != "" && !slices.Contains(names, t.DBFailoverAlarm) {
		names = append(names, t.DBFailoverAlarm)
	}
	slices.Sort(names)
	return names
}

// preflightAlarms reads the alarms' states. The failover alarm must exist and must not be
// in ALARM already (from an earlier failover): it could not fire again, and the drill would
// report a silent alarm that is not silent.
func (d *Drill) preflightAlarms(ctx context.Context, f *facts) error {
	names := d.Target.alarmNames()
	if len(names) == 0 || d.CW == nil {
		return nil
	}
	state := map[string]cwtypes.StateValue{}
	for chunk := range slices.Chunk(names, 100) {
		out, err := d.CW.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk, MaxRecords: aws.Int32(100)})
		if err != nil {
			return awsErr(ctx, "CloudWatch DescribeAlarms", err)
		}
		for _, a := range out.MetricAlarms {
			state[aws.ToString(a.AlarmName)] = a.StateValue
		}
	}
	for _, n := range names {
		if state[n] == cwtypes.StateValueAlarm {
			f.alarming = append(f.alarming, n)
		}
	}
	if name := d.Target.DBFailoverAlarm; name != "" && !d.Opts.SkipDB {
		switch state[name] {
		case "":
			return fmt.Errorf("the stack's failover alarm %s was not found in %s: deploy the stack first", name, d.Target.Region)
		case cwtypes.StateValueAlarm:
			return fmt.Errorf("the failover alarm %s is already in ALARM (a recent failover?): it cannot fire again until it is back to OK; retry in a few minutes", name)
		}
	}
	return nil
}

// noteAlarms records in the phase which of the stack's alarms went into ALARM during it.
// A failure to read them is noted, not fatal: the drill's measurements stand without it.
func (d *Drill) noteAlarms(ctx context.Context, p *Phase) {
	if d.CW == nil || ctx.Err() != nil {
		return
	}
	for _, name := range d.Target.alarmNames() {
		fired, err := d.alarmFired(ctx, name, p.started)
		if err != nil {
			d.logf("%s", p.event(d.Clock.Now(), "could not read the alarms' history: %v", err))
			return
		}
		if fired {
			p.AlarmsFired = append(p.AlarmsFired, name)
		}
	}
	if len(p.AlarmsFired) > 0 {
		d.logf("%s", p.event(d.Clock.Now(), "alarms fired: %s", strings.Join(p.AlarmsFired, ", ")))
	}
}

// alarmFired reports whether the alarm went into ALARM since the time, from its history.
func (d *Drill) alarmFired(ctx context.Context, name string, since time.Time) (bool, error) {
	if d.CW == nil {
		return false, nil
	}
	var token *string
	for range maxHistoryPages {
		out, err := d.CW.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name),
			HistoryItemType: cwtypes.HistoryItemTypeStateUpdate, StartDate: aws.Time(since), MaxRecords: aws.Int32(100), NextToken: token})
		if err != nil {
			return false, awsErr(ctx, "CloudWatch DescribeAlarmHistory "+name, err)
		}
		for _, h := range out.AlarmHistoryItems {
			if intoAlarm(aws.ToString(h.HistoryData)) {
				return true, nil
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	return false, nil
}

// intoAlarm reads a state update's history data: did the alarm enter ALARM?
func intoAlarm(data string) bool {
	var h struct {
		NewState struct {
			StateValue string `json:"stateValue"`
		} `json:"newState"`
	}
	return json.Unmarshal([]byte(data), &h) == nil && h.NewState.StateValue == string(cwtypes.StateValueAlarm)
}
