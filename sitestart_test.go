//go:build lab

package main

// startSite brings the lab to a serving site, the way a deploy does: the managed services'
// stand-ins hold what the program puts in them, the image builder prepares the golden image,
// and the group's servers launch from it, each held out of the load balancer until it
// completes its launch. The site test and the capacity benchmark start from here.

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// The secrets' values: RDS's alphabet for the master password, the generator's (see
// newWordPressSecret) for the admin's, and for WordPress's database user what breaks naive
// quoting in SQL, PHP and shell.
const (
	labDBPassword    = `Db!#$%^&*()-_=+[]{}<>:?,.pw9Q`
	labAppPassword   = `App'pw"\%_$x` + "`y`" + `{9}`
	labAdminPassword = `Adm!n@#$%&*()-_=+[]{}<>:?9x`
	// labMasterSecretName is what RDS names the secret in which it keeps the master credential.
	labMasterSecretName = "rds!db-0a1b2c3d-lab"
)

// runningSite is a serving site in the lab.
type runningSite struct {
	l                   *lab
	site                map[string]string // the site settings, with the secrets' ARNs
	masterSecretARN     string            // RDS's secret of the master credential, handed off as db-master-secret-arn
	hosts               map[string]string // the servers' name resolution
	salts               []string
	httpHost, httpsHost string
	builder             *webServer
	servers             []*webServer
	prepared            bootResult   // the builder's
	boots               []bootResult // the servers' first boots
	downloads           int          // of the WordPress archive, by the builder
}

// startSite starts the stand-ins, builds the image and boots servers 1..n from it behind the
// load balancer. launch, when set, is called on each server before its first boot.
func startSite(t *testing.T, facts programFacts, n int, launch func(*webServer)) *runningSite {
	t.Helper()
	began := time.Now()
	l := newLab(t)
	rs := &runningSite{l: l, httpHost: hostOf(facts.SiteURL), httpsHost: hostOf(facts.HTTPSSiteURL)}
	l.startDB(labDBPassword)
	l.startMoto()
	appSecret, err := dbCredentialsJSON(dbAppUser, labAppPassword)
	if err != nil {
		t.Fatal(err)
	}
	masterSecret := `{"username":"` + dbUser + `","password":"` + labDBPassword + `"}` // RDS's shape
	rs.salts = make([]string, len(wordpressSaltNames))
	for i := range rs.salts {
		rs.salts[i] = fmt.Sprintf(`salt-%d-'"\$`, i) + strings.Repeat(string(rune('a'+i)), 48)
	}
	wpSecret, err := wordpressSecretJSON(labAdminPassword, rs.salts)
	if err != nil {
		t.Fatal(err)
	}
	rs.site = maps.Clone(facts.Site)
	rs.site[settingDBAppSecret] = l.aws("secretsmanager", "create-secret", "--name", facts.DBAppSecretName, "--secret-string", appSecret, "--query", "ARN", "--output", "text")
	rs.site[settingWPSecret] = l.aws("secretsmanager", "create-secret", "--name", facts.WPSecretName, "--secret-string", wpSecret, "--query", "ARN", "--output", "text")
	rs.masterSecretARN = l.aws("secretsmanager", "create-secret", "--name", labMasterSecretName, "--secret-string", masterSecret, "--query", "ARN", "--output", "text")
	l.publishSettings(facts.SettingsPath, rs.site)
	// What RDS's creation hands off: its endpoint and its master credential's secret.
	l.putParameter(facts.SettingsPath+"/"+dbHostParameterLeaf, labDBHost)
	l.putParameter(facts.SettingsPath+"/"+dbMasterSecretParameterLeaf, rs.masterSecretARN)
	l.startWordPressOrg(facts.ArchiveURL, facts.Version, facts.RDSBundle, labProbe, labTheme)
	l.startAutoScaling(facts.Group, facts.LaunchHook)
	rs.hosts = map[string]string{labDBHost: labDBAddr, labRestoredDBHost: labRestoredDBAddr, hostOf(facts.ArchiveURL): labWebOrg, hostOf(facts.RDSBundle): labWebOrg,
		"api.wordpress.org": labWebOrg, labDownloadsHost: labWebOrg, rs.httpHost: labLBAddr, rs.httpsHost: labLBAddr}
	t.Logf("lab ready in %.1fs (MariaDB, moto, wordpress.org and Auto Scaling stand-ins)", time.Since(began).Seconds())

	// The image builder prepares from the base image with its own user data; the golden
	// image is a copy of its disk; the servers launch from it with the launch template's.
	rs.builder = l.newServer(9)
	rs.builder.prepareBaseImage(rs.hosts)
	rs.prepared = rs.builder.firstBoot(facts.BuilderUserData)
	rs.downloads = l.wporg.count(facts.ArchiveURL)
	rs.builder.stop()
	l.startLB(facts.HealthCheck, rs.httpHost, false, n)
	for i := 1; i <= n; i++ {
		s := l.newServer(i)
		s.cloneDiskFrom(rs.builder)
		if launch != nil {
			launch(s)
		}
		l.asg.launch(s.id, s.name())
		rs.servers = append(rs.servers, s)
	}
	took := make([]string, 0, n)
	for _, s := range rs.servers {
		b := s.firstBoot(facts.ServerUserData)
		rs.boots = append(rs.boots, b)
		took = append(took, fmt.Sprintf("%.1fs", b.Duration.Seconds()))
	}
	t.Logf("boots: the builder's prepare %.1fs; servers from the image configure in %s",
		rs.prepared.Duration.Seconds(), strings.Join(took, ", "))
	for _, s := range rs.servers {
		if !l.lb.waitTarget(s.name(), "UP", 30*time.Second) {
			t.Fatalf("%s never became healthy in the load balancer: %v\n%s", s.name(), l.lb.targets(), l.log("haproxy"))
		}
	}
	return rs
}
