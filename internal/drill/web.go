package drill

// The web phase: the fixed mode's planned removal (drain, stop, start, register) and the
// Auto Scaling mode's unplanned loss (terminate, the group replaces the server).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// restoreTimeout bounds putting a server back after the drill was cut short.
const restoreTimeout = 10 * time.Minute

// removal is what the planned removal has done to its server so far, so that an error, a
// timeout or Ctrl-C puts back exactly that.
type removal struct {
	id                                         string
	deregistered, stopped, started, registered bool
}

// removalPhase is the fixed mode's planned removal, as an owner takes a server out for
// maintenance: deregister it and wait until the load balancer has drained it, stop it, wait
// until EC2 reports it stopped (EC2 refuses to start a stopping instance), start it, wait
// until it runs, register it and wait until it is healthy. A healthy stack fails no request.
// Whatever happens after the first step, the server is put back before returning.
func (d *Drill) removalPhase(ctx context.Context, p *Phase, victim Instance) (err error) {
	p.AZBefore, p.AZAfter = victim.AZ, victim.AZ
	defer func() { p.finish(d.Clock.Now()) }()
	rm := &removal{id: victim.ID}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.putBack(ctx, p, rm))
		}
	}()
	id, ids := victim.ID, []string{victim.ID}
	if err := d.deregister(ctx, id); err != nil {
		return err
	}
	rm.deregistered = true
	d.logf("%s", p.event(d.Clock.Now(), "deregistered %s (%s): the load balancer drains it", id, victim.AZ))
	target := d.targetStateWatch(p, id)
	if err := d.watch(ctx, p, wait{what: "for the load balancer to drain " + id, check: target(stateIn("", "unused"))}); err != nil {
		return err
	}
	if _, err := d.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids}); err != nil {
		return awsErr(ctx, "EC2 StopInstances "+id, err)
	}
	rm.stopped = true
	d.logf("%s", p.event(d.Clock.Now(), "stopped %s", id))
	if err := d.watch(ctx, p, wait{what: "for EC2 to report " + id + " stopped", check: d.instanceWatch(p, id, ec2types.InstanceStateNameStopped)}); err != nil {
		return err
	}
	if _, err := d.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids}); err != nil {
		return awsErr(ctx, "EC2 StartInstances "+id, err)
	}
	rm.started = true
	d.logf("%s", p.event(d.Clock.Now(), "started %s", id))
	if err := d.watch(ctx, p, wait{what: "for EC2 to report " + id + " running", check: d.instanceWatch(p, id, ec2types.InstanceStateNameRunning)}); err != nil {
		return err
	}
	if err := d.register(ctx, id); err != nil {
		return err
	}
	rm.registered = true
	d.logf("%s", p.event(d.Clock.Now(), "registered %s again", id))
	if err := d.watch(ctx, p, wait{what: "for " + id + " to be healthy again", check: target(stateIn("healthy"))}); err != nil {
		return err
	}
	d.logf("%s", p.event(d.Clock.Now(), "web: %d requests, %d failed, %d slow", p.Requests, p.Failures, p.Slow))
	return nil
}

// deregister takes the server out of the target group (the load balancer drains it).
func (d *Drill) deregister(ctx context.Context, id string) error {
	return d.setRegistered(ctx, id, false)
}

// register puts the server back into the target group.
func (d *Drill) register(ctx context.Context, id string) error { return d.setRegistered(ctx, id, true) }

func (d *Drill) setRegistered(ctx context.Context, id string, in bool) error {
	arn, targets := aws.String(d.Target.TargetGroupARN), []elbtypes.TargetDescription{{Id: aws.String(id)}}
	var err error
	call := "ELB RegisterTargets " + id
	if in {
		_, err = d.ELB.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: arn, Targets: targets})
	} else {
		call = "ELB DeregisterTargets " + id
		_, err = d.ELB.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: arn, Targets: targets})
	}
	if err != nil {
		return awsErr(ctx, call, err)
	}
	return nil
}

