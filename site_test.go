//go:build lab

package main

// The site test: the program's own user data boots two web servers against real WordPress,
// MariaDB, Apache + PHP-FPM, HAProxy and moto on loopback (sitelab_test.go), and what a user
// of the site would see is checked through the load balancer. Run just it, as root:
//
//	go test -run TestSite -v .
//
// Measured numbers (boot times, failed requests, error windows, outages) are logged, not
// asserted as timings: the machine is shared and slow machines must not fail the test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// siteTitle has what breaks naive quoting, in the hands-on's language.
const siteTitle = `はじめての "AWS" & 'サイト' $HOME`

// programFacts are what the program registers that the site test runs: the image builder's
// and the servers' boot scripts, where the settings live and what they hold, the group and
// its launch hook, the site URL and the health check.
type programFacts struct {
	BuilderUserData, ServerUserData string // decoded: the scripts cloud-init runs
	SettingsPath                    string
	Site                            map[string]string // the site settings, as the program publishes them
	DBAppSecretName, WPSecretName   string
	ArchiveURL, RDSBundle           string
	SiteURL, HTTPSSiteURL           string   // edge alb: the load balancer's, and with a certificate
	CDN                             cdnFacts // the default edge: CloudFront in front
	Version                         string   // the WordPress release pinned
	Group, LaunchHook               string
	HealthCheck                     healthCheck
	ExpectedUnhealthyWithin         time.Duration // on the lab's clock
}

// siteProgramFacts runs the program under the mocks with the site's settings and config: on
// the hands-on's edge in HTTP mode and with a certificate and a domain, and on the default
// edge, CloudFront.
func siteProgramFacts(t *testing.T, config map[string]string) programFacts {
	t.Helper()
	r := mustRun(t, merged(config, map[string]string{"siteTitle": siteTitle, "edge": edgeALB}))
	https := mustRun(t, merged(config, map[string]string{"siteTitle": siteTitle, "edge": edgeALB, "siteDomain": "www.example.com",
		"certificateArn": testALBCertificate}))
	builder, _ := builderOf(t, r)
	lt := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate")
	f := programFacts{BuilderUserData: userDataOf(t, builder), ServerUserData: userDataOf(t, lt),
		SiteURL: fmt.Sprint(r.outputs["siteUrl"]), HTTPSSiteURL: fmt.Sprint(https.outputs["siteUrl"]),
		CDN:     cdnProgramFacts(t, merged(config, map[string]string{"siteTitle": siteTitle})),
		Version: fmt.Sprint(r.outputs["wordpressVersion"])}
	vars := convergeVariables(t, f.ServerUserData, "SETTINGS_PATH", "WP_ARCHIVE_URL", "RDS_CA_URL")
	f.SettingsPath, f.ArchiveURL, f.RDSBundle = vars["SETTINGS_PATH"], vars["WP_ARCHIVE_URL"], vars["RDS_CA_URL"]
	site := r.m.Named("aws:ssm/parameter:Parameter", "settings-site")
	if err := json.Unmarshal([]byte(site.Str("insecureValue")), &f.Site); err != nil {
		t.Fatalf("site settings: %v", err)
	}
	f.DBAppSecretName, f.WPSecretName = out(first(userSecret(t, r, dbAppUser)), "name"), out(secretHolding(t, r, "admin_password"), "name")
	asg := r.one(t, "aws:autoscaling/group:Group")
	f.Group = out(asg, "name")
	f.LaunchHook = propString(asg.Inputs["initialLifecycleHooks"].ArrayValue()[0].ObjectValue()["name"])
	tg := r.one(t, "aws:lb/targetGroup:TargetGroup").Obj("healthCheck")
	num := func(k string) int {
		var n int
		_, _ = fmt.Sscan(propString(tg[resourceKey(k)]), &n)
		return n
	}
	f.HealthCheck = healthCheck{Path: propString(tg["path"]), Matcher: propString(tg["matcher"]), Interval: num("interval"),
		Timeout: num("timeout"), Healthy: num("healthyThreshold"), Unhealthy: num("unhealthyThreshold")}
	hc := f.HealthCheck
	f.ExpectedUnhealthyWithin = time.Duration((hc.Unhealthy+1)*hc.Interval+hc.Timeout) * time.Second / labHCScale
	return f
}

