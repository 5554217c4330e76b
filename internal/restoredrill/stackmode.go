package restoredrill

// The stack mode: the restore goes through the stack, as a real one would (config dbRestore,
// then pulumi up), and the drill follows the hand-off to the servers (the settings
// parameter) and the site until it serves again, then checks the canary.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/example/scalable-wordpress/internal/stack"
)

// fetch asks for u with a query string of its own (so that CloudFront, which keys anonymous
// pages by it, passes the request to the servers) and returns the status and the start of
// the body; a transport error is status 0.
func (d *Drill) fetch(ctx context.Context, u string) (int, string, error) {
	d.requests++
	p, err := url.Parse(u)
	if err != nil {
		return 0, "", err
	}
	q := p.Query()
	q.Set("restore-drill", strconv.Itoa(d.requests))
	p.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, d.Opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.String(), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// serves says whether u answers 200 (with text in its body, if any), and if not, what it did.
func (d *Drill) serves(ctx context.Context, u, text string) (bool, string) {
	code, body, err := d.fetch(ctx, u)
	switch {
	case err != nil && code == 0:
		return false, fmt.Sprintf("%s: %v", u, err)
	case code != http.StatusOK:
		return false, fmt.Sprintf("%s answers %d", u, code)
	case text != "" && !strings.Contains(body, text):
		return false, fmt.Sprintf("%s answers 200 without %q", u, text)
	}
	return true, u + " answers 200"
}

func (d *Drill) parameter(ctx context.Context) (string, error) {
	out, err := d.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(d.Target.DBHostParameter)})
	if err != nil {
		return "", awsErr(ctx, "SSM GetParameter "+d.Target.DBHostParameter, err)
	}
	if out.Parameter == nil {
		return "", nil
	}
	return aws.ToString(out.Parameter.Value), nil
}

// preflightSite: the site serves, the canary (if any) is there before the restore, and the
// settings parameter can be read.
func (d *Drill) preflightSite(ctx context.Context) error {
	if ok, what := d.serves(ctx, d.Target.SiteURL, ""); !ok {
		return fmt.Errorf("the site does not serve before the drill (%s): nothing was changed", what)
	}
	if d.Opts.CanaryURL != "" {
		if ok, what := d.serves(ctx, d.Opts.CanaryURL, d.Opts.CanaryText); !ok {
			return fmt.Errorf("the canary must be there before the restore, and it is not (%s): publish it first", what)
		}
	}
	v, err := d.parameter(ctx)
	if err == nil && v == "" {
		err = fmt.Errorf("the settings parameter %s is empty", d.Target.DBHostParameter)
	}
	return err
}

// names reports whether the parameter's value names the endpoint (host, or host:port).
func names(value, address string) bool {
	return value == address || strings.HasPrefix(value, address+":")
}

// viaStack sets dbRestore, runs pulumi up, and returns when the site serves from the restored
// instance.
func (d *Drill) viaStack(ctx context.Context, r *Report) (done time.Time, err error) {
	ref, old := d.Target.StackRef, d.Target.DBIdentifier
	run := func(ctx context.Context, args ...string) error {
		out, err := d.Pulumi(ctx, d.Dir, "pulumi", append(args, "--stack", ref)...)
		if len(out) > 0 && d.Out != nil {
			_, _ = d.Out.Write(out) // pulumi up's progress, shown once it has ended
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w during pulumi %s", ErrInterrupted, strings.Join(args, " "))
			}
			return fmt.Errorf("pulumi %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	err = d.phase(r, "config", func() (string, error) {
		if err := run(ctx, "config", "set", "--path", "dbRestore.id", d.Opts.Label); err != nil {
			return "", err
		}
		if err := run(ctx, "config", "set", "--path", "dbRestore.from", d.Opts.From.String()); err != nil {
			return "", err
		}
		return fmt.Sprintf("dbRestore = {id: %s, from: %s}", d.Opts.Label, d.Opts.From), nil
	})
	if err != nil {
		return done, err
	}
	err = d.phase(r, "pulumi up", func() (string, error) {
		// Not cancelled with the drill: Ctrl-C reaches pulumi from the terminal, and pulumi
		// stops its update cleanly; killing it would leave the stack's operations pending.
		if err := run(context.WithoutCancel(ctx), "up", "--yes"); err != nil {
			return "", err
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("%w after pulumi up", ErrInterrupted)
		}
		var o stack.Outputs
		if err := stack.Read(ctx, d.Pulumi, d.Dir, ref, &o); err != nil {
			return "", err
		}
		r.Restored = o.DBIdentifier
		if o.DBIdentifier == "" || o.DBIdentifier == old {
			return "", fmt.Errorf("pulumi up succeeded but output %s is still %q: the stack did not switch to a restored instance (does this release support config dbRestore?)",
				stack.KeyDBIdentifier, o.DBIdentifier)
		}
		db, err := d.describe(ctx, o.DBIdentifier)
		if err != nil {
			return "", err
		}
		if db == nil || db.Endpoint == nil {
			return "", fmt.Errorf("the restored RDS instance %s (output %s) was not found, or has no endpoint", o.DBIdentifier, stack.KeyDBIdentifier)
		}
		r.Endpoint = aws.ToString(db.Endpoint.Address)
		return fmt.Sprintf("the stack's database is now %s (%s, %s)", r.Restored, r.Endpoint, aws.ToString(db.DBInstanceStatus)), nil
	})
	if err != nil {
		return done, err
	}
	err = d.phase(r, "switch", func() (string, error) {
		err := d.poll(ctx, "for "+d.Target.DBHostParameter+" to name "+r.Endpoint, func(ctx context.Context) (bool, string, error) {
			v, err := d.parameter(ctx)
			return names(v, r.Endpoint), fmt.Sprintf("%s is %q", d.Target.DBHostParameter, v), err
		})
		if err != nil {
			return "", err
		}
		return d.Target.DBHostParameter + " names " + r.Endpoint, nil
	})
	if err != nil {
		return done, err
	}
	siteOK := false
	err = d.phase(r, "serve", func() (string, error) {
		err := d.poll(ctx, "for the site to serve from the restored database", func(ctx context.Context) (bool, string, error) {
			ok, what := d.serves(ctx, d.Target.SiteURL, "")
			if siteOK = ok; !ok || d.Opts.CanaryURL == "" {
				return ok, what, nil
			}
			ok, r.Canary = d.serves(ctx, d.Opts.CanaryURL, d.Opts.CanaryText)
			return ok, "the site serves; canary: " + r.Canary, nil
		})
		done = d.Clock.Now()
		if err != nil {
			return "", err
		}
		return d.Target.SiteURL + " answers 200", nil
	})
	if err != nil && errors.Is(err, ErrGaveUp) && siteOK {
		// The site serves but the canary is gone: the restore lost data written before it.
		r.Violations = append(r.Violations, fmt.Sprintf("canary: %s after the restore: data written before the restore point is missing", r.Canary))
		return done, nil
	}
	return done, err
}
