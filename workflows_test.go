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
	"time"

	"gopkg.in/yaml.v3"

	"github.com/example/scalable-wordpress/internal/rollout"
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

// workflowJob is the part of a job the tests read.
type workflowJob struct {
	TimeoutMinutes int `yaml:"timeout-minutes"`
	Steps          []struct {
		Name string            `yaml:"name"`
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
		// ContinueOnError is the step's continue-on-error: a step whose failure must stop the
		// job has none.
		ContinueOnError bool `yaml:"continue-on-error"`
	} `yaml:"steps"`
}

func readJob(t *testing.T, file, job string) workflowJob {
	t.Helper()
	var wf struct {
		Jobs map[string]workflowJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(readSource(t, file)), &wf); err != nil {
		t.Fatal(err)
	}
	j, ok := wf.Jobs[job]
	if !ok {
		t.Fatalf("%s has no job %s", file, job)
	}
	return j
}

// upBudget is what the deploy job gives `pulumi up` before the rollout: a new image (the
// builder's prepare phase, the AMI) or a new Multi-AZ database.
const upBudget = 60 * time.Minute

// The deploy job follows the rollout as long as a refresh with checkpoints and a rollback
// takes (the watcher's default bound), with AWS credentials that last that long, and within
// the job's own timeout.
func TestDeployWorkflowGivesTheRolloutItsTime(t *testing.T) {
	job := readJob(t, ".github/workflows/deploy.yml", "up")
	timeoutFlag := regexp.MustCompile(`--timeout (\S+)`)
	for i, s := range job.Steps {
		if !strings.Contains(s.Run, "./cmd/rollout") {
			continue
		}
		m := timeoutFlag.FindStringSubmatch(s.Run)
		if m == nil {
			t.Fatalf("the rollout step passes no --timeout: %q", s.Run)
		}
		watch, err := time.ParseDuration(m[1])
		if err != nil || watch < rollout.DefaultTimeout {
			t.Errorf("the rollout step's --timeout %s is shorter than the watcher's default %s (checkpoints, bake time, a rollback)", m[1], rollout.DefaultTimeout)
		}
		creds := job.Steps[i-1]
		session, _ := strconv.Atoi(creds.With["role-duration-seconds"])
		if !strings.HasPrefix(creds.Uses, "aws-actions/configure-aws-credentials@") || time.Duration(session)*time.Second < watch+10*time.Minute {
			t.Errorf("the step before the rollout must assume the deploy role for the watch and the pruning after it (%s + 10m), got %q with %ds", watch, creds.Uses, session)
		}
		if job := time.Duration(job.TimeoutMinutes) * time.Minute; job < upBudget+watch {
			t.Errorf("the job's timeout %s leaves the rollout (%s) less than %s after pulumi up", job, watch, upBudget)
		}
		return
	}
	t.Fatal("the deploy job does not run cmd/rollout")
}

// pulumi destroy leaves the retained golden images: the destroy job removes them after it.
func TestDestroyWorkflowRemovesTheImages(t *testing.T) {
	job := readJob(t, ".github/workflows/destroy.yml", "destroy")
	destroyed := false
	for _, s := range job.Steps {
		if s.With["command"] == "destroy" {
			destroyed = true
		}
		if strings.Contains(s.Run, "./cmd/rollout images") {
			if !destroyed || !strings.Contains(s.Run, "--keep 0") || !strings.Contains(s.Run, "--region") {
				t.Errorf("the images step must come after pulumi destroy and remove every image (--keep 0, --region): %q", s.Run)
			}
			return
		}
	}
	t.Error("the destroy job never removes the images pulumi destroy leaves")
}

// A stack's uploads are backed up before pulumi destroy deletes their file system, and a
// failed backup stops the job before the destroy (cmd/backup itself skips an ephemeral stack).
func TestDestroyWorkflowBacksUpTheUploadsFirst(t *testing.T) {
	job := readJob(t, ".github/workflows/destroy.yml", "destroy")
	backedUp, cli := false, false
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") && s.With["command"] == "" {
			cli = true
		}
		if strings.Contains(s.Run, "./cmd/backup") {
			if !cli {
				t.Error("the backup step runs before the Pulumi CLI is installed: it reads the stack's outputs")
			}
			if !strings.Contains(s.Run, "--stack") || !strings.Contains(s.Run, "--timeout") || !strings.Contains(s.Run, "exit 1") || s.ContinueOnError {
				t.Errorf("the backup step must name the stack, bound its wait and stop the job when it fails: %q", s.Run)
			}
			backedUp = true
		}
		if s.With["command"] == "destroy" {
			if !backedUp {
				t.Error("pulumi destroy runs before the uploads' final backup")
			}
			return
		}
	}
	t.Error("the destroy job never runs pulumi destroy")
}
