package drill

// The database phase: a reboot with failover, the outage users saw, and the alarm that
// must tell the owner about it.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/example/scalable-wordpress/internal/stack"
)

// dbState is what the drill reads of the database.
type dbState struct {
	status, az, standbyAZ string
	multiAZ               bool
	tags                  map[string]string
}

func (d *Drill) describeDB(ctx context.Context) (dbState, error) {
	out, err := d.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(d.Target.DBIdentifier)})
	if err != nil {
		return dbState{}, awsErr(ctx, "RDS DescribeDBInstances "+d.Target.DBIdentifier, err)
	}
	if len(out.DBInstances) != 1 {
		return dbState{}, fmt.Errorf("RDS instance %s was not found in %s", d.Target.DBIdentifier, d.Target.Region)
	}
	db := out.DBInstances[0]
	s := dbState{status: aws.ToString(db.DBInstanceStatus), az: aws.ToString(db.AvailabilityZone),
		standbyAZ: aws.ToString(db.SecondaryAvailabilityZone), multiAZ: aws.ToBool(db.MultiAZ), tags: map[string]string{}}
	for _, t := range db.TagList {
		s.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return s, nil
}

// dbPhase reboots the database with failover, probes until RDS has rebooted it and the site
// has answered steadily since, measuring the outage users saw, then waits for the stack's
// failover alarm. Each wait that gives up says what was missing.
func (d *Drill) dbPhase(ctx context.Context, p *Phase) error {
	o := &outage{steady: d.Opts.SteadyProbes}
	defer func() {
		p.OutageSeconds = o.seconds()
		p.finish(d.Clock.Now())
	}()
	before, err := d.describeDB(ctx)
	if err != nil {
		return err
	}
	p.AZBefore, p.AZAfter = before.az, before.az
	if _, err := d.RDS.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{
		DBInstanceIdentifier: aws.String(d.Target.DBIdentifier), ForceFailover: aws.Bool(true),
	}); err != nil {
		return awsErr(ctx, "RDS RebootDBInstance "+d.Target.DBIdentifier+" (force failover)", err)
	}
	rebooted := d.Clock.Now()
	d.logf("%s", p.event(rebooted, "rebooting %s with failover (primary in %s)", d.Target.DBIdentifier, before.az))

	status, left := before.status, false
	err = d.watch(ctx, p, wait{what: "for RDS to reboot " + d.Target.DBIdentifier + " and fail it over", sample: o.add,
		check: func(ctx context.Context) (bool, error) {
			s, err := d.describeDB(ctx)
			if err != nil {
				return false, err
			}
			if s.status != status {
				d.logf("%s", p.event(d.Clock.Now(), "database: %s -> %s (primary in %s)", status, s.status, s.az))
				status = s.status
			}
			p.AZAfter = s.az
			left = left || s.status != "available" || s.az != before.az
			return left && s.status == "available", nil
		},
		stuck: func() string {
			if !left {
				return fmt.Sprintf("the database never left %q in %s: RDS did not reboot it", before.status, before.az)
			}
			return fmt.Sprintf("the database is still %q", status)
		}})
	if err == nil {
		err = d.watch(ctx, p, wait{what: fmt.Sprintf("for the site to answer %d times in a row", d.Opts.SteadyProbes), sample: o.add,
			check: func(context.Context) (bool, error) { return o.recovered(), nil },
			stuck: func() string {
				return fmt.Sprintf("the database is available again (primary in %s) but the site has not answered steadily since", p.AZAfter)
			}})
	}
	d.logf("%s", p.event(d.Clock.Now(), "db: outage %.1fs, primary %s -> %s", o.seconds(), p.AZBefore, p.AZAfter))
	if err != nil {
		return err
	}
	if p.AZAfter == p.AZBefore {
		d.logf("%s", p.event(d.Clock.Now(), "warning: the primary is still in %s: RDS rebooted without moving it", p.AZAfter))
	}
	return d.awaitFailoverAlarm(ctx, p, rebooted)
}

// alarmPoll is how often the wait for the failover alarm reads its history.
const alarmPoll = 15 * time.Second

// awaitFailoverAlarm probes on until the stack's failover alarm has gone into ALARM since the
// reboot, for at most AlarmTimeout. An alarm that does not fire is a finding of the drill
// (the owner would not have been told), not an error of it.
func (d *Drill) awaitFailoverAlarm(ctx context.Context, p *Phase, since time.Time) error {
	name := d.Target.DBFailoverAlarm
	if name == "" {
		d.logf("%s", p.event(d.Clock.Now(), "the stack has no failover alarm (output %s): not checked", stack.KeyDBFailoverAlarm))
		return nil
	}
	var polled time.Time
	err := d.watch(ctx, p, wait{what: "for the alarm " + name + " to fire", timeout: d.Opts.AlarmTimeout,
		check: func(ctx context.Context) (bool, error) {
			if now := d.Clock.Now(); !polled.IsZero() && now.Sub(polled) < alarmPoll {
				return false, nil
			}
			polled = d.Clock.Now()
			return d.alarmFired(ctx, name, since)
		}})
	switch {
	case errors.Is(err, ErrGaveUp):
		p.missed = append(p.missed, fmt.Sprintf("db: the alarm %s did not fire within %s of the failover: the owner would not have been told", name, d.Opts.AlarmTimeout))
		d.logf("%s", p.event(d.Clock.Now(), "the alarm %s did not fire within %s", name, d.Opts.AlarmTimeout))
		return nil
	case err == nil:
		d.logf("%s", p.event(d.Clock.Now(), "the alarm %s fired (%.0fs after the reboot)", name, d.Clock.Now().Sub(since).Seconds()))
	}
	return err
}

// judgeDB: the outage is within its limit and the failover alarm fired.
func (d *Drill) judgeDB(p *Phase) []string {
	var v []string
	if p.OutageSeconds > d.Opts.MaxDBOutage.Seconds() {
		v = append(v, fmt.Sprintf("db: outage %.1fs (allowed %.0fs)", p.OutageSeconds, d.Opts.MaxDBOutage.Seconds()))
	}
	return append(v, p.missed...)
}
