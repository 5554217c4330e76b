package images

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deployedOutputs are a deployed stack's outputs, as far as the pruner reads them.
const deployedOutputs = `{"region":"ap-northeast-1","imagesKept":3,"webLaunchTemplateId":"lt-web","webLaunchTemplateVersion":9,"webTierMode":"autoscaling"}`

// runImages runs the images command against f, the stack's outputs being outputs (an error
// when "").
func runImages(t *testing.T, f *fakeEC2, outputs string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Main(context.Background(), args, Env{
		Stdout: &out, Stderr: &out,
		Run: func(_ context.Context, _, name string, a ...string) ([]byte, error) {
			if name != "pulumi" || strings.Join(a, " ") != "stack output --json --stack org/scalable-wordpress/dev" {
				return nil, errors.New("unexpected command " + strings.Join(a, " "))
			}
			if outputs == "" {
				return nil, errors.New("no stack org/scalable-wordpress/dev")
			}
			return []byte(outputs), nil
		},
		EC2: func(_ context.Context, region string) (EC2, error) {
			if region != "ap-northeast-1" {
				return nil, errors.New("wrong region " + region)
			}
			return f, nil
		},
	})
	return code, out.String()
}

var stackArgs = []string{"--stack", "org/scalable-wordpress/dev", "--project", project}

func TestImagesCommand(t *testing.T) {
	for _, c := range []struct {
		name    string
		outputs string
		args    []string
		code    int
		says    string
		removed []string // images gone afterwards
	}{
		{"deployed: the stack's imagesKept", deployedOutputs, nil, ExitOK, "removed 1 image(s) and 1 snapshot(s); 5 image(s) left", []string{"ami-01"}},
		{"deployed: more kept", deployedOutputs, []string{"--keep", "5"}, ExitOK, "removed 0 image(s)", nil},
		{"deployed: never fewer than two", deployedOutputs, []string{"--keep", "1"}, ExitCouldNot, "keep at least 2 images", nil},
		{"deployed: --keep 0 refused", deployedOutputs, []string{"--keep", "0", "--region", "ap-northeast-1"}, ExitCouldNot, "are for a destroyed stack", nil},
		{"deployed before images were kept", `{"region":"ap-northeast-1","webLaunchTemplateId":"lt-web"}`, nil, ExitCouldNot, "exports no imagesKept", nil},
		{"deployed before images were kept, --keep", `{"region":"ap-northeast-1","webLaunchTemplateId":"lt-web"}`, []string{"--keep", "2"}, ExitOK, "removed 2 image(s)", []string{"ami-01", "ami-03"}},
		{"destroyed: --keep needed", `{}`, []string{"--region", "ap-northeast-1"}, ExitCouldNot, "pass --keep", nil},
		{"destroyed: --region needed", `{}`, []string{"--keep", "0"}, ExitCouldNot, "pass --region", nil},
		{"destroyed: every image no instance uses", `{}`, []string{"--keep", "0", "--region", "ap-northeast-1"}, ExitOK, "removed 5 image(s) and 5 snapshot(s); 1 image(s) left",
			[]string{"ami-01", "ami-02", "ami-03", "ami-04", "ami-05"}},
		{"dry run", `{}`, []string{"--keep", "0", "--region", "ap-northeast-1", "--dry-run"}, ExitOK, "dry run: nothing removed", nil},
		{"outputs unreadable", "", nil, ExitCouldNot, "no stack org/scalable-wordpress/dev", nil},
		{"stray arguments", deployedOutputs, []string{"now"}, ExitCouldNot, "unexpected arguments", nil},
		{"negative keep", `{}`, []string{"--keep", "-1", "--region", "ap-northeast-1"}, ExitCouldNot, "want 0 or more", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := account()
			before := f.ids()
			code, out := runImages(t, f, c.outputs, append(append([]string{}, stackArgs...), c.args...)...)
			if code != c.code || !strings.Contains(out, c.says) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", code, c.code, c.says, out)
			}
			var gone []string
			for _, id := range before {
				if f.find(id) == nil {
					gone = append(gone, id)
				}
			}
			if strings.Join(gone, ",") != strings.Join(c.removed, ",") {
				t.Errorf("removed %v, want %v\n%s", gone, c.removed, out)
			}
		})
	}
}

func TestImagesCommandFailures(t *testing.T) {
	f := account()
	f.failDeregister["ami-01"] = true
	code, out := runImages(t, f, deployedOutputs, stackArgs...)
	if code != ExitFailed || !strings.Contains(out, "some images or snapshots were not removed") || !strings.Contains(out, "deregister ami-01") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out = runImages(t, account(), deployedOutputs, "--project", project)
	if code != ExitCouldNot || !strings.Contains(out, "pass --stack") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// The project's name comes from Pulumi.yaml in --cwd, as the program's tag does.
func TestImagesCommandReadsTheProjectName(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: "+project+"\nruntime: go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := account()
	code, out := runImages(t, f, deployedOutputs, "--stack", "org/scalable-wordpress/dev", "--cwd", dir, "--dry-run")
	if code != ExitOK || !strings.Contains(out, "images of scalable-wordpress/dev") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out = runImages(t, f, deployedOutputs, "--stack", "org/scalable-wordpress/dev", "--cwd", t.TempDir())
	if code != ExitCouldNot || !strings.Contains(out, "project name unknown") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
