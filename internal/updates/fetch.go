package updates

// Every request the updater makes goes through one Fetcher: wordpress.org is a public
// service that is sometimes slow or briefly down, and a scheduled job must neither hang on it
// nor give up at the first hiccup, nor retry forever.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"time"

	"github.com/example/scalable-wordpress/internal/clock"
)

// ErrUnavailable marks a request that kept failing without an answer (a network error, a
// timeout, 429 or a 5xx on every attempt): the service is down, so a source stops at once with
// one error rather than one per pin.
var ErrUnavailable = errors.New("did not answer")

// unavailableError is ErrUnavailable for one URL, with the last attempt's failure.
type unavailableError struct {
	url      string
	attempts int
	last     error
}

func (e *unavailableError) Error() string {
	attempts := "attempts"
	if e.attempts == 1 {
		attempts = "attempt"
	}
	return fmt.Sprintf("%s did not answer in %d %s: %v", e.url, e.attempts, attempts, e.last)
}

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// StatusError is an answer other than 200 OK that retrying would not change (404: no such
// plugin or version; 403...). Body is the answer's start: wordpress.org's APIs explain a 404
// in JSON (a plugin closed, and why).
type StatusError struct {
	URL  string
	Code int
	Body []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// errorBodyBytes is how much of a refusal's body a StatusError keeps.
const errorBodyBytes = 64 << 10

// Fetcher makes GET requests with a timeout per attempt, a bounded number of attempts and a
// size limit.
type Fetcher struct {
	Client    *http.Client // its Timeout bounds each attempt, the body's read included
	Attempts  int          // tries per request (at least 1)
	Backoff   time.Duration
	Sleep     func(ctx context.Context, d time.Duration) error // waits Backoff, doubled after each failure; nil: the wall clock
	MaxBytes  int64                                            // the largest body read (an archive)
	UserAgent string
}

// Get returns the body of a 200 answer.
func (f *Fetcher) Get(ctx context.Context, url string) ([]byte, error) {
	wait, sleep := f.Backoff, f.Sleep
	if sleep == nil {
		sleep = clock.Real{}.Sleep
	}
	var last error
	attempts := max(f.Attempts, 1)
	for i := range attempts {
		if i > 0 {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait *= 2
		}
		body, retry, err := f.once(ctx, url)
		if err == nil || !retry {
			return body, err
		}
		last = err
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, &unavailableError{url: url, attempts: attempts, last: last}
}

// once makes one attempt; retry says whether another might succeed.
func (f *Fetcher) once(ctx context.Context, url string) (body []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("User-Agent", f.UserAgent)
	resp, err := f.Client.Do(req)
	if ue := (*neturl.Error)(nil); errors.As(err, &ue) {
		return nil, true, ue.Err // the URL is in the message already
	}
	if err != nil {
		return nil, true, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, true, &StatusError{URL: url, Code: resp.StatusCode}
	case resp.StatusCode != http.StatusOK:
		start, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
		return nil, false, &StatusError{URL: url, Code: resp.StatusCode, Body: start}
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes+1))
	if err != nil {
		return nil, true, fmt.Errorf("read %s: %w", url, err)
	}
	if int64(len(body)) > f.MaxBytes {
		return nil, false, fmt.Errorf("%s is larger than %d bytes, the most the updater reads", url, f.MaxBytes)
	}
	return body, false, nil
}

// GetJSON decodes the JSON body of a 200 answer into v.
func (f *Fetcher) GetJSON(ctx context.Context, url string, v any) error {
	body, err := f.Get(ctx, url)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s is not the JSON expected: %w", url, err)
	}
	return nil
}
