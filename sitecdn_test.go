//go:build lab

package main

// The site test's stand-in for CloudFront: one hop in front of the lab's load balancer that
// does what the program's distribution is configured to do (read from what the program
// registers, not restated here): viewer HTTPS with HTTP redirected, behaviours by path pattern,
// each forwarding to the origin only what its policies name (the viewer's Host, the
// CloudFront-Forwarded-Proto header, the cookies in the cache key, or everything for the
// dynamic paths), and a cache that keeps a GET for the policy's TTL unless the origin says
// no-store, private or no-cache, keyed by path, query string and the cookies in the key; every
// answer, from the cache or not, gets the behaviour's response headers policy.

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// labCDNAddr is where the stand-in listens (80 and 443).
const labCDNAddr = "127.0.7.1"

// cdnBehaviour is one cache behaviour as the program configures it.
type cdnBehaviour struct {
	pattern     string         // "" for the default
	ttl         int            // seconds a cacheable answer is kept; 0 never
	keyCookies  []string       // cookies in the cache key (and forwarded)
	forwardAll  bool           // every viewer header and cookie reaches the origin
	headers     []string       // else these viewer headers do
	sendsProto  bool           // CloudFront-Forwarded-Proto is added
	readOnly    bool           // GET and HEAD only
	viewerHTTPS bool           // HTTP redirects to HTTPS
	respHeaders []viewerHeader // the response headers policy's
}

// cdnFacts are the distribution's behaviours, its site URL and the servers' settings under it.
type cdnFacts struct {
	SiteURL    string
	Site       map[string]string
	Behaviours []cdnBehaviour // ordered, the default last
}

// cdnProgramFacts runs the program with the default edge and reads the distribution.
func cdnProgramFacts(t *testing.T, config map[string]string) cdnFacts {
	t.Helper()
	r := mustRun(t, config)
	cdn := r.one(t, "aws:cloudfront/distribution:Distribution")
	f := cdnFacts{Site: map[string]string{}}
	f.SiteURL, _ = r.outputs["siteUrl"].(string)
	for k, v := range jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue") {
		f.Site[k], _ = v.(string)
	}
	read := func(m resource.PropertyMap) cdnBehaviour {
		b := cdnBehaviour{pattern: propString(m["pathPattern"]), viewerHTTPS: propString(m["viewerProtocolPolicy"]) == "redirect-to-https",
			readOnly: len(m["allowedMethods"].ArrayValue()) == 2}
		if p := r.byID(propString(m["cachePolicyId"])); p != nil {
			b.ttl, _ = strconv.Atoi(p.Str("defaultTtl"))
			cookies := p.Obj("parametersInCacheKeyAndForwardedToOrigin")["cookiesConfig"].ObjectValue()
			if c := cookies["cookies"]; c.IsObject() {
				for _, v := range c.ObjectValue()["items"].ArrayValue() {
					b.keyCookies = append(b.keyCookies, v.StringValue())
				}
			}
		} else if propString(m["cachePolicyId"]) != "managed-"+strings.ToLower(managedCachingDisabled) {
			t.Fatalf("behaviour %q: unknown cache policy %s", b.pattern, propString(m["cachePolicyId"]))
		}
		switch p := r.byID(propString(m["originRequestPolicyId"])); {
		case p != nil:
			for _, v := range p.Obj("headersConfig")["headers"].ObjectValue()["items"].ArrayValue() {
				if v.StringValue() == forwardedProtoHeader {
					b.sendsProto = true
				} else {
					b.headers = append(b.headers, v.StringValue())
				}
			}
		case propString(m["originRequestPolicyId"]) == "managed-"+strings.ToLower(managedAllViewerAndCloudFront):
			b.forwardAll, b.sendsProto = true, true
		default:
			t.Fatalf("behaviour %q: unknown origin request policy %s", b.pattern, propString(m["originRequestPolicyId"]))
		}
		if id := propString(m["responseHeadersPolicyId"]); id != "" {
			p := r.byID(id)
			if p == nil {
				t.Fatalf("behaviour %q: unknown response headers policy %s", b.pattern, id)
			}
			b.respHeaders = policyHeaders(t, p)
		}
		return b
	}
	for _, v := range cdn.Inputs["orderedCacheBehaviors"].ArrayValue() {
		f.Behaviours = append(f.Behaviours, read(v.ObjectValue()))
	}
	f.Behaviours = append(f.Behaviours, read(cdn.Obj("defaultCacheBehavior")))
	return f
}

// cdnStandIn is the running stand-in.
type cdnStandIn struct {
	facts  cdnFacts
	origin string // host:port of the load balancer
	client *http.Client
	mu     sync.Mutex
	cache  map[string]cdnEntry
	https  *http.Server
	plain  *http.Server
}

type cdnEntry struct {
	status  int
	header  http.Header
	body    []byte
	expires time.Time
}