// putBack undoes what the removal did, on a context of its own (the drill's may be
// cancelled by Ctrl-C), bounded by restoreTimeout: a stopped server is started once EC2
// reports it stopped, and a drained one is registered once it runs.
func (d *Drill) putBack(ctx context.Context, p *Phase, rm *removal) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	fail := func(step string, err error) error {
		d.logf("%s", p.event(d.Clock.Now(), "COULD NOT PUT %s BACK (%s): %v; by hand: aws ec2 start-instances --instance-ids %s && "+
			"aws elbv2 register-targets --target-group-arn %s --targets Id=%s", rm.id, step, err, rm.id, d.Target.TargetGroupARN, rm.id))
		return fmt.Errorf("put %s back: %s: %w", rm.id, step, err)
	}
	if rm.stopped && !rm.started {
		if err := d.awaitInstance(rctx, rm.id, ec2types.InstanceStateNameStopped); err != nil {
			return fail("wait until it is stopped", err)
		}
		if _, err := d.EC2.StartInstances(rctx, &ec2.StartInstancesInput{InstanceIds: []string{rm.id}}); err != nil {
			return fail("start it", err)
		}
		rm.started = true
		d.logf("%s", p.event(d.Clock.Now(), "started %s again after the drill was cut short", rm.id))
	}
	if rm.deregistered && !rm.registered {
		if rm.started {
			if err := d.awaitInstance(rctx, rm.id, ec2types.InstanceStateNameRunning); err != nil {
				return fail("wait until it runs", err)
			}
		}
		if err := d.register(rctx, rm.id); err != nil {
			return fail("register it", err)
		}
		rm.registered = true
		d.logf("%s", p.event(d.Clock.Now(), "registered %s in the target group again after the drill was cut short", rm.id))
	}
	return nil
}

// instanceState is EC2's state of one instance.
func (d *Drill) instanceState(ctx context.Context, id string) (ec2types.InstanceStateName, error) {
	out, err := d.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return "", awsErr(ctx, "EC2 DescribeInstances "+id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) == id && in.State != nil {
				return in.State.Name, nil
			}
		}
	}
	return "", fmt.Errorf("EC2 instance %s was not found in %s", id, d.Target.Region)
}

// instanceWatch is a watch condition that holds once the instance is in the state, and
// logs each change of state.
func (d *Drill) instanceWatch(p *Phase, id string, want ec2types.InstanceStateName) func(context.Context) (bool, error) {
	var last ec2types.InstanceStateName
	return func(ctx context.Context) (bool, error) {
		state, err := d.instanceState(ctx, id)
		if err != nil {
			return false, err
		}
		if state != last {
			d.logf("%s", p.event(d.Clock.Now(), "instance %s: %s", id, state))
			last = state
		}
		return state == want, nil
	}
}

// awaitInstance polls, without probing, until the instance is in the state; bounded by
// restoreTimeout in count as well as by ctx.
func (d *Drill) awaitInstance(ctx context.Context, id string, want ec2types.InstanceStateName) error {
	var state ec2types.InstanceStateName
	for i := 0; i <= int(restoreTimeout/d.Opts.Interval); i++ {
		var err error
		if state, err = d.instanceState(ctx, id); err != nil || state == want {
			return err
		}
		if err := d.Clock.Sleep(ctx, d.Opts.Interval); err != nil {
			return err
		}
	}
	return fmt.Errorf("still %s after %s", state, restoreTimeout)
}

// judgeRemoval: a planned removal fails no more requests than allowed (none by default).
func (d *Drill) judgeRemoval(p *Phase, id string) []string {
	if p.Failures > d.Opts.MaxWebFailures {
		return []string{fmt.Sprintf("web: %d failed requests while %s was drained, stopped and started (allowed %d)", p.Failures, id, d.Opts.MaxWebFailures)}
	}
	return nil
}