func jsonList(xs ...string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

// merged is the union of config maps, later ones winning.
func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// publishSettings writes the site settings under the stack's path, as the program does.
func (l *lab) publishSettings(path string, site map[string]string) {
	l.t.Helper()
	b, err := json.Marshal(site)
	if err != nil {
		l.t.Fatal(err)
	}
	l.putParameter(path+"/"+siteParameterLeaf, string(b))
}

func TestSite(t *testing.T) {
	requireLab(t)
	began := time.Now()
	// The image recipe lists a plugin and a theme, which the wordpress.org stand-in publishes.
	recipe := map[string]string{"wordpressPlugins": jsonList(labProbe.Entry()), "wordpressThemes": jsonList(labTheme.Entry())}
	facts := siteProgramFacts(t, recipe)
	rs := startSite(t, facts, 2, nil)
	l, site, hosts, salts := rs.l, rs.site, rs.hosts, rs.salts
	builder, s1, s2 := rs.builder, rs.servers[0], rs.servers[1]
	prepared, downloads, boot1, boot2 := rs.prepared, rs.downloads, rs.boots[0], rs.boots[1]
	httpsHost := rs.httpsHost
	dbPassword, adminPassword := labDBPassword, labAdminPassword
	lbClient := l.client(labLBAddr, nil)

	t.Run("the image holds what prepare installs and no setting or secret", func(t *testing.T) {
		for _, unwanted := range []string{"aws ", "systemctl start --no-block php-fpm"} {
			if strings.Contains(prepared.Calls, unwanted) {
				t.Errorf("the builder ran %q: prepare reads no setting or secret and serves nothing\n%s", unwanted, prepared.Calls)
			}
		}
		if !strings.Contains(prepared.Calls, "dnf install") || downloads != 1 {
			t.Errorf("the builder must install the packages and download WordPress once (downloads %d):\n%s", downloads, prepared.Calls)
		}
		leaks := builder.diskHolds(dbPassword, labAppPassword, adminPassword, salts[0], salts[7], site[settingDBAppSecret], site[settingWPSecret], siteTitle)
		if len(leaks) > 0 {
			t.Errorf("the image holds stack settings or secrets: %v", leaks)
		}
	})

	t.Run("the image holds the pinned release and the listed plugin and theme, each checked against wordpress.org", func(t *testing.T) {
		if !strings.Contains(facts.ArchiveURL, "/wordpress-"+facts.Version+"-ja.tar.gz") {
			t.Errorf("the image downloads %s, not WordPress %s (wordpressVersion) for the locale", facts.ArchiveURL, facts.Version)
		}
		for _, want := range []string{"installed plugin lab-probe 1.0.0", "wordpress-converge: 2 files match", "installed theme lab-theme 1.0.0"} {
			if !strings.Contains(prepared.Log, want) {
				t.Errorf("the builder's journal lacks %q:\n%s", want, tailLines(prepared.Log, 20))
			}
		}
		for _, u := range []string{labProbe.URL(), labProbe.ChecksumsURL(), labTheme.URL()} {
			if got := l.wporg.count(u); got != 1 {
				t.Errorf("%s fetched %d times by the builder, want once", u, got)
			}
		}
	})

	t.Run("a new server enters the load balancer only once configured, through its launch hook", func(t *testing.T) {
		for _, s := range []*webServer{s1, s2} {
			if st := l.asg.state(s.id); st != "InService" {
				t.Errorf("%s is %s, want InService after completing its launch", s.name(), st)
			}
		}
		l.asg.mu.Lock()
		completed := slices.Clone(l.asg.completed)
		l.asg.mu.Unlock()
		if !sameSet(completed, []string{s1.id + " CONTINUE", s2.id + " CONTINUE"}) {
			t.Errorf("launch hook completions %v, want one CONTINUE per server", completed)
		}
		for _, b := range []bootResult{boot1, boot2} {
			if configured, completedAt := strings.Index(b.Log, "already installed"), strings.Index(b.Log, "completing the launch"); completedAt < 0 ||
				(configured >= 0 && completedAt < configured) || strings.Index(b.Log, "installed") > completedAt {
				t.Errorf("a server completed its launch before it had configured:\n%s", tailLines(b.Log, 15))
			}
		}
	})

	t.Run("the site installs exactly once with the configured title and locale", func(t *testing.T) {
		if !strings.Contains(boot1.Log, "wordpress-converge: installed") {
			t.Errorf("server 1's first boot did not install the site:\n%s", tailLines(boot1.Log, 20))
		}
		if !strings.Contains(boot2.Log, "already installed") || strings.Contains(boot2.Log, "wordpress-converge: installed") {
			t.Errorf("server 2 installed again instead of finding the site:\n%s", tailLines(boot2.Log, 20))
		}
		q := func(sql string) string { return l.db.sql("USE " + dbName + "; " + sql) }
		if got := html.UnescapeString(q("SELECT option_value FROM wp_options WHERE option_name = 'blogname'")); got != siteTitle {
			t.Errorf("site title %q, want %q", got, siteTitle)
		}
		if got := q("SELECT option_value FROM wp_options WHERE option_name = 'WPLANG'"); got != site[settingLocale] {
			t.Errorf("site language %q, want %q", got, site[settingLocale])
		}
		if got := q("SELECT COUNT(*) FROM wp_users"); got != "1" {
			t.Errorf("%s users, want the one administrator", got)
		}
		if got := q("SELECT CONCAT(user_login, ' ', user_email) FROM wp_users"); got != site[settingAdminUser]+" "+site[settingEmail] {
			t.Errorf("administrator %q, want %s %s", got, site[settingAdminUser], site[settingEmail])
		}
		page, err := fetch(lbClient, http.MethodGet, facts.SiteURL+"/", nil, nil)
		if err != nil || page.Code != http.StatusOK {
			t.Fatalf("front page through the load balancer: %v %s", err, page.Status)
		}
		if !strings.Contains(page.Body, `lang="ja"`) || !strings.Contains(page.Body, "はじめての") {
			t.Errorf("the front page is not the Japanese site with the configured title:\n%.600s", page.Body)
		}
	})

	t.Run("the pinned release, the plugin and the theme are live on every server", func(t *testing.T) {
		if !strings.Contains(boot1.Log, "activated lab-probe, theme lab-theme") {
			t.Errorf("the install did not activate the listed plugin and theme:\n%s", tailLines(boot1.Log, 10))
		}
		q := func(name string) string {
			return l.db.sql("USE " + dbName + "; SELECT option_value FROM wp_options WHERE option_name = '" + name + "'")
		}
		if got := q("active_plugins"); !strings.Contains(got, `"lab-probe/lab-probe.php"`) {
			t.Errorf("active_plugins %s lacks lab-probe", got)
		}
		if got := q("stylesheet") + "/" + q("template"); got != "lab-theme/twentytwentythree" {
			t.Errorf("theme %s, want lab-theme (child of twentytwentythree)", got)
		}
		checkServersRun(t, l, facts.SiteURL, facts.Version, s1, s2)
	})

	t.Run("home and siteurl are the public URL", func(t *testing.T) {
		for _, opt := range []string{"home", "siteurl"} {
			if got := l.db.sql("USE " + dbName + "; SELECT option_value FROM wp_options WHERE option_name = '" + opt + "'"); got != facts.SiteURL {
				t.Errorf("%s = %q, want the load balancer's URL %q", opt, got, facts.SiteURL)
			}
		}
		checkPublicURL(t, lbClient, facts.SiteURL)
	})

	t.Run("the admin logs in with the password from the secret and reaches wp-admin", func(t *testing.T) {
		var secret struct {
			AdminPassword string `json:"admin_password"`
		}
		raw := l.aws("secretsmanager", "get-secret-value", "--secret-id", facts.WPSecretName, "--query", "SecretString", "--output", "text")
		if err := json.Unmarshal([]byte(raw), &secret); err != nil || secret.AdminPassword != adminPassword {
			t.Fatalf("the secret's admin_password: %v", err)
		}
		jar := newJar()
		c := l.client(labLBAddr, jar)
		login(t, c, facts.SiteURL, site[settingAdminUser], secret.AdminPassword)
		checkDashboard(t, c, facts.SiteURL)
		wrong, _ := postLogin(l.client(labLBAddr, newJar()), facts.SiteURL, site[settingAdminUser], secret.AdminPassword+"x")
		if wrong.Code == http.StatusFound && strings.Contains(wrong.Location, "wp-admin") {
			t.Errorf("a wrong password logged in too")
		}
	})

	t.Run("a login cookie from server 1 is accepted by server 2", func(t *testing.T) {
		jar := newJar()
		login(t, l.client(s1.addr, jar), facts.SiteURL, site[settingAdminUser], adminPassword)
		checkDashboard(t, l.client(s2.addr, jar), facts.SiteURL)
	})

	t.Run("a file uploaded through the load balancer is served by every server, from the shared uploads", func(t *testing.T) {
		jar := newJar()
		c := l.client(labLBAddr, jar)
		login(t, c, facts.SiteURL, site[settingAdminUser], adminPassword)
		name, body := fmt.Sprintf("lab-upload-%d.txt", time.Now().UnixNano()), "uploaded once, served by every server\n"
		uploadMedia(t, c, facts.SiteURL, name, body)
		guid := l.db.sql("USE " + dbName + "; SELECT guid FROM wp_posts WHERE post_type = 'attachment' AND guid LIKE '%/" + name + "'")
		u, err := url.Parse(guid)
		if err != nil || !strings.HasPrefix(u.Path, "/wp-content/uploads/") {
			t.Fatalf("the upload was not recorded as an attachment under /wp-content/uploads: %q", guid)
		}
		for _, s := range []*webServer{s1, s2} {
			got, err := fetch(l.client(s.addr, nil), http.MethodGet, guid, nil, nil)
			if err != nil || got.Code != http.StatusOK || got.Body != body {
				t.Errorf("%s serves %s: %v %s %q", s.name(), u.Path, err, got.Status, got.Body)
			}
		}
		if b, err := os.ReadFile(filepath.Join(l.efs, "uploads", strings.TrimPrefix(u.Path, "/wp-content/uploads/"))); err != nil || string(b) != body {
			t.Errorf("the upload is not on the shared file system: %v", err)
		}
	})

	// An uploaded file is data, never code (siteuploads_test.go).
	t.Run("PHP dropped into the shared uploads runs on no server and leaks nothing, and no folder lists its files", func(t *testing.T) {
		checkUploadsAreData(t, l, facts.SiteURL, s1, s2)
	})
	var media *labMedia
	t.Run("media uploaded through WordPress is served by every server with its bytes and type; PHP uploads are refused; WordPress's PHP runs", func(t *testing.T) {
		media = checkMediaUploads(t, l, facts.SiteURL, site[settingAdminUser], adminPassword, s1, s2)
	})
	t.Run("PHP-FPM runs .php files only", func(t *testing.T) {
		checkOnlyPHPRuns(t, l, facts.SiteURL, s1, s2)
	})
	t.Run("every answer carries the security headers, and no HSTS over plain HTTP", func(t *testing.T) {
		checkSecurityHeaders(t, l, viewers(l, s1, s2), facts.SiteURL, site[settingAdminUser], adminPassword, media, false)
	})

	t.Run("the health-check path answers 200 on each server, without the database", func(t *testing.T) {
		for _, s := range []*webServer{s1, s2} {
			hc, err := fetch(l.client(s.addr, nil), http.MethodGet, "http://"+s.addr+facts.HealthCheck.Path, nil, nil)
			if err != nil || hc.Code != http.StatusOK {
				t.Errorf("%s %s: %v %s %q", s.name(), facts.HealthCheck.Path, err, hc.Status, hc.Body)
			}
		}
	})

	t.Run("each server is sized to its memory, and php-fpm and Apache accept the sizing", func(t *testing.T) {
		for _, s := range []*webServer{s1, s2} {
			checkSizing(t, s)
		}
	})

	t.Run("servers from the image, and their reboots, download and install nothing", func(t *testing.T) {
		reboot := s1.reboot()
		if !l.lb.waitTarget(s1.name(), "UP", 30*time.Second) {
			t.Fatalf("%s did not come back after a reboot", s1.name())
		}
		if got := l.wporg.count(facts.ArchiveURL); got != downloads {
			t.Errorf("the archive was downloaded %d more times by servers from the image", got-downloads)
		}
		for what, b := range map[string]bootResult{"server 1": boot1, "server 2": boot2, "server 1's reboot": reboot} {
			for _, again := range []string{"dnf ", "update-ca-trust"} {
				if strings.Contains(b.Calls, again) {
					t.Errorf("%s ran %q again:\n%s", what, again, b.Calls)
				}
			}
		}
		if strings.Contains(reboot.Log, "completing the launch") {
			t.Errorf("a reboot must not complete a launch again:\n%s", reboot.Log)
		}
		t.Logf("a reboot converges in %.1fs", reboot.Duration.Seconds())
	})

	t.Run("a settings change reaches the running servers without a failed request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		results := probe(ctx, lbClient, facts.SiteURL+"/", 50*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		changed := maps.Clone(site)
		changed[settingTitle] = "新しいタイトル"
		changed[settingEmail] = "owner@example.org"
		l.publishSettings(facts.SettingsPath, changed)
		began := time.Now()
		for _, s := range []*webServer{s1, s2} { // as the settings association does
			if out, err := s.run("/usr/local/sbin/wordpress-converge", "refresh"); err != nil || !strings.Contains(out, "refresh: converged") {
				t.Fatalf("refresh on %s: %v\n%s", s.name(), err, out)
			}
		}
		took := time.Since(began)
		time.Sleep(500 * time.Millisecond)
		cancel()
		o := summarise(<-results, began)
		t.Logf("settings refreshed on both servers in %.1fs; through the load balancer %s", took.Seconds(), o)
		if o.Failed > 0 || o.Slow > 0 {
			t.Errorf("requests failed or slowed while the settings were applied: %s", o)
		}
		q := func(sql string) string { return l.db.sql("USE " + dbName + "; " + sql) }
		if got := html.UnescapeString(q("SELECT option_value FROM wp_options WHERE option_name = 'blogname'")); got != "新しいタイトル" {
			t.Errorf("title after the refresh %q", got)
		}
		if got := q("SELECT CONCAT(option_value, ' ', (SELECT user_email FROM wp_users)) FROM wp_options WHERE option_name = 'admin_email'"); got != "owner@example.org owner@example.org" {
			t.Errorf("administrator e-mail after the refresh %q", got)
		}
		site = changed
	})

	// A database restore's hand-over (siterestore_test.go).
	checkRestoreHandOver(t, rs, facts)

	t.Run("WordPress's database connection is TLS with the server certificate verified", func(t *testing.T) {
		if got := l.db.sql("SELECT @@require_secure_transport"); got != "1" {
			t.Fatalf("the database must refuse connections without TLS (require_secure_transport = %s)", got)
		}
		good := l.db.certs
		for _, impostor := range []struct {
			what      string
			cert, key []byte
		}{
			{"a self-signed certificate for the endpoint's name", nil, nil},
			{"an RDS CA certificate for another name", nil, nil},
		} {
			if strings.HasPrefix(impostor.what, "a self-signed") {
				impostor.cert, impostor.key = issue(t, nil, labDBHost)
			} else {
				impostor.cert, impostor.key = issue(t, l.rdsCA, "other-db.cabcdefghij.ap-northeast-1.rds.amazonaws.com")
			}
			l.db.stop()
			l.db.serve(impostor.cert, impostor.key)
			l.db.start()
			page, err := fetch(lbClient, http.MethodGet, facts.SiteURL+"/", nil, nil)
			if err == nil && page.Code == http.StatusOK {
				t.Errorf("with %s WordPress still connected and served the site: the certificate is not verified", impostor.what)
			} else if err == nil && strings.Contains(page.Body, "wp-content/themes") {
				t.Errorf("with %s the site rendered content:\n%.300s", impostor.what, page.Body)
			}
		}
		l.db.stop()
		l.db.certs = good
		l.db.start()
		if page, err := fetch(lbClient, http.MethodGet, facts.SiteURL+"/", nil, nil); err != nil || page.Code != http.StatusOK {
			t.Errorf("with the real certificate back the site does not answer: %v %s", err, page.Status)
		}
	})

	// WordPress's own database user (sitedbuser_test.go).
	checkOwnDatabaseUser(t, rs, facts.SiteURL)
	checkDatabaseUserConverges(t, rs, facts)

	t.Run("a server with dead PHP is taken out of rotation by the health check", func(t *testing.T) {
		o, tookOut, down := l.takeOut(lbClient, facts.SiteURL+"/", s2, 4*facts.ExpectedUnhealthyWithin, func() { s2.killDaemon("php-fpm") })
		t.Logf("PHP killed on %s (Apache still up): taken out after %.1fs (ALB clock ≈ %.0fs); through the load balancer %s",
			s2.name(), tookOut.Seconds(), tookOut.Seconds()*labHCScale, o)
		if !down {
			t.Fatalf("%s kept passing the health check %s with PHP dead: it stays in rotation and fails its share of requests (%s)",
				s2.name(), facts.HealthCheck.Path, o)
		}
		if tookOut > 2*facts.ExpectedUnhealthyWithin {
			t.Errorf("taken out after %.1fs, want within %.1fs (%d failed checks at %ds, on the lab's 1/%d clock)", tookOut.Seconds(),
				facts.ExpectedUnhealthyWithin.Seconds(), facts.HealthCheck.Unhealthy, facts.HealthCheck.Interval, labHCScale)
		}
		checkServingAfter(t, o, tookOut, "with PHP dead on "+s2.name())
		s2.reboot()
		if !l.lb.waitTarget(s2.name(), "UP", 30*time.Second) {
			t.Fatalf("%s did not come back after a reboot", s2.name())
		}
	})

	t.Run("stopping one server leaves the load balancer serving", func(t *testing.T) {
		o, tookOut, down := l.takeOut(lbClient, facts.SiteURL+"/", s2, 4*facts.ExpectedUnhealthyWithin, s2.kill)
		t.Logf("%s stopped without draining: taken out after %.1fs (ALB clock ≈ %.0fs); through the load balancer %s "+
			"(ALB clock: error window ≈ %.0fs)", s2.name(), tookOut.Seconds(), tookOut.Seconds()*labHCScale, o, o.Window.Seconds()*labHCScale)
		if !down {
			t.Fatalf("the load balancer never took the stopped %s out", s2.name())
		}
		checkServingAfter(t, o, tookOut, "with "+s2.name()+" stopped")
		// The drill's default for an unplanned loss on AWS is unhealthy × interval + timeout;
		// the lab's load balancer gets one more interval of slack for its check scheduling.
		if o.Window > facts.ExpectedUnhealthyWithin {
			t.Errorf("error window %.1fs with %s stopped, want within %.1fs (%d failed checks %ds apart, on the lab's 1/%d clock)",
				o.Window.Seconds(), s2.name(), facts.ExpectedUnhealthyWithin.Seconds(), facts.HealthCheck.Unhealthy, facts.HealthCheck.Interval, labHCScale)
		}
		if o.Failed > 0 && o.Failed*2 > o.Requests {
			t.Errorf("more than half the requests failed with one of two servers stopped: %s", o)
		}
		s2.boot("systemctl", "start", "wordpress-converge.service")
		if !l.lb.waitTarget(s2.name(), "UP", 30*time.Second) {
			t.Fatalf("%s did not come back after a start", s2.name())
		}
	})

	t.Run("restarting the database brings the site back, and no server leaves the target group", func(t *testing.T) {
		before := l.lb.targets()
		ctx, cancel := context.WithCancel(context.Background())
		results := probe(ctx, lbClient, facts.SiteURL+"/", 100*time.Millisecond)
		time.Sleep(time.Second)
		restart := time.Now()
		l.db.stop()
		// Down for longer than the health check needs to take a server out: a check that
		// touched the database would empty the target group now.
		if page, err := fetch(lbClient, http.MethodGet, facts.SiteURL+"/", nil, nil); err == nil && page.Code == http.StatusOK {
			t.Errorf("the site answered 200 with the database down: the restart was not seen")
		}
		time.Sleep(facts.ExpectedUnhealthyWithin + time.Second)
		for _, s := range []*webServer{s1, s2} {
			if hc, err := fetch(l.client(s.addr, nil), http.MethodGet, "http://"+s.addr+facts.HealthCheck.Path, nil, nil); err != nil || hc.Code != http.StatusOK {
				t.Errorf("%s's health check fails with the database down (%v %s): every server would leave at once", s.name(), err, hc.Status)
			}
		}
		during := l.lb.targets()
		l.db.start()
		up := time.Since(restart)
		back := waitFor(60*time.Second, func() bool {
			page, err := fetch(lbClient, http.MethodGet, facts.SiteURL+"/", nil, nil)
			return err == nil && page.Code == http.StatusOK
		})
		time.Sleep(time.Second)
		cancel()
		o := summarise(<-results, restart)
		t.Logf("database down %.1fs (the failover stand-in): site outage %s", up.Seconds(), o)
		if !back {
			t.Fatal("the site did not come back after the database restarted")
		}
		for name, st := range during {
			if st.Status != "UP" || st.DownTimes != before[name].DownTimes {
				t.Errorf("%s left the target group while the database was down (%v -> %v): a failover would empty it", name, before[name], st)
			}
		}
	})

	// HTTPS: the program with a certificate and a domain. The new site URL reaches the
	// running servers as every setting does, by a refresh (no reboot); the load balancer
	// ends TLS.
	site[settingSiteURL] = facts.HTTPSSiteURL
	l.switchSite(t, facts, site, httpsHost, true, s1, s2)

	t.Run("with the HTTPS listener every link is https and nothing redirects in a loop", func(t *testing.T) {
		plain, err := fetch(lbClient, http.MethodGet, "http://"+httpsHost+"/", nil, nil)
		if err != nil || plain.Code != http.StatusMovedPermanently || plain.Location != facts.HTTPSSiteURL+"/" {
			t.Errorf("HTTP must redirect to %s/: %v %s %q", facts.HTTPSSiteURL, err, plain.Status, plain.Location)
		}
		checkPublicURL(t, lbClient, facts.HTTPSSiteURL)
		jar := newJar()
		c := l.client(labLBAddr, jar)
		login(t, c, facts.HTTPSSiteURL, site[settingAdminUser], adminPassword)
		for _, path := range []string{"/", "/wp-admin/", "/wp-admin/options-general.php", "/?p=1"} {
			final, body := followRedirects(t, c, facts.HTTPSSiteURL+path)
			if !strings.HasPrefix(final, facts.HTTPSSiteURL) {
				t.Errorf("%s ended at %s, off the HTTPS site", path, final)
			}
			if links := insecureLinks(body, httpsHost); len(links) > 0 {
				t.Errorf("%s links over plain HTTP (mixed content): %v", path, links)
			}
		}
	})
	t.Run("with the HTTPS listener every answer carries the security headers and HSTS", func(t *testing.T) {
		checkSecurityHeaders(t, l, map[string]*http.Client{"the load balancer": lbClient}, facts.HTTPSSiteURL, site[settingAdminUser], adminPassword, media, true)
	})

	// CloudFront (the default edge): the servers get the distribution's HTTPS URL, CloudFront's
	// protocol header and the cookie hash through a refresh; the load balancer forwards plain
	// HTTP, as the internal one behind the VPC origin does, and the stand-in CDN hop in front
	// of it behaves as the program configures the distribution.
	t.Run("behind CloudFront the site is HTTPS on the distribution's name, cached only for anonymous visitors", func(t *testing.T) {
		checkBehindCDN(t, l, facts, site, adminPassword, s1, s2)
	})
	t.Run("behind CloudFront every answer carries the response headers policy's security headers and HSTS", func(t *testing.T) {
		checkSecurityHeaders(t, l, map[string]*http.Client{"the CDN": l.client(labCDNAddr, nil)}, facts.CDN.SiteURL, site[settingAdminUser], adminPassword, media, true)
	})
	l.switchSite(t, facts, site, httpsHost, true, s1, s2)

	t.Run("each minute's cron runs on exactly one server, as the timer's unit runs it", func(t *testing.T) {
		user, command := cronUnit(t, s1)
		token := fmt.Sprintf("lab-cron-%d", time.Now().UnixNano())
		schedule := `define('WP_USE_THEMES', false); $_SERVER['HTTP_HOST'] = 'localhost'; require '/var/www/html/wp-load.php'; ` +
			`var_dump(wp_schedule_single_event(time() - 1, 'lab_probe_event', array('` + token + `')));`
		if out, err := s1.run("runuser", "-u", user, "--", "php", "-r", schedule); err != nil || !strings.Contains(out, "bool(true)") {
			t.Fatalf("schedule an event: %v\n%s", err, out)
		}
		before := time.Now().Unix() / 60
		outs := make([]string, 2)
		var wg sync.WaitGroup
		for i, s := range []*webServer{s1, s2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := s.run(append([]string{"runuser", "-u", user, "--"}, command...)...)
				if err != nil {
					out += "\nexit: " + err.Error()
				}
				outs[i] = out
			}()
		}
		wg.Wait()
		after := time.Now().Unix() / 60
		ran, skipped := 0, 0
		for i, out := range outs {
			switch {
			case strings.Contains(out, "exit:"):
				t.Errorf("server %d's cron failed:\n%s", i+1, out)
			case strings.Contains(out, "due event"):
				ran++
			case strings.Contains(out, "already run by another server"), strings.Contains(out, "another server holds the cron lock"):
				skipped++
			default:
				t.Errorf("server %d's cron said neither that it ran nor that it skipped:\n%s", i+1, out)
			}
		}
		if ran < 1 || (before == after && (ran != 1 || skipped != 1)) {
			t.Errorf("in one minute %d servers ran the cron and %d skipped, want 1 and 1:\n%s\n---\n%s", ran, skipped, outs[0], outs[1])
		}
		logged, _ := os.ReadFile(filepath.Join(l.efs, "uploads", "lab-probe-cron.log"))
		if n := strings.Count(string(logged), token+"\n"); n != 1 {
			t.Errorf("the scheduled event ran %d times, want once:\n%s\n---\n%s", n, outs[0], outs[1])
		}
	})

	t.Run("a tampered plugin or theme archive fails the image build, naming it", func(t *testing.T) {
		b := l.newServer(8)
		b.prepareBaseImage(hosts)
		defer b.stop()
		defer l.wporg.servePackage(labProbe)
		defer l.wporg.servePackage(labTheme)
		for _, c := range []struct {
			serve labPackage
			want  []string
		}{
			{labProbe.with("lab-probe.php", "<?php // changed\n").with("extra.php", "<?php // added\n"),
				[]string{"checksum mismatch for plugin lab-probe 1.0.0", "lab-probe.php (changed)", "extra.php (not published)"}},
			{labTheme.with("functions.php", "<?php // changed\n"), []string{"checksum mismatch for theme lab-theme 1.0.0"}},
		} {
			// The archive changes; what wordpress.org published about it (checksums, pinned hash) does not.
			l.wporg.servePackage(labProbe)
			l.wporg.set(c.serve.URL(), c.serve.Zip())
			r := b.firstBootE(facts.BuilderUserData)
			if r.Err == nil || strings.Contains(r.Log, "prepared:") {
				t.Errorf("the image build succeeded with a tampered %s:\n%s", c.serve.Kind, tailLines(r.Log, 10))
			}
			for _, want := range c.want {
				if !strings.Contains(r.Log, want) {
					t.Errorf("the failed build's journal lacks %q:\n%s", want, tailLines(r.Log, 10))
				}
			}
			if held := filepath.Join(b.dir, "disk", "var/www/html/wp-content", c.serve.Kind+"s", c.serve.Slug); exists(held) {
				t.Errorf("the tampered %s was installed at %s", c.serve.Kind, held)
			}
		}
	})

	t.Run("both servers converging at the same moment on an empty database install once", func(t *testing.T) {
		s1.stop()
		s2.stop()
		l.db.sql(fmt.Sprintf("DROP DATABASE %s; CREATE DATABASE %s;", dbName, dbName))
		var wg sync.WaitGroup
		logs := make([]bootResult, 2)
		for i, s := range []*webServer{s1, s2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				logs[i] = s.bootE("systemctl", "start", "wordpress-converge.service")
			}()
		}
		wg.Wait()
		installed := 0
		for i, b := range logs {
			if b.Status != "0" {
				t.Fatalf("server %d failed to converge:\n%s", i+1, tailLines(b.Log, 30))
			}
			installed += strings.Count(b.Log, "wordpress-converge: installed")
		}
		if installed != 1 {
			t.Errorf("%d servers installed the site, want exactly 1:\n%s\n---\n%s", installed, tailLines(logs[0].Log, 10), tailLines(logs[1].Log, 10))
		}
		if got := l.db.sql("USE " + dbName + "; SELECT COUNT(*) FROM wp_users"); got != "1" {
			t.Errorf("%s users after a concurrent install, want 1", got)
		}
		if got := l.db.sql("USE " + dbName + "; SELECT COUNT(*) FROM wp_posts WHERE post_type = 'post'"); got != "1" {
			t.Errorf("%s sample posts after a concurrent install, want 1", got)
		}
	})

	t.Run("servers of a new release booting together upgrade the database once", func(t *testing.T) {
		from, err := debianDBVersion()
		if err != nil {
			t.Fatal(err)
		}
		next := siteProgramFacts(t, merged(recipe, map[string]string{"wordpressVersion": nextRelease(t, facts.Version)}))
		l.serveRelease(next.ArchiveURL, next.Version, 1)
		b := l.newServer(7)
		b.prepareBaseImage(hosts)
		b.firstBoot(next.BuilderUserData)
		b.stop()
		s1.stop()
		s2.stop()
		// The test holds the install lock until both servers wait for it: they then contend
		// for it at the same moment, however their boots were timed.
		const lock = "wordpress-converge-install"
		release := l.db.holdLock(lock)
		boots := make([]bootResult, 2)
		var wg sync.WaitGroup
		for i, s := range []*webServer{s1, s2} {
			s.cloneDiskFrom(b)
			l.asg.launch(s.id, s.name())
			wg.Add(1)
			go func() {
				defer wg.Done()
				boots[i] = s.firstBootE(next.ServerUserData)
			}()
		}
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		both := false
		waitFor(labBootLimit, func() bool {
			select {
			case <-finished: // a boot ended without the lock (a failure, reported below)
				return true
			default:
				both = l.db.waitingFor(lock) >= 2
				return both
			}
		})
		release()
		<-finished
		if !both {
			t.Errorf("the two servers never waited for the install lock together")
		}
		upgrade := fmt.Sprintf("upgraded the database from %d to %d for WordPress %s", from, from+1, next.Version)
		upgraded := 0
		for i, r := range boots {
			if r.Err != nil {
				t.Fatalf("server %d of the new release failed to converge: %v\n%s", i+1, r.Err, tailLines(r.Log, 30))
			}
			upgraded += strings.Count(r.Log, upgrade)
		}
		if upgraded != 1 {
			t.Errorf("%d servers ran %q, want exactly 1:\n%s\n---\n%s", upgraded, upgrade, tailLines(boots[0].Log, 8), tailLines(boots[1].Log, 8))
		}
		if got := l.db.sql("USE " + dbName + "; SELECT option_value FROM wp_options WHERE option_name = 'db_version'"); got != strconv.Itoa(from+1) {
			t.Errorf("db_version %s after the upgrade, want %d", got, from+1)
		}
		if got := l.wporg.count(next.ArchiveURL); got != 1 {
			t.Errorf("WordPress %s downloaded %d times, want once (by the image builder)", next.Version, got)
		}
		for _, s := range []*webServer{s1, s2} {
			if !l.lb.waitTarget(s.name(), "UP", 30*time.Second) {
				t.Fatalf("%s of the new release never became healthy: %v", s.name(), l.lb.targets())
			}
		}
		checkServersRun(t, l, facts.SiteURL, next.Version, s1, s2)
	})

	// The render gate (siterelease_test.go): servers of two more releases, beside these two.
	checkRenderGate(t, rs, facts, recipe, facts.HTTPSSiteURL, s1, s2)

	t.Logf("site test took %.0fs", time.Since(began).Seconds())
}

