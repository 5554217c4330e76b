package main

// The workflows use only the repository variables and secrets the pipeline guide documents, pin
// every action to an exact version or commit, and never hold long-lived AWS keys.

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestWorkflowsUseOnlyDocumentedSettings(t *testing.T) {
	readme := readSource(t, "docs/pipeline.md")
	files, err := filepath.Glob(".github/workflows/*.yml")
	if err != nil || len(files) != 4 {
		t.Fatalf("want the pull-request, deploy, destroy and updates workflows, got %v (%v)", files, err)
	}
	// Every vars.X and secrets.X, also inside a longer expression (a || b).
	ref := regexp.MustCompile(`\b(vars|secrets)\.([A-Za-z0-9_]+)\b`)
	uses := regexp.MustCompile(`uses:\s*([^@\s]+)@(\S+)`)
	exact := regexp.MustCompile(`^(v\d+\.\d+\.\d+|[0-9a-f]{40})$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		seen := map[string]bool{}
		for _, m := range ref.FindAllStringSubmatch(src, -1) {
			if (m[1] == "secrets" && m[2] == "GITHUB_TOKEN") || seen[m[0]] {
				continue // provided by GitHub, or reported
			}
			seen[m[0]] = true
			if !strings.Contains(readme, "`"+m[2]+"`") {
				t.Errorf("%s uses %s.%s, which docs/pipeline.md does not document", f, m[1], m[2])
			}
		}
		for _, m := range uses.FindAllStringSubmatch(src, -1) {
			if !exact.MatchString(m[2]) {
				t.Errorf("%s: %s@%s is not pinned to an exact version or commit", f, m[1], m[2])
			}
		}
		for _, banned := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_ACCESS_TOKEN"} {
			if strings.Contains(src, banned) {
				t.Errorf("%s mentions %s: credentials come from GitHub OIDC only", f, banned)
			}
		}
		if strings.Contains(src, "aws-actions/configure-aws-credentials") && !strings.Contains(src, "id-token: write") {
			t.Errorf("%s assumes an AWS role without the id-token permission", f)
		}
	}
}

// The preview role trusts only jobs in the preview environment (bootstrap/): the preview job
// must run there, where an approval stands between a pull request's code and the secrets.
func TestPreviewRunsInThePreviewEnvironment(t *testing.T) {
	var wf struct {
		Jobs map[string]struct {
			Environment string            `yaml:"environment"`
			Permissions map[string]string `yaml:"permissions"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(readSource(t, ".github/workflows/pull-request.yml")), &wf); err != nil {
		t.Fatal(err)
	}
	for name, job := range wf.Jobs {
		if job.Permissions["id-token"] == "write" && job.Environment != "${{ vars.PREVIEW_ENVIRONMENT }}" {
			t.Errorf("job %s assumes an AWS role outside the preview environment (environment %q)", name, job.Environment)
		}
	}
	if wf.Jobs["preview"].Environment == "" {
		t.Error("the preview job has no environment")
	}
}

// The updates workflow writes to the repository unattended: it runs only on its schedule or by
// hand (never for a pull request's code), with no more than it needs (contents and
// pull-requests write; no AWS role, no environment), and proposes each update of cmd/updates
// on a branch of its own, skipping one proposed before.
func TestUpdatesWorkflow(t *testing.T) {
	var wf struct {
		On          map[string]any    `yaml:"on"`
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Environment string            `yaml:"environment"`
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(readSource(t, ".github/workflows/updates.yml")), &wf); err != nil {
		t.Fatal(err)
	}
	if len(wf.On) != 2 || wf.On["schedule"] == nil {
		t.Errorf("triggers %v, want schedule and workflow_dispatch only", wf.On)
	}
	if _, ok := wf.On["workflow_dispatch"]; !ok {
		t.Errorf("triggers %v, want workflow_dispatch too (run it by hand)", wf.On)
	}
	if !reflect.DeepEqual(wf.Permissions, map[string]string{"contents": "read"}) {
		t.Errorf("workflow permissions %v, want contents: read (the job asks for its own)", wf.Permissions)
	}
	var script strings.Builder
	for name, job := range wf.Jobs {
		if want := map[string]string{"contents": "write", "pull-requests": "write"}; !reflect.DeepEqual(job.Permissions, want) {
			t.Errorf("job %s permissions %v, want exactly %v", name, job.Permissions, want)
		}
		if job.Environment != "" {
			t.Errorf("job %s runs in environment %s: the updates need no AWS role and no approval to be proposed", name, job.Environment)
		}
		for _, s := range job.Steps {
			if strings.Contains(s.Uses, "aws-actions/") || strings.Contains(s.Uses, "pulumi/actions") {
				t.Errorf("job %s uses %s: the updates job reaches wordpress.org and GitHub only", name, s.Uses)
			}
			script.WriteString(s.Run + "\n")
		}
	}
	for _, want := range []string{
		`go build -o "$RUNNER_TEMP/updates" ./cmd/updates`,
		`"$RUNNER_TEMP/updates" check --json --stack-file "Pulumi.$STACK.yaml"`,
		`branch="updates/$STACK/$id"`,
		`gh pr list --head "$branch" --state all`,
		`"$RUNNER_TEMP/updates" apply --stack-file "Pulumi.$STACK.yaml" --from "$RUNNER_TEMP/updates.json" --id "$id" --pr-body`,
		`gh pr create --base "$BASE" --head "$branch"`,
	} {
		if !strings.Contains(script.String(), want) {
			t.Errorf("the updates workflow does not run %s", want)
		}
	}
}

// The deploy workflow follows the rollout at least as long as the longest refresh the config
// allows (the largest bake), so that a slow but healthy release is not reported as stuck.
func TestDeployWatchOutlastsTheLongestRefresh(t *testing.T) {
	m := regexp.MustCompile(`go run \./cmd/rollout [^\n]*--timeout (\d+)m`).FindStringSubmatch(readSource(t, ".github/workflows/deploy.yml"))
	if m == nil {
		t.Fatal("the deploy workflow does not follow the rollout with go run ./cmd/rollout --timeout <minutes>m")
	}
	watch, _ := strconv.Atoi(m[1])
	if longest := refreshMinutes(maxReleaseBakeMinutes); watch < longest {
		t.Errorf("the deploy workflow follows a rollout for %d minutes; a refresh with releaseBakeMinutes %d takes %d", watch, maxReleaseBakeMinutes, longest)
	}
}
