package loadtest

// Running the plan: one vegeta attacker per step (an attacker is spent once its attack
// ends), all sharing one HTTP transport whose connections Run can close, so that a
// cancelled run ends at once instead of waiting out the requests in flight.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const (
	progressInterval = time.Second
	// initialWorkers is how many workers vegeta starts with; it adds more, up to
	// MaxWorkers, only when they are all busy.
	initialWorkers = 10
	userAgent      = "scalable-wordpress-loadtest (vegeta)"
)

// Run validates the plan, then runs its steps in turn, printing progress about once a
// second to progress (nil: none). A plan Validate refuses is returned as the error and
// sends nothing. Cancelling ctx stops the attack at once: the report then holds the steps
// measured so far, the last one partial and marked Interrupted, and Report.Interrupted is
// set; requests still in flight are abandoned, not counted.
func Run(ctx context.Context, p Plan, progress io.Writer) (Report, error) {
	if err := p.Validate(); err != nil {
		return Report{}, fmt.Errorf("invalid plan: %w", err)
	}
	if progress == nil {
		progress = io.Discard
	}
	c := newClient(p.Timeout, p.MaxWorkers)
	defer c.close()
	rep := Report{Plan: summarize(p), StartedAt: time.Now()}
	for i := range p.Rates {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		s := runStep(ctx, c, p, i, progress)
		s.Verdict = p.Thresholds.Check(s)
		rep.Steps = append(rep.Steps, s)
		if s.Interrupted {
			rep.Interrupted = true
			break
		}
		if p.StopOnFail && !s.Verdict.Pass && i < len(p.Rates)-1 {
			rep.StoppedOnFail = true
			break
		}
	}
	rep.FinishedAt = time.Now()
	return rep, nil
}

// runStep attacks at the step's constant rate for the step's duration and collects the
// results, or stops when ctx is cancelled.
func runStep(ctx context.Context, c *client, p Plan, i int, progress io.Writer) StepResult {
	rate := p.Rates[i]
	fmt.Fprintf(progress, "step %d/%d: %g rps for %v (at most %d requests in flight)\n",
		i+1, len(p.Rates), rate, p.StepDuration, p.MaxWorkers)
	stats := newStepStats(i+1, len(p.Rates), rate, p.StepDuration)
	atk := c.attacker(p)
	results := atk.Attack(targeter(p.Targets), pacer(rate), p.StepDuration, "step-"+strconv.Itoa(i+1))
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return stats.result(false)
			}
			if ctx.Err() != nil { // r may be a request the cancellation cut short
				c.abort(atk, results)
				return stats.result(true)
			}
			stats.add(r)
		case <-tick.C:
			stats.progress(progress)
		case <-ctx.Done():
			c.abort(atk, results)
			return stats.result(true)
		}
	}
}

// pacer is the constant pacer for rps. vegeta's pacer counts whole hits per period, so a
// fractional rate is kept to a thousandth of a request per second over a 1000 s period.
// Validate has refused rates vegeta would read as unlimited (zero) or that round to zero.
func pacer(rps float64) vegeta.ConstantPacer {
	if rps == math.Trunc(rps) {
		return vegeta.ConstantPacer{Freq: int(rps), Per: time.Second}
	}
	const scale = 1000
	return vegeta.ConstantPacer{Freq: int(math.Round(rps * scale)), Per: scale * time.Second}
}

// targeter hands out the targets round-robin.
func targeter(ts []Target) vegeta.Targeter {
	vts := make([]vegeta.Target, 0, len(ts))
	for _, t := range ts {
		h := t.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		if h.Get("User-Agent") == "" {
			h.Set("User-Agent", userAgent) // so that the site's logs tell the test from visitors
		}
		vts = append(vts, vegeta.Target{Method: t.Method, URL: t.URL, Header: h})
	}
	return vegeta.NewStaticTargeter(vts...)
}

// client is the HTTP client every step's attacker uses.
type client struct {
	http  *http.Client
	conns *connTracker
}

// newClient makes a client whose connections are tracked. HTTP/1.1 only, as vegeta's own
// default: each request in flight holds its own connection, like independent visitors.
func newClient(timeout time.Duration, maxWorkers uint64) *client {
	conns := &connTracker{dialer: &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}, open: map[*trackedConn]struct{}{}}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         conns.dial,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: int(min(maxWorkers, MaxMaxWorkers)),
	}
	return &client{http: &http.Client{Transport: tr}, conns: conns}
}

// attacker is a new attacker for one step. Redirects are not followed: a 3xx counts as a
// success, and a redirect cannot take the load to a host the guard did not check.
func (c *client) attacker(p Plan) *vegeta.Attacker {
	return vegeta.NewAttacker(
		vegeta.Client(c.http), // first: the options below change its copy
		vegeta.Timeout(p.Timeout),
		vegeta.KeepAlive(true),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Workers(min(initialWorkers, p.MaxWorkers)),
		vegeta.MaxWorkers(p.MaxWorkers),
	)
}

// abort stops the attack, cuts the requests in flight and drains what they still report,
// in the background, so that vegeta's workers can end.
func (c *client) abort(atk *vegeta.Attacker, results <-chan *vegeta.Result) {
	atk.Stop()
	c.conns.closeAll()
	go func() {
		for range results {
			// discarded: the run is over
		}
	}()
}

// close closes every connection, idle keep-alive ones included: a benchmark that runs many
// plans must not pile them up.
func (c *client) close() {
	c.conns.closeAll()
}

// errAborted is the dial error once the run is over.
var errAborted = errors.New("load test aborted")

// connTracker dials connections and remembers the open ones, to close them all at once.
type connTracker struct {
	dialer *net.Dialer
	mu     sync.Mutex
	open   map[*trackedConn]struct{}
	closed bool
}

func (t *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := t.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = conn.Close()
		return nil, errAborted
	}
	tc := &trackedConn{Conn: conn, tracker: t}
	t.open[tc] = struct{}{}
	return tc, nil
}

func (t *connTracker) forget(c *trackedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, c)
}

// closeAll closes every open connection and refuses new ones.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for c := range t.open {
		_ = c.Conn.Close()
	}
	clear(t.open)
}

// trackedConn leaves its tracker when closed.
type trackedConn struct {
	net.Conn
	tracker *connTracker
}

func (c *trackedConn) Close() error {
	c.tracker.forget(c)
	return c.Conn.Close()
}