// checkServersRun: each server's front page is built by WordPress version, with the lab's
// plugin (its header names the server) and theme (its meta tag).
func checkServersRun(t *testing.T, l *lab, siteURL, version string, servers ...*webServer) {
	t.Helper()
	for _, s := range servers {
		page, err := fetch(l.client(s.addr, nil), http.MethodGet, siteURL+"/", nil, nil)
		if err != nil || page.Code != http.StatusOK {
			t.Errorf("%s front page: %v %s", s.name(), err, page.Status)
			continue
		}
		if got := page.Header.Get("X-Lab-Probe"); got != s.addr {
			t.Errorf("%s: the plugin's header is %q, want %q (the plugin is not active there)", s.name(), got, s.addr)
		}
		if want := `content="WordPress ` + version + `"`; !strings.Contains(page.Body, want) {
			t.Errorf("%s does not run WordPress %s: no %s in its front page", s.name(), version, want)
		}
		if !strings.Contains(page.Body, `<meta name="lab-theme" content="1.0.0" />`) {
			t.Errorf("%s's front page is not rendered by the lab theme", s.name())
		}
	}
}

// cronUnit reads the cron timer's service as the image installed it: the user it runs as and
// its command.
func cronUnit(t *testing.T, s *webServer) (user string, command []string) {
	t.Helper()
	unit, err := os.ReadFile(filepath.Join(s.dir, "disk", "etc", "systemd", "system", "wordpress-cron.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "User="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			command = strings.Fields(v)
		}
	}
	if user == "" || len(command) == 0 {
		t.Fatalf("wordpress-cron.service has no User= or ExecStart=:\n%s", unit)
	}
	return user, command
}

