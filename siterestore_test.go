//go:build lab

package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// checkRestoreHandOver is a restore's hand-over (dbRestore, docs/operations.md "Restoring the
// database") on the real software: a second database, loaded from a dump of the serving one
// as RDS restores it (the data, WordPress's own user with its password, the master user), with
// a post only it holds; the program's settings then name it (its endpoint, and the master
// credential RDS made for it) and the settings association's refresh runs on every server.
// Through the load balancer not one request fails, no daemon restarts, and the site then
// answers from the restored database. The hand-back (the same path, to the first database)
// leaves the lab as the later subtests expect it.
func checkRestoreHandOver(t *testing.T, rs *runningSite, facts programFacts) {
	l := rs.l
	lbClient := l.client(labLBAddr, nil)
	hostParam := facts.SettingsPath + "/" + dbHostParameterLeaf
	masterParam := facts.SettingsPath + "/" + dbMasterSecretParameterLeaf
	daemons := []string{"httpd", "php-fpm"}
	pids := func() map[string]int {
		m := map[string]int{}
		for _, s := range rs.servers {
			for _, d := range daemons {
				m[s.name()+" "+d] = s.pid(d)
			}
		}
		return m
	}
	// handOver publishes the database's endpoint and master credential and runs the refresh
	// on every server, as the association does, with the site probed throughout.
	handOver := func(t *testing.T, what, host, masterARN string) {
		t.Helper()
		before := pids()
		for k, pid := range before {
			if pid <= 0 {
				t.Fatalf("%s: no PID recorded", k)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		results := probe(ctx, lbClient, facts.SiteURL+"/", 50*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		began := time.Now()
		l.putParameter(hostParam, host)
		l.putParameter(masterParam, masterARN)
		for _, s := range rs.servers {
			if out, err := s.run(convergeCommand, "refresh"); err != nil || !strings.Contains(out, "refresh: converged") {
				cancel()
				t.Fatalf("%s: refresh on %s: %v\n%s", what, s.name(), err, out)
			}
		}
		took := time.Since(began)
		time.Sleep(time.Second)
		cancel()
		o := summarise(<-results, began)
		t.Logf("%s: settings refreshed on %d servers in %.1fs; through the load balancer %s", what, len(rs.servers), took.Seconds(), o)
		if o.Failed > 0 {
			t.Errorf("%s: requests failed during the hand-over: %s", what, o)
		}
		if after := pids(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: daemons restarted (PIDs %v -> %v): the hand-over must restart nothing", what, before, after)
		}
	}

	t.Run("a restored database takes over through the settings without a failed request or a restart", func(t *testing.T) {
		restored := l.newDB("restored", labRestoredDBAddr, labRestoredDBHost)
		restored.start()
		defer restored.stop()
		// RDS restores the whole instance: the database, and the users with their passwords.
		dump, err := exec.Command("mariadb-dump", "--no-defaults", "-S", l.db.socket, "-uroot", "--single-transaction",
			"--databases", dbName).Output()
		if err != nil {
			t.Fatalf("mariadb-dump: %v", err)
		}
		load := exec.Command("mariadb", "--no-defaults", "-S", restored.socket, "-uroot")
		load.Stdin = strings.NewReader(string(dump))
		if out, err := load.CombinedOutput(); err != nil {
			t.Fatalf("load the dump: %v\n%s", err, out)
		}
		for _, user := range []string{dbUser, dbAppUser} {
			grantee := sqlQuote(user) + "@'%'"
			stmts := []string{l.db.sql("SHOW CREATE USER " + grantee)}
			stmts = append(stmts, strings.Split(l.db.sql("SHOW GRANTS FOR "+grantee), "\n")...)
			restored.sql(strings.Join(stmts, "; ") + "; FLUSH PRIVILEGES")
		}
		// RDS hands a restored instance a master credential of its own (manageMasterUserPassword).
		newMaster := labDBPassword + "-restored"
		restored.sql("ALTER USER " + sqlQuote(dbUser) + "@'%' IDENTIFIED BY " + sqlQuote(newMaster))
		masterARN := l.aws("secretsmanager", "create-secret", "--name", labMasterSecretName+"-restored",
			"--secret-string", `{"username":"`+dbUser+`","password":"`+newMaster+`"}`, "--query", "ARN", "--output", "text")
		word := fmt.Sprintf("restoredonly%d", time.Now().UnixNano())
		title := "Only in the restored database " + word
		id := restored.sql("USE " + dbName + "; INSERT INTO wp_posts (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, " +
			"post_status, comment_status, ping_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type) " +
			"VALUES (1, NOW(), UTC_TIMESTAMP(), 'Restored.', " + sqlQuote(title) + ", '', 'publish', 'closed', 'closed', 'restored-only', '', '', " +
			"NOW(), UTC_TIMESTAMP(), '', 'post'); SELECT LAST_INSERT_ID()")
		// A search for a word only that post holds: a page that lists it comes from the
		// restored data (the post's own URL redirects to its permalink).
		search := "/?s=" + word
		page := func() (reply, error) { return fetch(lbClient, http.MethodGet, facts.SiteURL+search, nil, nil) }
		if p, err := page(); err == nil && strings.Contains(p.Body, title) {
			t.Fatalf("the site shows the restored-only post before the hand-over: the test proves nothing")
		}

		handOver(t, "the restore", labRestoredDBHost, masterARN)

		// PHP sees the new runtime settings once OPcache revalidates the file (seconds).
		for _, s := range rs.servers {
			var p reply
			var err error
			if !waitFor(15*time.Second, func() bool {
				p, err = fetch(l.client(s.addr, nil), http.MethodGet, facts.SiteURL+search, nil, nil)
				return err == nil && p.Code == http.StatusOK && strings.Contains(p.Body, title)
			}) {
				t.Errorf("%s does not answer from the restored database (post %s): %v %s\n%.300s", s.name(), id, err, p.Status, p.Body)
			}
		}
		if p, err := page(); err != nil || p.Code != http.StatusOK || !strings.Contains(p.Body, title) {
			t.Errorf("through the load balancer the restored post %s is not served: %v %s", id, err, p.Status)
		}

		// The hand-back: the first database again, by the same path.
		handOver(t, "the hand-back", labDBHost, rs.masterSecretARN)
		if !waitFor(15*time.Second, func() bool { p, err := page(); return err == nil && !strings.Contains(p.Body, title) }) {
			t.Errorf("after the hand-back the site still shows the restored-only post")
		}
	})
}