// startCDN serves the stand-in for host on labCDNAddr, with a certificate of the lab's CA.
func (l *lab) startCDN(facts cdnFacts, host string) *cdnStandIn {
	l.t.Helper()
	certPEM, keyPEM := issue(l.t, l.webCA, host)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		l.t.Fatal(err)
	}
	c := &cdnStandIn{facts: facts, origin: labLBAddr + ":80", cache: map[string]cdnEntry{},
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{DisableKeepAlives: true}}}
	c.https = &http.Server{Handler: c, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, ReadHeaderTimeout: 10 * time.Second}
	c.plain = &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	for port, srv := range map[string]*http.Server{"443": c.https, "80": c.plain} {
		ln, err := net.Listen("tcp", net.JoinHostPort(labCDNAddr, port))
		if err != nil {
			l.t.Fatalf("CDN stand-in: %v", err)
		}
		if port == "443" {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
		go func() { _ = srv.Serve(ln) }()
	}
	l.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.https.Shutdown(ctx)
		_ = c.plain.Shutdown(ctx)
	})
	return c
}

// behaviourFor picks the first behaviour whose pattern matches the path, else the default.
func (c *cdnStandIn) behaviourFor(p string) cdnBehaviour {
	for _, b := range c.facts.Behaviours {
		if b.pattern != "" && globMatch(b.pattern, p) {
			return b
		}
	}
	return c.facts.Behaviours[len(c.facts.Behaviours)-1]
}

// globMatch is CloudFront's path pattern match: * is any run of characters (/ included), ?
// one character, the rest literal and case-sensitive.
func globMatch(pattern, p string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(p)
}

func (c *cdnStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := c.behaviourFor(r.URL.Path)
	if r.TLS == nil && b.viewerHTTPS {
		http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
		return
	}
	if b.readOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed by the behaviour", http.StatusForbidden)
		return
	}
	key := r.Method + " " + r.Host + r.URL.RequestURI()
	for _, name := range b.keyCookies {
		if ck, err := r.Cookie(name); err == nil {
			key += "; " + name + "=" + ck.Value
		}
	}
	cacheable := b.ttl > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead)
	if cacheable {
		c.mu.Lock()
		e, ok := c.cache[key]
		c.mu.Unlock()
		if ok && time.Now().Before(e.expires) {
			c.reply(w, e, b, "Hit from cloudfront")
			return
		}
	}
	e, err := c.forward(r, b)
	if err != nil {
		http.Error(w, "origin: "+err.Error(), http.StatusBadGateway)
		return
	}
	if cacheable && e.status == http.StatusOK && storable(e.header.Get("Cache-Control")) {
		e.expires = time.Now().Add(time.Duration(b.ttl) * time.Second)
		c.mu.Lock()
		c.cache[key] = e
		c.mu.Unlock()
	}
	c.reply(w, e, b, "Miss from cloudfront")
}

// storable is whether an answer may be kept (the page policy's minimum TTL is 0).
func storable(cacheControl string) bool {
	cc := strings.ToLower(cacheControl)
	return !strings.Contains(cc, "no-store") && !strings.Contains(cc, "private") && !strings.Contains(cc, "no-cache")
}

func (c *cdnStandIn) reply(w http.ResponseWriter, e cdnEntry, b cdnBehaviour, xcache string) {
	for k, vs := range e.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, h := range b.respHeaders {
		if h.override || w.Header().Get(h.name) == "" {
			w.Header().Set(h.name, h.value)
		}
	}
	w.Header().Set("X-Cache", xcache)
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
}

// forward sends the viewer's request to the origin with what the behaviour forwards.
func (c *cdnStandIn) forward(r *http.Request, b cdnBehaviour) (cdnEntry, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return cdnEntry{}, err
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+c.origin+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return cdnEntry{}, err
	}
	req.Host = c.origin // CloudFront's default: the origin's own name
	switch {
	case b.forwardAll:
		for k, vs := range r.Header {
			req.Header[k] = vs
		}
		req.Host = r.Host
	default:
		for _, h := range b.headers {
			if strings.EqualFold(h, "Host") {
				req.Host = r.Host
			} else if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
		var kept []string
		for _, ck := range r.Cookies() {
			if slices.Contains(b.keyCookies, ck.Name) {
				kept = append(kept, ck.Name+"="+ck.Value)
			}
		}
		if len(kept) > 0 {
			req.Header.Set("Cookie", strings.Join(kept, "; "))
		}
		for _, h := range []string{"Content-Type", "Content-Length"} {
			if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
	}
	req.Header.Set("User-Agent", "Amazon CloudFront")
	if b.sendsProto {
		proto := "http"
		if r.TLS != nil {
			proto = "https"
		}
		req.Header.Set(forwardedProtoHeader, proto)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return cdnEntry{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return cdnEntry{}, err
	}
	return cdnEntry{status: resp.StatusCode, header: resp.Header.Clone(), body: out}, nil
}