// nextRelease is a patch release after version (x.y → x.y.1, x.y.z → x.y.z+1).
func nextRelease(t *testing.T, version string) string {
	t.Helper()
	parts := strings.Split(version, ".")
	if len(parts) == 2 {
		return version + ".1"
	}
	z, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		t.Fatalf("version %q", version)
	}
	return strings.Join(parts[:len(parts)-1], ".") + "." + strconv.Itoa(z+1)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// takeOut probes the site through the load balancer while breakIt breaks server s, until the
// load balancer takes s out (or limit passes) and two seconds more. It returns what the probe
// saw, with times from the moment of the break, and how long the load balancer took.
func (l *lab) takeOut(c *http.Client, siteURL string, s *webServer, limit time.Duration, breakIt func()) (o outage, tookOut time.Duration, down bool) {
	ctx, cancel := context.WithCancel(context.Background())
	results := probe(ctx, c, siteURL, 50*time.Millisecond)
	time.Sleep(time.Second)
	broken := time.Now()
	breakIt()
	down = l.lb.waitTarget(s.name(), "DOWN", limit)
	tookOut = time.Since(broken)
	time.Sleep(2 * time.Second)
	cancel()
	return summarise(<-results, broken), tookOut, down
}

// checkServingAfter: once the load balancer has taken the broken server out (half a second
// for requests in flight), every request succeeds.
func checkServingAfter(t *testing.T, o outage, tookOut time.Duration, what string) {
	t.Helper()
	settled := tookOut + 500*time.Millisecond
	if o.Failed > 0 && o.FirstFail+o.Window > settled {
		t.Errorf("%s, requests still failed %.1fs after the load balancer took it out (%s)", what,
			(o.FirstFail + o.Window - settled).Seconds(), o)
	}
}

