package images

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const (
	self    = "123456789012"
	project = "scalable-wordpress"
	stackID = "dev"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// fakeImage is an image as EC2 holds it.
type fakeImage struct {
	id, owner, state string
	created          time.Time
	tags             map[string]string
	snapshots        []string
}

// fakeEC2 is an account's images, snapshots, one launch template and instances, answering
// the calls as EC2 does (filters, owners, pages of two, "in use" refusals).
type fakeEC2 struct {
	images    []*fakeImage
	snapshots map[string]bool
	versions  map[int64]string // launch template version → image
	latest    int64
	dflt      int64
	instances map[string]string // instance → image (running)

	failDeregister map[string]bool
	failSnapshot   map[string]bool
	failTemplate   bool

	calls []string
}

func newFakeEC2() *fakeEC2 {
	return &fakeEC2{snapshots: map[string]bool{}, versions: map[int64]string{}, instances: map[string]string{},
		failDeregister: map[string]bool{}, failSnapshot: map[string]bool{}}
}

// stackImage adds one of the stack's images, n hours after t0, with one snapshot.
func (f *fakeEC2) stackImage(n int) string {
	return f.image(fmt.Sprintf("ami-%02d", n), self, Tags(project, stackID), t0.Add(time.Duration(n)*time.Hour))
}

func (f *fakeEC2) image(id, owner string, tags map[string]string, created time.Time) string {
	snap := "snap-of-" + id
	f.images = append(f.images, &fakeImage{id: id, owner: owner, state: "available", created: created, tags: tags, snapshots: []string{snap}})
	f.snapshots[snap] = true
	return id
}

func (f *fakeEC2) find(id string) *fakeImage {
	for _, im := range f.images {
		if im.id == id {
			return im
		}
	}
	return nil
}

func (f *fakeEC2) ids() []string {
	var out []string
	for _, im := range f.images {
		out = append(out, im.id)
	}
	slices.Sort(out)
	return out
}

func (f *fakeEC2) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	f.calls = append(f.calls, "DescribeImages")
	var match []*fakeImage
	for _, im := range f.images {
		owned := slices.Contains(in.Owners, "self") && im.owner == self || slices.Contains(in.Owners, im.owner)
		if len(in.Owners) > 0 && !owned {
			continue
		}
		ok := true
		for _, flt := range in.Filters {
			key, isTag := strings.CutPrefix(aws.ToString(flt.Name), "tag:")
			if !isTag {
				return nil, fmt.Errorf("fake: filter %s", aws.ToString(flt.Name))
			}
			ok = ok && slices.Contains(flt.Values, im.tags[key])
		}
		if ok {
			match = append(match, im)
		}
	}
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	out := &ec2.DescribeImagesOutput{}
	end := min(start+2, len(match))
	for _, im := range match[start:end] {
		var tags []ec2types.Tag
		for k, v := range im.tags {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		var bdm []ec2types.BlockDeviceMapping
		for _, s := range im.snapshots {
			bdm = append(bdm, ec2types.BlockDeviceMapping{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(s)}})
		}
		bdm = append(bdm, ec2types.BlockDeviceMapping{DeviceName: aws.String("/dev/sdb"), VirtualName: aws.String("ephemeral0")})
		out.Images = append(out.Images, ec2types.Image{ImageId: aws.String(im.id), OwnerId: aws.String(im.owner), State: ec2types.ImageState(im.state),
			CreationDate: aws.String(im.created.Format("2006-01-02T15:04:05.000Z")), Tags: tags, BlockDeviceMappings: bdm})
	}
	if end < len(match) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeEC2) DescribeLaunchTemplateVersions(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	f.calls = append(f.calls, "DescribeLaunchTemplateVersions "+strings.Join(in.Versions, ","))
	if f.failTemplate || aws.ToString(in.LaunchTemplateId) != "lt-web" {
		return nil, fmt.Errorf("InvalidLaunchTemplateId.NotFound: %s", aws.ToString(in.LaunchTemplateId))
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	seen := map[int64]bool{}
	for _, v := range in.Versions {
		n := map[string]int64{"$Latest": f.latest, "$Default": f.dflt}[v]
		if n == 0 {
			n, _ = strconv.ParseInt(v, 10, 64)
		}
		image, ok := f.versions[n]
		if !ok {
			return nil, fmt.Errorf("InvalidLaunchTemplateId.VersionNotFound: %s", v)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, ec2types.LaunchTemplateVersion{VersionNumber: aws.Int64(n),
			DefaultVersion: aws.Bool(n == f.dflt), LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{ImageId: aws.String(image)}})
	}
	return out, nil
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.calls = append(f.calls, "DescribeInstances")
	var images, states []string
	for _, flt := range in.Filters {
		switch aws.ToString(flt.Name) {
		case "image-id":
			images = flt.Values
		case "instance-state-name":
			states = flt.Values
		default:
			return nil, fmt.Errorf("fake: filter %s", aws.ToString(flt.Name))
		}
	}
	if !slices.Contains(states, "running") || !slices.Contains(states, "stopped") {
		return nil, fmt.Errorf("fake: the state filter %v leaves out running or stopped instances", states)
	}
	out := &ec2.DescribeInstancesOutput{}
	for id, image := range f.instances {
		if slices.Contains(images, image) {
			out.Reservations = append(out.Reservations, ec2types.Reservation{Instances: []ec2types.Instance{{InstanceId: aws.String(id),
				ImageId: aws.String(image), State: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning}}}})
		}
	}
	return out, nil
}

func (f *fakeEC2) DeregisterImage(_ context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	id := aws.ToString(in.ImageId)
	f.calls = append(f.calls, "DeregisterImage "+id)
	if f.failDeregister[id] {
		return nil, fmt.Errorf("UnauthorizedOperation: not allowed to deregister %s", id)
	}
	im := f.find(id)
	if im == nil {
		return nil, fmt.Errorf("InvalidAMIID.NotFound: %s", id)
	}
	f.images = slices.DeleteFunc(f.images, func(x *fakeImage) bool { return x == im })
	return &ec2.DeregisterImageOutput{}, nil
}

func (f *fakeEC2) DeleteSnapshot(_ context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	id := aws.ToString(in.SnapshotId)
	f.calls = append(f.calls, "DeleteSnapshot "+id)
	if f.failSnapshot[id] {
		return nil, fmt.Errorf("RequestLimitExceeded")
	}
	for _, im := range f.images {
		if slices.Contains(im.snapshots, id) {
			return nil, fmt.Errorf("InvalidSnapshot.InUse: %s is in use by %s", id, im.id)
		}
	}
	if !f.snapshots[id] {
		return nil, fmt.Errorf("InvalidSnapshot.NotFound: %s", id)
	}
	delete(f.snapshots, id)
	return &ec2.DeleteSnapshotOutput{}, nil
}

// mutating are the calls that change something.
func (f *fakeEC2) mutating() []string {
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "Deregister") || strings.HasPrefix(c, "DeleteSnapshot") {
			out = append(out, c)
		}
	}
	return out
}
