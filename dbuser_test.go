package main

// WordPress's own database user: the servers build WordPress's config from its credentials,
// never the master's; the master credential is readable by the servers' role only while the
// stack allows it, and only the boot script's user-creation step reads it.

import (
	"path"
	"regexp"
	"strings"
	"testing"
)

// masterSecretARNs are every secret that holds the database's master credential: RDS's, and
// any the program stores with the master user's name.
func masterSecretARNs(t *testing.T, r *stackRun) []string {
	t.Helper()
	var arns []string
	if a := rdsMasterSecretArn(t, r); a != "" {
		arns = append(arns, a)
	}
	for _, v := range r.ofType("aws:secretsmanager/secretVersion:SecretVersion") {
		if jsonInput(t, v, "secretString")["username"] == dbUser {
			arns = append(arns, out(r.byID(v.Str("secretId")), "arn"))
		}
	}
	if len(arns) == 0 {
		t.Fatal("no secret holds the master credential")
	}
	return arns
}

// grants reports whether an IAM policy statement's action and resource patterns (with * and
// ? wildcards) cover action on resource.
func grants(t *testing.T, st map[string]any, action, resource string) bool {
	t.Helper()
	// IAM's * also matches '/', path.Match's does not: compare with '/' replaced. Case is
	// ignored (actions ignore it; for resources it only widens what counts as a grant).
	flat := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "/", "|") }
	match := func(patterns []string, s string) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(flat(p), flat(s)); ok {
				return true
			}
		}
		return false
	}
	switch {
	case st["Effect"] != "Allow":
		return false
	case st["NotAction"] != nil || st["NotResource"] != nil:
		return true // too broad to reason about: it counts
	}
	return match(stringList(st["Action"]), action) && match(stringList(st["Resource"]), resource)
}

// readersOf lists the role policies that let a role read the secret.
func readersOf(t *testing.T, r *stackRun, secretArn string) []string {
	t.Helper()
	var readers []string
	for _, p := range r.ofType("aws:iam/rolePolicy:RolePolicy") {
		for _, s := range jsonInput(t, p, "policy")["Statement"].([]any) {
			if grants(t, s.(map[string]any), "secretsmanager:GetSecretValue", secretArn) {
				readers = append(readers, p.URN)
			}
		}
	}
	for _, att := range r.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		// AWS's managed policies for Session Manager read no secret; anything else might.
		if !strings.HasSuffix(att.Str("policyArn"), ":iam::aws:policy/AmazonSSMManagedInstanceCore") {
			readers = append(readers, att.URN)
		}
	}
	return readers
}

// With dbServersReadMaster off, no role of the stack can read the master credential, in
// either master-password mode; with it on, only the servers' role can, through the one
// policy that waits for RDS.
func TestNoServerRoleReadsTheMasterCredentialOnceSealed(t *testing.T) {
	for _, managed := range []string{"true", "false"} {
		sealed := mustRun(t, map[string]string{"dbServersReadMaster": "false", "dbManagedMasterPassword": managed})
		for _, arn := range masterSecretARNs(t, sealed) {
			if readers := readersOf(t, sealed, arn); len(readers) > 0 {
				t.Errorf("dbServersReadMaster false, dbManagedMasterPassword %s: %v may read the master credential %s", managed, readers, arn)
			}
		}
		open := mustRun(t, map[string]string{"dbManagedMasterPassword": managed})
		for _, arn := range masterSecretARNs(t, open) {
			readers := readersOf(t, open, arn)
			want := open.m.Named("aws:iam/rolePolicy:RolePolicy", "web-read-db-master")
			if want == nil || len(readers) != 1 || readers[0] != want.URN || want.Str("role") != out(open.m.Named("aws:iam/role:Role", "web-role"), "name") {
				t.Errorf("dbManagedMasterPassword %s: the master credential %s is readable by %v, want only the servers' role through web-read-db-master", managed, arn, readers)
			}
		}
	}
}

// The checker above must be able to fail: wildcards and broad statements count.
func TestGrantsSeesWildcards(t *testing.T) {
	arn := "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-0a1b-AbCdEf"
	for _, st := range []map[string]any{
		{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
		{"Effect": "Allow", "Action": []any{"secretsmanager:GetSecretValue"}, "Resource": []any{"arn:aws:secretsmanager:*:*:secret:rds!*"}},
		{"Effect": "Allow", "Action": "*", "Resource": arn},
		{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
	} {
		if !grants(t, st, "secretsmanager:GetSecretValue", arn) {
			t.Errorf("%v grants the read, and grants says it does not", st)
		}
	}
	if grants(t, map[string]any{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:*:*:secret:web-*"}, "secretsmanager:GetSecretValue", arn) {
		t.Error("another secret's statement counted as a read of this one")
	}
}

// WordPress's config (runtime.php) is built from WordPress's own credentials, and the master
// credential's setting is read in one place only: ensure_db_user, after WordPress's user has
// failed its check. Today's servers built it from the master's.
func TestWordPressConnectsAsItsOwnUser(t *testing.T) {
	r := mustRun(t, nil)
	site := jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
	app, doc := userSecret(t, r, dbAppUser)
	if site[settingDBAppSecret] != out(app, "arn") || doc["username"] == dbUser {
		t.Errorf("the servers' database credentials (%s) are not WordPress's own user's: %v", settingDBAppSecret, site[settingDBAppSecret])
	}
	for _, arn := range masterSecretARNs(t, r) {
		for k, v := range site {
			if v == arn {
				t.Errorf("the site settings name the master credential as %s", k)
			}
		}
	}
	script := renderedScripts(t)["wordpress-converge"]
	body := func(fn string) string {
		m := regexp.MustCompile(`(?ms)^` + fn + `\(\) \{\n(.*?)^\}`).FindStringSubmatch(script)
		if m == nil {
			t.Fatalf("the converge script has no %s()", fn)
		}
		return m[1]
	}
	runtime := body("write_runtime_config")
	if !strings.Contains(runtime, "$(setting "+settingDBAppSecret+")") || strings.Contains(runtime, settingDBMasterSecret) {
		t.Errorf("write_runtime_config must build runtime.php from %s, never the master credential:\n%s", settingDBAppSecret, runtime)
	}
	if n := strings.Count(script, "$(setting "+settingDBMasterSecret+")"); n != 1 || !strings.Contains(body("ensure_db_user"), "$(setting "+settingDBMasterSecret+")") {
		t.Errorf("the master credential's setting is read %d times, want once, in ensure_db_user", n)
	}
	ensure := body("ensure_db_user")
	if check, master := strings.Index(ensure, "dbuser.php\" check"), strings.Index(ensure, settingDBMasterSecret); check < 0 || master < check ||
		!strings.Contains(ensure[:master], "0) return 0 ;;") {
		t.Errorf("ensure_db_user must read the master credential only after WordPress's user failed its check:\n%s", ensure)
	}
}