// checkPublicURL: the front page answers 200 and WordPress announces the public URL as its
// home (the REST API's discovery link), with links under it.
func checkPublicURL(t *testing.T, c *http.Client, siteURL string) {
	t.Helper()
	page, err := fetch(c, http.MethodGet, siteURL+"/", nil, nil)
	if err != nil || page.Code != http.StatusOK {
		t.Fatalf("%s/: %v %s (redirect to %q)", siteURL, err, page.Status, page.Location)
	}
	if link := page.Header.Get("Link"); !strings.HasPrefix(link, "<"+siteURL+"/wp-json/>") {
		t.Errorf("WordPress's home is not %s: Link %q", siteURL, link)
	}
	if !strings.Contains(page.Body, `href="`+siteURL+`/`) {
		t.Errorf("the front page has no link under %s:\n%.500s", siteURL, page.Body)
	}
}

// postLogin submits the login form once (after the test cookie WordPress wants).
func postLogin(c *http.Client, siteURL, user, password string) (reply, error) {
	if form, err := fetch(c, http.MethodGet, siteURL+"/wp-login.php", nil, nil); err != nil {
		return form, err
	}
	form := url.Values{"log": {user}, "pwd": {password}, "wp-submit": {"Log In"}, "testcookie": {"1"},
		"redirect_to": {siteURL + "/wp-admin/"}}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return fetch(c, http.MethodPost, siteURL+"/wp-login.php", h, strings.NewReader(form.Encode()))
}