// lossPhase loses one server of the Auto Scaling group the way a failed instance is lost:
// EC2 terminates it without draining, the load balancer notices through its health check,
// the group launches a replacement. The drill probes until the group is back at its desired
// number of healthy servers and measures the failed share, the error window and the time to
// full capacity. Nothing is to be undone on an error or Ctrl-C: the group heals on its own.
func (d *Drill) lossPhase(ctx context.Context, p *Phase, victim Instance, desired int) error {
	p.AZBefore = victim.AZ
	o := &outage{steady: d.Opts.SteadyProbes}
	defer func() {
		p.OutageSeconds = o.seconds()
		p.finish(d.Clock.Now())
	}()
	if _, err := d.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{victim.ID}}); err != nil {
		return awsErr(ctx, "EC2 TerminateInstances "+victim.ID, err)
	}
	lost := d.Clock.Now()
	d.logf("%s", p.event(lost, "terminated %s (%s) without draining; its group %s replaces it", victim.ID, victim.AZ, d.Target.Group))

	// Any state but healthy means the load balancer has stopped sending it new requests.
	gone := d.targetStateWatch(p, victim.ID)(func(state string) bool { return state != "healthy" })
	if err := d.watch(ctx, p, wait{what: "for the load balancer to stop using " + victim.ID, sample: o.add, check: gone}); err != nil {
		return err
	}
	healthy := 0
	back := func(ctx context.Context) (bool, error) {
		h, err := d.targetHealth(ctx)
		if err != nil {
			return false, err
		}
		n := 0
		for id, state := range h {
			if id != victim.ID && state == "healthy" {
				n++
			}
		}
		if n != healthy {
			d.logf("%s", p.event(d.Clock.Now(), "%d of %d servers healthy", n, desired))
			healthy = n
		}
		return n >= desired, nil
	}
	if err := d.watch(ctx, p, wait{what: fmt.Sprintf("for the group to be back at %d healthy servers", desired), sample: o.add, check: back}); err != nil {
		return err
	}
	p.RecoverySeconds = d.Clock.Now().Sub(lost).Seconds()
	d.logf("%s", p.event(d.Clock.Now(), "web: %d requests, %d failed (%.1f%%), error window %.1fs; back at full capacity after %.0fs",
		p.Requests, p.Failures, 100*float64(p.Failures)/float64(max(p.Requests, 1)), o.seconds(), p.RecoverySeconds))
	return nil
}

// judgeLoss: losing a server fails at most the allowed share of requests, within the window
// the health check allows, and the group is whole again in time.
func (d *Drill) judgeLoss(p *Phase, window time.Duration) []string {
	var v []string
	if p.FailedPercent > d.Opts.MaxLossPercent {
		v = append(v, fmt.Sprintf("web: %.1f%% of requests failed (%d of %d) after losing a server (allowed %.0f%%)", p.FailedPercent, p.Failures, p.Requests, d.Opts.MaxLossPercent))
	}
	if window > 0 && p.OutageSeconds > window.Seconds() {
		v = append(v, fmt.Sprintf("web: error window %.1fs after losing a server (allowed %s: the health check's unhealthy threshold × interval + timeout, or --max-loss-window)", p.OutageSeconds, window))
	}
	if p.RecoverySeconds > d.Opts.MaxRecovery.Seconds() {
		v = append(v, fmt.Sprintf("web: back at full capacity after %.0fs (allowed %s)", p.RecoverySeconds, d.Opts.MaxRecovery))
	}
	return v
}

// targetStateWatch returns, for a test of the target's health state, a watch condition that
// logs each change of that state (from healthy) and holds once the test does; the state of
// a target the load balancer no longer lists is "". Conditions made from one watch share
// the last state seen, so the log never repeats a change.
func (d *Drill) targetStateWatch(p *Phase, id string) func(done func(state string) bool) func(context.Context) (bool, error) {
	last := "healthy"
	return func(done func(string) bool) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			h, err := d.targetHealth(ctx)
			if err != nil {
				return false, err
			}
			if state := h[id]; state != last {
				d.logf("%s", p.event(d.Clock.Now(), "target %s: %s -> %s", id, targetLabel(last), targetLabel(state)))
				last = state
			}
			return done(last), nil
		}
	}
}

// stateIn is a target health test that holds for any of the states.
func stateIn(states ...string) func(string) bool {
	return func(state string) bool { return slices.Contains(states, state) }
}

// targetLabel names a target health state for the log; "" is a target no longer listed.
func targetLabel(state string) string {
	if state == "" {
		return "deregistered"
	}
	return state
}
