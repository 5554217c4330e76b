package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/example/scalable-wordpress/internal/images"
)

// fakeImages is the stack's four golden images (ami-1 the oldest): the launch template's
// latest version (4) names ami-4, the one before ami-3. It refuses a look-up that is not by
// the stack's tags and owner.
type fakeImages struct {
	images         []string
	failDeregister bool
	calls          []string
}

func newImages() *fakeImages {
	return &fakeImages{images: []string{"ami-1", "ami-2", "ami-3", "ami-4"}}
}

func (f *fakeImages) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	f.calls = append(f.calls, "DescribeImages")
	want := images.Tags("scalable-wordpress", "dev")
	for _, flt := range in.Filters {
		k, _ := strings.CutPrefix(aws.ToString(flt.Name), "tag:")
		if !slices.Equal(flt.Values, []string{want[k]}) {
			return nil, fmt.Errorf("fake: filter %s=%v is not the stack's", aws.ToString(flt.Name), flt.Values)
		}
		delete(want, k)
	}
	if len(want) > 0 || !slices.Equal(in.Owners, []string{"self"}) {
		return nil, fmt.Errorf("fake: images looked up without tags %v or owner self", want)
	}
	out := &ec2.DescribeImagesOutput{}
	for _, id := range f.images {
		n, _ := strconv.Atoi(strings.TrimPrefix(id, "ami-"))
		out.Images = append(out.Images, ec2types.Image{ImageId: aws.String(id), State: ec2types.ImageStateAvailable,
			CreationDate:        aws.String(t0.Add(time.Duration(n) * time.Hour).Format(time.RFC3339)),
			BlockDeviceMappings: []ec2types.BlockDeviceMapping{{Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String("snap-" + id)}}}})
	}
	return out, nil
}

func (f *fakeImages) DescribeLaunchTemplateVersions(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	f.calls = append(f.calls, "DescribeLaunchTemplateVersions")
	if aws.ToString(in.LaunchTemplateId) != "lt-web" {
		return nil, errors.New("fake: not the stack's launch template")
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for _, v := range in.Versions {
		n := map[string]int64{"$Latest": 4, "$Default": 4, "4": 4, "3": 3}[v]
		if n == 0 || slices.ContainsFunc(out.LaunchTemplateVersions, func(x ec2types.LaunchTemplateVersion) bool { return *x.VersionNumber == n }) {
			continue
		}
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, ec2types.LaunchTemplateVersion{VersionNumber: aws.Int64(n),
			DefaultVersion: aws.Bool(n == 4), LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{ImageId: aws.String(fmt.Sprintf("ami-%d", n))}})
	}
	return out, nil
}

func (f *fakeImages) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.calls = append(f.calls, "DescribeInstances")
	return &ec2.DescribeInstancesOutput{}, nil
}

func (f *fakeImages) DeregisterImage(_ context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	f.calls = append(f.calls, "DeregisterImage "+aws.ToString(in.ImageId))
	if f.failDeregister {
		return nil, errors.New("UnauthorizedOperation")
	}
	f.images = slices.DeleteFunc(f.images, func(id string) bool { return id == aws.ToString(in.ImageId) })
	return &ec2.DeregisterImageOutput{}, nil
}

func (f *fakeImages) DeleteSnapshot(_ context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	f.calls = append(f.calls, "DeleteSnapshot "+aws.ToString(in.SnapshotId))
	return &ec2.DeleteSnapshotOutput{}, nil
}

// prunedOutputs are a stack that keeps two images.
const prunedOutputs = `{"region":"ap-northeast-1","webAutoScalingGroupName":"web-asg-1","targetGroupArn":"arn:tg","webTierMode":"autoscaling",` +
	`"imagesKept":2,"webLaunchTemplateId":"lt-web","webLaunchTemplateVersion":4}`

func successful(after time.Duration) step {
	return step{after: after, status: astypes.InstanceRefreshStatusSuccessful, percent: 100, healthy: 2}
}