// login logs in and fails the test unless WordPress sends the user to wp-admin with a
// logged-in cookie.
func login(t *testing.T, c *http.Client, siteURL, user, password string) {
	t.Helper()
	got, err := postLogin(c, siteURL, user, password)
	if err != nil || got.Code != http.StatusFound || !strings.HasPrefix(got.Location, siteURL+"/wp-admin") {
		t.Fatalf("login as %s: %v %s to %q\n%.400s", user, err, got.Status, got.Location, got.Body)
	}
	for _, ck := range got.Cookies {
		if strings.HasPrefix(ck.Name, "wordpress_logged_in_") {
			return
		}
	}
	t.Fatalf("login as %s set no logged-in cookie", user)
}

// checkDashboard: wp-admin answers with the dashboard, not a redirect to the login form.
func checkDashboard(t *testing.T, c *http.Client, siteURL string) {
	t.Helper()
	page, err := fetch(c, http.MethodGet, siteURL+"/wp-admin/", nil, nil)
	if err != nil || page.Code != http.StatusOK || !strings.Contains(page.Body, "wp-admin wp-core-ui") {
		t.Fatalf("wp-admin: %v %s (to %q); the cookie was not accepted", err, page.Status, page.Location)
	}
}

// followRedirects follows at most 10 redirects and fails the test on a loop or an error.
func followRedirects(t *testing.T, c *http.Client, start string) (final, body string) {
	t.Helper()
	u := start
	seen := map[string]bool{}
	for range 10 {
		page, err := fetch(c, http.MethodGet, u, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if page.Code < 300 || page.Code > 399 {
			if page.Code != http.StatusOK {
				t.Errorf("%s answered %s", u, page.Status)
			}
			return u, page.Body
		}
		if page.Location == "" {
			t.Fatalf("%s: redirect without a location", u)
		}
		if seen[page.Location] {
			t.Fatalf("redirect loop from %s at %s", start, page.Location)
		}
		seen[u] = true
		u = page.Location
	}
	t.Fatalf("more than 10 redirects from %s", start)
	return "", ""
}

var (
	htmlTag  = regexp.MustCompile(`(?is)<([a-z][a-z0-9]*)\b([^>]*)>`)
	htmlAttr = regexp.MustCompile(`(?i)\b(href|src|srcset|action|content)\s*=\s*["']([^"']*)["']`)
)

// subresourceTags load what they point at into the page: over http:// that is mixed content.
var subresourceTags = map[string]bool{"img": true, "script": true, "link": true, "iframe": true, "source": true,
	"video": true, "audio": true, "embed": true, "form": true}

// insecureLinks are the page's plain-http:// URLs that matter under HTTPS: any link to the
// site itself, and any resource the page loads (mixed content). Links to other sites in the
// content (the sample post's forum link) are the author's choice.
func insecureLinks(body, siteHost string) []string {
	var out []string
	for _, tag := range htmlTag.FindAllStringSubmatch(body, -1) {
		name := strings.ToLower(tag[1])
		for _, a := range htmlAttr.FindAllStringSubmatch(tag[2], -1) {
			for _, u := range strings.Split(html.UnescapeString(a[2]), ",") {
				u = strings.TrimSpace(u)
				if !strings.HasPrefix(strings.ToLower(u), "http://") {
					continue
				}
				if subresourceTags[name] || hostOf(u) == siteHost {
					out = append(out, "<"+name+"> "+u)
				}
			}
		}
	}
	return uniq(out)
}

// uploadMedia uploads a file with wp-admin's browser uploader (media-new.php), as an
// administrator does, and checks WordPress took it.
func uploadMedia(t *testing.T, c *http.Client, siteURL, name, body string) {
	t.Helper()
	page, err := fetch(c, http.MethodGet, siteURL+"/wp-admin/media-new.php?browser-uploader", nil, nil)
	m := regexp.MustCompile(`name="_wpnonce" value="([0-9a-f]+)"`).FindStringSubmatch(page.Body)
	if err != nil || page.Code != http.StatusOK || m == nil {
		t.Fatalf("media-new.php: %v %s, nonce found %v", err, page.Status, m != nil)
	}
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	for k, v := range map[string]string{"_wpnonce": m[1], "_wp_http_referer": "/wp-admin/media-new.php", "post_id": "0", "html-upload": "Upload"} {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("async-upload", name)
	_, _ = fw.Write([]byte(body))
	_ = w.Close()
	got, err := fetch(c, http.MethodPost, siteURL+"/wp-admin/media-new.php", http.Header{"Content-Type": {w.FormDataContentType()}}, &form)
	if err != nil || got.Code != http.StatusFound || !strings.Contains(got.Location, "upload.php") {
		t.Fatalf("upload %s: %v %s -> %q\n%s", name, err, got.Status, got.Location, got.Body[:min(len(got.Body), 600)])
	}
}

// checkBehindCDN switches the running servers to the CloudFront edge and checks the site
// through the stand-in CDN: HTTP redirects to HTTPS, login and wp-admin work with no redirect
// loop and no http:// link, a logged-in user is never served from (or into) the cache, an
// anonymous page is, and search results are not.
func checkBehindCDN(t *testing.T, l *lab, facts programFacts, site map[string]string, adminPassword string, servers ...*webServer) {
	cdnSite := maps.Clone(site)
	for _, k := range []string{settingSiteURL, settingProto, settingCookie} {
		cdnSite[k] = facts.CDN.Site[k]
	}
	host := hostOf(facts.CDN.SiteURL)
	l.switchSite(t, facts, cdnSite, host, false, servers...)
	l.startCDN(facts.CDN, host)
	viewer := func(jar http.CookieJar) *http.Client { return l.client(labCDNAddr, jar) }
	siteURL := facts.CDN.SiteURL
	if !strings.HasPrefix(siteURL, "https://") {
		t.Fatalf("the CDN site URL %s is not HTTPS", siteURL)
	}

	plain, err := fetch(viewer(nil), http.MethodGet, "http://"+host+"/?p=1", nil, nil)
	if err != nil || plain.Code != http.StatusMovedPermanently || plain.Location != siteURL+"/?p=1" {
		t.Errorf("HTTP must redirect to %s/?p=1: %v %s %q", siteURL, err, plain.Status, plain.Location)
	}
	checkPublicURL(t, viewer(nil), siteURL)

	// Anonymous: the second visit is served from the cache, and holds no admin bar.
	anon := viewer(nil)
	first, err1 := fetch(anon, http.MethodGet, siteURL+"/", nil, nil)
	second, err2 := fetch(anon, http.MethodGet, siteURL+"/", nil, nil)
	if err1 != nil || err2 != nil || second.Header.Get("X-Cache") != "Hit from cloudfront" || first.Code != http.StatusOK {
		t.Errorf("an anonymous page must be cached: %v %v %s then %q", err1, err2, first.Status, second.Header.Get("X-Cache"))
	}
	for _, q := range []string{"/?s=hello", "/?s=hello"} {
		page, err := fetch(anon, http.MethodGet, siteURL+q, nil, nil)
		if err != nil || page.Header.Get("X-Cache") == "Hit from cloudfront" || !strings.Contains(page.Header.Get("Cache-Control"), "no-store") {
			t.Errorf("search results must say no-store and never be served from the cache: %v %q %q", err, page.Header.Get("X-Cache"), page.Header.Get("Cache-Control"))
		}
	}

	// Logged in, through the CDN: every page is HTTPS, nothing loops, nothing links http://.
	jar := newJar()
	c := viewer(jar)
	login(t, c, siteURL, site[settingAdminUser], adminPassword)
	checkDashboard(t, c, siteURL)
	for _, p := range []string{"/", "/wp-admin/", "/wp-admin/options-general.php", "/?p=1", "/wp-admin/post-new.php"} {
		final, body := followRedirects(t, c, siteURL+p)
		if !strings.HasPrefix(final, siteURL) {
			t.Errorf("%s ended at %s, off the CDN's HTTPS site", p, final)
		}
		if links := insecureLinks(body, host); len(links) > 0 || strings.Contains(body, "http://"+host) {
			t.Errorf("%s links over plain HTTP (mixed content): %v", p, links)
		}
	}
	// The login cookie carries the hash the cache key names, so the front page reaches WordPress
	// with it: the admin bar, and no-store, so that the page is never cached for anyone.
	u, _ := url.Parse(siteURL + "/")
	var loggedIn string
	for _, ck := range jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "wordpress_logged_in_") {
			loggedIn = ck.Name
		}
	}
	if loggedIn != "wordpress_logged_in_"+facts.CDN.Site[settingCookie] {
		t.Errorf("WordPress's login cookie is %q; the cache key names wordpress_logged_in_%s", loggedIn, facts.CDN.Site[settingCookie])
	}
	for range 2 {
		page, err := fetch(c, http.MethodGet, siteURL+"/", nil, nil)
		if err != nil || !strings.Contains(page.Body, `id="wpadminbar"`) || page.Header.Get("X-Cache") == "Hit from cloudfront" ||
			storable(page.Header.Get("Cache-Control")) {
			t.Errorf("a logged-in user's front page must reach WordPress and say no-store: %v admin bar %v, %q, %q", err,
				strings.Contains(page.Body, `id="wpadminbar"`), page.Header.Get("X-Cache"), page.Header.Get("Cache-Control"))
		}
	}
	if page, err := fetch(viewer(nil), http.MethodGet, siteURL+"/", nil, nil); err != nil || strings.Contains(page.Body, `id="wpadminbar"`) {
		t.Errorf("an anonymous visitor was served a logged-in page: %v", err)
	}
}

