package drill

// Probing the site as a user would, and the per-phase statistics of what it saw.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// Sample is one request through the load balancer. In JSON its times are milliseconds.
type Sample struct {
	At      time.Duration // since the phase began
	Latency time.Duration
	Status  int
	Err     string
	OK      bool
	Slow    bool
	// Cut is a request the drill itself cut short (Ctrl-C): it says nothing of the site
	// and is neither counted nor reported.
	Cut bool
}

// MarshalJSON writes the sample with its times in milliseconds, as the field names say.
func (s Sample) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		At      Millis `json:"atMs"`
		Latency Millis `json:"latencyMs"`
		Status  int    `json:"status,omitempty"`
		Err     string `json:"error,omitempty"`
		OK      bool   `json:"ok"`
		Slow    bool   `json:"slow,omitempty"`
	}{Millis(s.At), Millis(s.Latency), s.Status, s.Err, s.OK, s.Slow})
}

// probe makes one GET of the site. 2xx and 3xx answers are successes; anything else, or no
// answer within the request timeout, is a failure, unless the drill's own context ended
// first: then the sample is Cut.
func (d *Drill) probe(ctx context.Context, since time.Time) Sample {
	start := d.Clock.Now()
	s := Sample{At: start.Sub(since)}
	rctx, cancel := context.WithTimeout(ctx, d.Opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, d.probeURL(), nil)
	if err == nil {
		req.Header.Set("User-Agent", "scalable-wordpress-drill/1")
		var resp *http.Response
		resp, err = d.HTTP.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20))
			_ = resp.Body.Close()
			s.Status = resp.StatusCode
			s.OK = resp.StatusCode >= 200 && resp.StatusCode < 400
			if !s.OK {
				s.Err = fmt.Sprintf("HTTP %d", resp.StatusCode)
			}
		}
	}
	if err != nil {
		s.Err = err.Error()
		s.Cut = ctx.Err() != nil
	}
	s.Latency = d.Clock.Now().Sub(start)
	s.Slow = s.OK && s.Latency > d.Opts.SlowThreshold
	return s
}

// probeURL is the site URL with a query string of its own per probe: a CDN in front
// (CloudFront keeps anonymous pages, keyed by the query string) then answers every probe from
// the servers, so that the drill measures them and not the cache.
func (d *Drill) probeURL() string {
	u, err := url.Parse(d.Target.SiteURL)
	if err != nil {
		return d.Target.SiteURL // the request then fails, naming it
	}
	q := u.Query()
	q.Set("drill-probe", strconv.FormatUint(d.probes.Add(1), 10))
	u.RawQuery = q.Encode()
	return u.String()
}

// maxIncidents bounds how many failed or slow samples a phase keeps for the report.
const maxIncidents = 100

// Phase is one part of the drill and what the probes saw during it.
type Phase struct {
	Name     string `json:"name"`
	Requests int    `json:"requests"`
	Failures int    `json:"failures"`
	Slow     int    `json:"slow"`
	P50      Millis `json:"p50Ms"`
	P99      Millis `json:"p99Ms"`
	// FailedPercent is the share of the phase's requests that failed.
	FailedPercent float64 `json:"failedPercent"`
	// OutageSeconds is the error window: from the first failed request to the first of the
	// successes that followed the last failure (0 when nothing failed).
	OutageSeconds float64 `json:"outageSeconds"`
	// RecoverySeconds is, when the group lost a server, the time until it was back at its
	// desired number of healthy servers.
	RecoverySeconds float64  `json:"recoverySeconds,omitempty"`
	Seconds         float64  `json:"seconds"`
	AZBefore        string   `json:"azBefore,omitempty"`
	AZAfter         string   `json:"azAfter,omitempty"`
	Events          []string `json:"events"`
	// AlarmsFired are the stack's alarms that went into ALARM during the phase.
	AlarmsFired []string `json:"alarmsFired"`
	Incidents   []Sample `json:"incidents"` // failed or slow requests, the first 100

	started   time.Time
	latencies []time.Duration
	missed    []string // violations found while the phase ran (an alarm that did not fire)
}

// Millis marshals a duration as whole milliseconds.
type Millis time.Duration

// MarshalJSON writes the duration in milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprint(time.Duration(m).Milliseconds())), nil
}

func (p *Phase) add(s Sample) {
	p.Requests++
	p.latencies = append(p.latencies, s.Latency)
	if !s.OK {
		p.Failures++
	}
	if s.Slow {
		p.Slow++
	}
	if (!s.OK || s.Slow) && len(p.Incidents) < maxIncidents {
		p.Incidents = append(p.Incidents, s)
	}
}

// finish computes the latency percentiles and the phase's length.
func (p *Phase) finish(now time.Time) {
	p.Seconds = now.Sub(p.started).Seconds()
	if len(p.latencies) == 0 {
		return
	}
	p.FailedPercent = 100 * float64(p.Failures) / float64(p.Requests)
	l := append([]time.Duration(nil), p.latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	p.P50 = Millis(percentile(l, 50))
	p.P99 = Millis(percentile(l, 99))
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, pct int) time.Duration {
	rank := (pct*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// outage tracks the window from the first failure to the start of the final run of
// steady successes.
type outage struct {
	steady      int // successes in a row that count as "answering normally again"
	firstFail   time.Duration
	lastFail    time.Duration
	failed      bool
	streak      int
	streakStart time.Duration
}

func (o *outage) add(s Sample) {
	if !s.OK {
		if !o.failed {
			o.failed, o.firstFail = true, s.At
		}
		o.lastFail, o.streak = s.At, 0
		return
	}
	if o.streak == 0 {
		o.streakStart = s.At
	}
	o.streak++
}

// recovered reports whether the site has answered steadily since the last failure.
func (o *outage) recovered() bool { return o.streak >= o.steady }

// seconds is the measured outage: 0 when nothing failed; up to the last failure when the
// site has not answered since.
func (o *outage) seconds() float64 {
	switch {
	case !o.failed:
		return 0
	case o.streak == 0:
		return (o.lastFail - o.firstFail).Seconds()
	}
	return (o.streakStart - o.firstFail).Seconds()
}