// Images are pruned after a successful refresh only: never after a rollback, a failure, a
// cancellation, a timeout, or when nothing of this deploy rolled.
func TestRolloutPrunesImagesOnlyAfterASuccessfulRefresh(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []step
		args  []string
		code  int
		prune bool
	}{
		{"successful", []step{inProgress(0, 0, 2, 2), successful(5 * time.Minute)}, nil, ExitOK, true},
		{"rolled back", []step{inProgress(0, 50, 1, 2), {after: 3 * time.Minute, status: astypes.InstanceRefreshStatusRollbackSuccessful, reason: "alarm"}}, nil, ExitRolledBack, false},
		{"rollback failed", []step{{status: astypes.InstanceRefreshStatusRollbackFailed}}, nil, ExitRollbackFailed, false},
		{"failed", []step{{status: astypes.InstanceRefreshStatusFailed}}, nil, ExitFailed, false},
		{"cancelled", []step{{status: astypes.InstanceRefreshStatusCancelled}}, nil, ExitFailed, false},
		{"timed out", []step{inProgress(0, 10, 2, 2)}, []string{"--timeout", "5m"}, ExitTimeout, false},
		{"no refresh at all", nil, nil, ExitOK, false},
		{"a successful refresh of an earlier deploy", []step{successful(0)}, []string{"--since", "30s"}, ExitOK, false},
		{"pruning turned off", []step{successful(0)}, []string{"--prune=false"}, ExitOK, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newImages()
			args := append([]string{"--stack", "dev", "--project", "scalable-wordpress"}, c.args...)
			code, out := runWith(t, newFake(c.steps...), e, prunedOutputs, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, out)
			}
			if !c.prune {
				if len(e.calls) != 0 {
					t.Errorf("EC2 calls %v: images are pruned after a successful refresh only\n%s", e.calls, out)
				}
				return
			}
			// ami-4 and ami-3 are the newest two (and the latest version and the one before);
			// ami-2 and ami-1 go, each after its deregistration.
			want := []string{"DeregisterImage ami-2", "DeleteSnapshot snap-ami-2", "DeregisterImage ami-1", "DeleteSnapshot snap-ami-1"}
			var changes []string
			for _, call := range e.calls {
				if !strings.HasPrefix(call, "Describe") {
					changes = append(changes, call)
				}
			}
			if !slices.Equal(changes, want) || !slices.Equal(e.images, []string{"ami-3", "ami-4"}) {
				t.Errorf("changes %v (want %v), images left %v\n%s", changes, want, e.images, out)
			}
			if !strings.Contains(out, "keeping the newest 2") || !strings.Contains(out, "removed ami-1") {
				t.Errorf("the prune is not reported:\n%s", out)
			}
		})
	}
}

// Pruning is housekeeping: when it cannot run or fails, the new release still serves and the
// rollout is green, with a warning (a GitHub annotation in Actions) naming the command to retry.
func TestRolloutPruneProblemsAreWarnings(t *testing.T) {
	e := newImages()
	e.failDeregister = true
	code, out := runWith(t, newFake(successful(0)), e, prunedOutputs, "--stack", "dev", "--project", "scalable-wordpress")
	if code != ExitOK || !strings.Contains(out, "rollout: warning: the release serves, but pruning its older images failed") ||
		!strings.Contains(out, "::warning title=Images not pruned::") || !strings.Contains(out, "go run ./cmd/rollout images --stack dev") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if slices.ContainsFunc(e.calls, func(c string) bool { return strings.HasPrefix(c, "DeleteSnapshot") }) {
		t.Errorf("a snapshot deleted although its image is still registered: %v", e.calls)
	}

	// A stack deployed before images were kept exports no imagesKept: nothing is pruned.
	e = newImages()
	code, out = runWith(t, newFake(successful(0)), e, asgOutputs, "--stack", "dev", "--project", "scalable-wordpress")
	if code != ExitOK || len(e.calls) != 0 || !strings.Contains(out, "images not pruned: stack dev exports no imagesKept") {
		t.Errorf("exit %d, calls %v:\n%s", code, e.calls, out)
	}
	// No project name (no Pulumi.yaml here, no --project): a warning, exit 0.
	e = newImages()
	code, out = runWith(t, newFake(successful(0)), e, prunedOutputs, "--stack", "dev")
	if code != ExitOK || len(e.calls) != 0 || !strings.Contains(out, "project name unknown") {
		t.Errorf("exit %d, calls %v:\n%s", code, e.calls, out)
	}
}