// switchSite publishes new site settings, refreshes the running servers with them (no reboot)
// and restarts the load balancer for the site's host and scheme, back with every server.
func (l *lab) switchSite(t *testing.T, facts programFacts, site map[string]string, host string, https bool, servers ...*webServer) {
	t.Helper()
	l.publishSettings(facts.SettingsPath, site)
	for _, s := range servers {
		if out, err := s.run("/usr/local/sbin/wordpress-converge", "refresh"); err != nil {
			t.Fatalf("refresh on %s: %v\n%s", s.name(), err, out)
		}
	}
	l.startLB(facts.HealthCheck, host, https, len(servers))
	for _, s := range servers {
		if !l.lb.waitTarget(s.name(), "UP", 30*time.Second) {
			t.Fatalf("%s did not come back after the switch to %s (https %v)", s.name(), host, https)
		}
	}
}

// checkSizing runs php-fpm's and Apache's own config tests in the server's root and checks
// that the pool they run is the converge script's sizing (boot/sizing.sh), not Amazon
// Linux's 50 dynamic workers.
func checkSizing(t *testing.T, s *webServer) {
	t.Helper()
	fpm, err := s.run("bash", "-c", `PHP_INI_SCAN_DIR=:/etc/php.d "$(compgen -G '/usr/sbin/php-fpm*' | head -n 1)" -tt --fpm-config /etc/php-fpm.conf 2>&1`)
	if err != nil || !strings.Contains(fpm, "test is successful") {
		t.Fatalf("%s: php-fpm -t: %v\n%s", s.name(), err, fpm)
	}
	sizing, _ := s.run("cat", "/etc/php-fpm.d/zz-sizing.conf")
	children := regexp.MustCompile(`(?m)^pm\.max_children = (\d+)$`).FindStringSubmatch(sizing)
	if children == nil || children[1] == "50" {
		t.Fatalf("%s: no sizing of its own in zz-sizing.conf:\n%s", s.name(), sizing)
	}
	for _, want := range []string{"pm = static", "pm.max_children = " + children[1], "pm.max_requests = 500", "listen.backlog = "} {
		if !strings.Contains(fpm, want) {
			t.Errorf("%s: the effective pool lacks %q:\n%s", s.name(), want, fpm)
		}
	}
	if strings.Contains(fpm, "WARNING") {
		t.Errorf("%s: php-fpm warns about its configuration:\n%s", s.name(), fpm)
	}
	// Apache corrects an inconsistent sizing (threads above ThreadLimit...) with a warning.
	if out, err := s.run("apache2", "-t", "-f", "/etc/httpd/conf/httpd.conf"); err != nil || strings.TrimSpace(out) != "Syntax OK" {
		t.Errorf("%s: apachectl -t: %v\n%s", s.name(), err, out)
	}
	opcache, err := s.run("bash", "-c", `PHP_INI_SCAN_DIR=:/etc/php.d php -d opcache.enable_cli=1 -r 'echo ini_get("opcache.memory_consumption"), " ", ini_get("opcache.max_accelerated_files");'`)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(opcache), " 20000") {
		t.Errorf("%s: OPcache settings not read from /etc/php.d: %v %q", s.name(), err, opcache)
	}
}
