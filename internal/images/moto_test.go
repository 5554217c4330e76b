package images

// The pruner against moto_server (EC2 images, snapshots, launch templates and instances as
// moto implements them) on a loopback port: the calls, filters and orders the unit tests'
// fake assumes, checked against a second implementation of EC2's API. Without moto_server
// the test skips, except in CI (CI=true), where it fails.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/example/scalable-wordpress/internal/mototest"
)

const motoRegion = "ap-northeast-1"

// startMoto runs moto_server and returns an EC2 client for it.
func startMoto(t *testing.T) *ec2.Client {
	t.Helper()
	url := mototest.Start(t, "the pruner's moto test")
	return ec2.New(ec2.Options{Region: motoRegion, BaseEndpoint: aws.String(url), Credentials: mototest.Credentials})
}

// motoImage takes an image of the instance as the provider does (tags on the image only).
func motoImage(t *testing.T, c *ec2.Client, instance, name string, tags map[string]string) (string, string) {
	t.Helper()
	var tt []ec2types.Tag
	for k, v := range tags {
		tt = append(tt, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := c.CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(instance), Name: aws.String(name),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: tt}}})
	if err != nil {
		t.Fatalf("create image %s: %v", name, err)
	}
	id := aws.ToString(out.ImageId)
	d, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(d.Images) != 1 || len(d.Images[0].BlockDeviceMappings) == 0 || d.Images[0].BlockDeviceMappings[0].Ebs == nil {
		t.Fatalf("image %s: %v %+v", id, err, d)
	}
	return id, aws.ToString(d.Images[0].BlockDeviceMappings[0].Ebs.SnapshotId)
}

func runInstance(t *testing.T, c *ec2.Client, image string) string {
	t.Helper()
	out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(image), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro})
	if err != nil {
		t.Fatalf("run an instance of %s: %v", image, err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// exists reports whether the image (or the snapshot) is still there.
func exists(t *testing.T, c *ec2.Client, id string) bool {
	t.Helper()
	ctx := context.Background()
	if strings.HasPrefix(id, "snap-") {
		out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		return err == nil && len(out.Snapshots) == 1
	}
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	return err == nil && len(out.Images) == 1
}

func TestPruneAgainstMoto(t *testing.T) {
	c := startMoto(t)
	ctx := context.Background()
	base, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, MaxResults: aws.Int32(5)})
	if err != nil || len(base.Images) == 0 {
		t.Fatalf("moto's base images: %v", err)
	}
	builder := runInstance(t, c, aws.ToString(base.Images[0].ImageId))

	// Two older releases and another stack's image, then (a second later: images are dated
	// to the second) the two newest releases.
	tags := Tags(project, stackID)
	old1, old1Snap := motoImage(t, c, builder, "release-1", tags)
	old2, old2Snap := motoImage(t, c, builder, "release-2", tags)
	other, otherSnap := motoImage(t, c, builder, "prod-release", Tags(project, "prod"))
	time.Sleep(1100 * time.Millisecond)
	new1, new1Snap := motoImage(t, c, builder, "release-3", tags)
	new2, new2Snap := motoImage(t, c, builder, "release-4", tags)

	// The provider tags the image, not its snapshot: IAM cannot scope the snapshot's delete by
	// tag, and only the image's block device mappings lead to it.
	snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{old1Snap}})
	if err != nil || len(snaps.Snapshots) != 1 || len(snaps.Snapshots[0].Tags) != 0 {
		t.Fatalf("the snapshot of an image taken with image tags only: %v %+v", err, snaps)
	}

	// The launch template: version 1 (the default: the provider moves it, moto does not)
	// old2, 2 new1, 3 (the latest) new2; a server runs new2.
	lt, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-lt"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(old2)}})
	if err != nil {
		t.Fatal(err)
	}
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	for _, image := range []string{new1, new2} {
		if _, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(ltID),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image)}}); err != nil {
			t.Fatal(err)
		}
	}
	server := runInstance(t, c, new2)

	// A deployed stack that keeps two: old1 goes (no version the rollback or the group uses,
	// no server), old2 stays as the default version's.
	outputs := fmt.Sprintf(`{"region":%q,"imagesKept":2,"webLaunchTemplateId":%q,"webLaunchTemplateVersion":3}`, motoRegion, ltID)
	code, out := motoImages(t, c, outputs)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for id, want := range map[string]bool{old1: false, old1Snap: false, old2: true, old2Snap: true, new1: true, new1Snap: true,
		new2: true, new2Snap: true, other: true, otherSnap: true} {
		if exists(t, c, id) != want {
			t.Errorf("%s exists: %v, want %v\n%s", id, !want, want, out)
		}
	}
	if !strings.Contains(out, "launch template "+ltID+" version 1 (default)") || !strings.Contains(out, "removed 1 image(s) and 1 snapshot(s)") {
		t.Errorf("output:\n%s", out)
	}

	// After pulumi destroy: no outputs, --keep 0; the server that still runs new2 (say, one
	// the destroy could not terminate) keeps it.
	if _, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(ltID)}); err != nil {
		t.Fatal(err)
	}
	code, out = motoImages(t, c, `{}`, "--keep", "0", "--region", motoRegion)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for id, want := range map[string]bool{old2: false, old2Snap: false, new1: false, new1Snap: false, new2: true, new2Snap: true, other: true, otherSnap: true} {
		if exists(t, c, id) != want {
			t.Errorf("after destroy, %s exists: %v, want %v\n%s", id, !want, want, out)
		}
	}
	if !strings.Contains(out, "instance "+server) {
		t.Errorf("the kept image does not name the server that runs it:\n%s", out)
	}

	// Once that server is gone, nothing of the stack is left; the other stack's image stays.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{server}}); err != nil {
		t.Fatal(err)
	}
	if code, out = motoImages(t, c, `{}`, "--keep", "0", "--region", motoRegion); code != ExitOK || exists(t, c, new2) || exists(t, c, new2Snap) || !exists(t, c, other) {
		t.Errorf("exit %d; new2 left %v, the other stack's image gone %v:\n%s", code, exists(t, c, new2), !exists(t, c, other), out)
	}
	if all, err := List(ctx, c, project, stackID); err != nil || len(all) != 0 {
		t.Errorf("images of the stack left: %v (%v)", all, err)
	}
}

// motoImages runs the images command against moto with the stack's outputs.
func motoImages(t *testing.T, c *ec2.Client, outputs string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Main(context.Background(), append([]string{"--stack", stackID, "--project", project}, args...), Env{
		Stdout: &out, Stderr: &out,
		Run: func(context.Context, string, string, ...string) ([]byte, error) { return []byte(outputs), nil },
		EC2: func(_ context.Context, region string) (EC2, error) {
			if region != motoRegion {
				return nil, errors.New("wrong region " + region)
			}
			return c, nil
		},
	})
	return code, out.String()
}