// The refresh pauses on purpose at its checkpoints and while baking: the watcher follows it,
// says that waiting there is normal, and its default bound covers it.
func TestRolloutFollowsCheckpointsAndBaking(t *testing.T) {
	f := newFake(
		inProgress(0, 0, 2, 2),
		inProgress(4*time.Minute, 50, 1, 3),  // checkpoint 50 %: 10 minutes' wait
		inProgress(15*time.Minute, 50, 1, 3), // the second round launching
		inProgress(20*time.Minute, 100, 0, 2),
		step{after: 30 * time.Minute, status: astypes.InstanceRefreshStatusBaking, percent: 100, healthy: 2},
		successful(35*time.Minute),
	)
	f.prefs = &astypes.RefreshPreferences{CheckpointPercentages: []int32{100, 50}, CheckpointDelay: aws.Int32(600), BakeTime: aws.Int32(300)}
	code, out := run(t, f, asgOutputs, "--stack", "dev")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, says := range []string{
		"pauses 25m0s in all on purpose (checkpoints at [50 100]% of the group, 10m0s each; bake time 5m0s): waiting there is normal",
		"InProgress 50%, 1 instance(s) left to replace, 3/2 healthy targets (checkpoint 50% reached: it waits up to 10m0s here before it replaces more, normal)",
		"checkpoint 100% reached: every instance replaced; it waits up to 10m0s before it counts as successful",
		"Baking 100%", "baking: it waits 5m0s before it counts as successful, and an alarm still rolls it back",
		"refresh ir-1 successful",
	} {
		if !strings.Contains(out, says) {
			t.Errorf("output lacks %q:\n%s", says, out)
		}
	}
	if strings.Contains(out, "warning") {
		t.Errorf("the default --timeout (%s) covers the pauses:\n%s", DefaultTimeout, out)
	}

	// A bound shorter than the pauses alone is said at once.
	f = newFake(inProgress(0, 0, 2, 2))
	f.prefs = &astypes.RefreshPreferences{CheckpointPercentages: []int32{50, 100}}
	code, out = run(t, f, asgOutputs, "--stack", "dev", "--timeout", "30m")
	if code != ExitTimeout || !strings.Contains(out, "pauses 2h0m0s in all on purpose (checkpoints at [50 100]% of the group, 1h0m0s each): waiting there is normal") ||
		!strings.Contains(out, "warning: --timeout 30m0s is shorter than those pauses alone") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// The default bound: a refresh with checkpoints at 50 % and 100 % (10 minutes each) that
// rolls back at the very end, each replacement round taking 10 minutes, still ends inside it.
func TestRolloutDefaultTimeoutCoversCheckpointsAndARollback(t *testing.T) {
	f := newFake(
		inProgress(0, 0, 2, 2),
		inProgress(10*time.Minute, 50, 1, 3),
		inProgress(30*time.Minute, 100, 0, 2),
		step{after: 40 * time.Minute, status: astypes.InstanceRefreshStatusRollbackInProgress, healthy: 2},
		step{after: 65 * time.Minute, status: astypes.InstanceRefreshStatusRollbackSuccessful, healthy: 2, reason: "alarm lb-target-5xx in ALARM"},
	)
	f.prefs = &astypes.RefreshPreferences{CheckpointPercentages: []int32{50, 100}, CheckpointDelay: aws.Int32(600)}
	if code, out := run(t, f, asgOutputs, "--stack", "dev"); code != ExitRolledBack {
		t.Errorf("exit %d, want %d (rolled back, within the default --timeout %s)\n%s", code, ExitRolledBack, DefaultTimeout, out)
	}
}

// `rollout images` is the images command (internal/images).
func TestRolloutImagesSubcommand(t *testing.T) {
	e := newImages()
	code, out := runWith(t, newFake(), e, prunedOutputs, "images", "--stack", "dev", "--project", "scalable-wordpress", "--dry-run")
	if code != images.ExitOK || !strings.Contains(out, "remove ami-1") || !strings.Contains(out, "dry run: nothing removed") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if slices.ContainsFunc(e.calls, func(c string) bool { return !strings.HasPrefix(c, "Describe") }) {
		t.Errorf("a dry run changed something: %v", e.calls)
	}
}
