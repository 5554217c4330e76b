// Package images prunes a stack's golden images. `pulumi up` never deletes one (the program
// retains the AMI on delete, so that an instance refresh that rolls back can launch the image
// of the release before); this package removes the older ones deliberately, once a release
// has settled: the rollout watcher after a successful refresh, and the images command after a
// stack is destroyed.
//
// It finds the images by the tags the program puts on them (project, stack and Name, owner
// self), keeps the newest N, and never touches an image that is still in use: by the launch
// template's latest and default versions, the version before the latest (what a rollback
// returns to), the version the stack's group was set to, or any instance that is not
// terminated. A removed image's EBS snapshots are deleted after it is deregistered; the
// provider does not tag them, so they are found only through the image's block device
// mappings, and no other snapshot is ever deleted.
package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 is the EC2 calls the pruner makes: three reads, and the two deletes.
type EC2 interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, optFns ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
}

// The tags the program puts on every resource (config.go Tags), and the golden image's Name
// leaf (image.go imageNameLeaf).
const (
	ProjectTag = "project"
	StackTag   = "stack"
	NameTag    = "Name"
	nameLeaf   = "ami"
)

// Tags are the tags that mark a stack's golden images, as the program sets them.
func Tags(project, stack string) map[string]string {
	return map[string]string{ProjectTag: project, StackTag: stack, NameTag: project + "-" + stack + "-" + nameLeaf}
}

// StackName is the stack's own name in a stack reference ("org/project/dev" is "dev"): the
// value of its stack tag.
func StackName(ref string) string {
	return ref[strings.LastIndex(ref, "/")+1:]
}

// Image is one of the stack's golden images.
type Image struct {
	ID        string
	Name      string
	State     string
	Created   time.Time
	Snapshots []string // its EBS snapshots, from its block device mappings
}

// Decision is what becomes of an image, and why.
type Decision struct {
	Image
	Remove bool
	Why    string
}

// Options say whose images to prune and what to keep.
type Options struct {
	Project, Stack string
	Keep           int // the newest images kept whatever else holds (0: none)
	// LaunchTemplateID is the stack's launch template ("" when it has none: the fixed mode,
	// or a destroyed stack). Its latest and default versions and the one before the latest
	// are in use, and so are Versions.
	LaunchTemplateID string
	Versions         []string
	DryRun           bool // decide and print, change nothing
}

// Result is what a prune decided and did.
type Result struct {
	Decisions []Decision
	Removed   []string // images deregistered
	Deleted   []string // snapshots deleted
}

// Pruner removes a stack's older golden images.
type Pruner struct {
	EC2 EC2
	Out io.Writer
}

// Prune keeps the newest o.Keep images and every image in use, and deregisters the others,
// deleting their snapshots. The error joins whatever failed; it goes on past a failed image.
func (p *Pruner) Prune(ctx context.Context, o Options) (Result, error) {
	var res Result
	if o.Project == "" || o.Stack == "" || o.Keep < 0 {
		return res, fmt.Errorf("images: project, stack and a keep of 0 or more are required (got %q, %q, %d)", o.Project, o.Stack, o.Keep)
	}
	all, err := List(ctx, p.EC2, o.Project, o.Stack)
	if err != nil {
		return res, err
	}
	older := all[min(o.Keep, len(all)):]
	inUse := map[string]string{}
	if len(older) > 0 {
		if inUse, err = InUse(ctx, p.EC2, o.LaunchTemplateID, o.Versions, older); err != nil {
			return res, err
		}
	}
	res.Decisions = Decide(all, o.Keep, inUse)
	p.logf("images of %s/%s (tag %s=%s): %d, keeping the newest %d and any in use", o.Project, o.Stack, NameTag, Tags(o.Project, o.Stack)[NameTag], len(all), o.Keep)
	for _, d := range res.Decisions {
		verb := "keep  "
		if d.Remove {
			verb = "remove"
		}
		p.logf("  %s %s %s  %s", verb, d.ID, d.Created.UTC().Format(time.RFC3339), d.Why)
	}
	if o.DryRun {
		p.logf("dry run: nothing removed")
		return res, nil
	}
	kept := map[string]bool{}
	for _, d := range res.Decisions {
		if !d.Remove {
			for _, s := range d.Snapshots {
				kept[s] = true
			}
		}
	}
	var errs []error
	for _, d := range res.Decisions {
		if !d.Remove {
			continue
		}
		// Deregistered first: EC2 refuses to delete a snapshot a registered image uses.
		if _, err := p.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(d.ID)}); err != nil {
			errs = append(errs, fmt.Errorf("deregister %s (its snapshots %s are left): %w", d.ID, strings.Join(d.Snapshots, ", "), err))
			continue
		}
		res.Removed = append(res.Removed, d.ID)
		for _, s := range d.Snapshots {
			if kept[s] {
				p.logf("  snapshot %s of %s is also a kept image's: left", s, d.ID)
				continue
			}
			if _, err := p.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s)}); err != nil {
				errs = append(errs, fmt.Errorf("delete snapshot %s of the deregistered image %s (delete it with `aws ec2 delete-snapshot --snapshot-id %s`): %w", s, d.ID, s, err))
				continue
			}
			res.Deleted = append(res.Deleted, s)
		}
		p.logf("removed %s and its snapshots %s", d.ID, strings.Join(d.Snapshots, ", "))
	}
	return res, errors.Join(errs...)
}

// List is the stack's golden images, the newest first: the account's own images carrying the
// stack's three tags.
func List(ctx context.Context, c EC2, project, stack string) ([]Image, error) {
	var filters []ec2types.Filter
	tags := Tags(project, stack)
	for _, k := range []string{ProjectTag, StackTag, NameTag} {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{tags[k]}})
	}
	in := &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: filters, IncludeDeprecated: aws.Bool(true)}
	var out []Image
	pages := ec2.NewDescribeImagesPaginator(c, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the images of %s/%s: %w", project, stack, err)
		}
		for _, im := range page.Images {
			created, err := time.Parse(time.RFC3339Nano, aws.ToString(im.CreationDate))
			if err != nil {
				return nil, fmt.Errorf("image %s: creation date %q: %w", aws.ToString(im.ImageId), aws.ToString(im.CreationDate), err)
			}
			img := Image{ID: aws.ToString(im.ImageId), Name: aws.ToString(im.Name), State: string(im.State), Created: created}
			for _, m := range im.BlockDeviceMappings {
				if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
					img.Snapshots = append(img.Snapshots, aws.ToString(m.Ebs.SnapshotId))
				}
			}
			out = append(out, img)
		}
	}
	slices.SortFunc(out, func(a, b Image) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// liveStates are the instance states in which an instance may still need its image (a
// stopped one starts from its volume, but a replacement of it would launch the image).
var liveStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// InUse says which of the candidates a launch template version or an instance uses, and how.
func InUse(ctx context.Context, c EC2, launchTemplateID string, versions []string, candidates []Image) (map[string]string, error) {
	inUse := map[string]string{}
	if launchTemplateID != "" {
		used, err := templateImages(ctx, c, launchTemplateID, versions)
		if err != nil {
			return nil, err
		}
		for id, why := range used {
			inUse[id] = why
		}
	}
	var ids []string
	for _, im := range candidates {
		ids = append(ids, im.ID)
	}
	for chunk := range slices.Chunk(ids, 200) { // EC2's limit on a filter's values
		pages := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("image-id"), Values: chunk},
			{Name: aws.String("instance-state-name"), Values: liveStates},
		}})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("find the instances launched from the older images: %w", err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					id := aws.ToString(i.ImageId)
					if _, seen := inUse[id]; seen || !slices.Contains(chunk, id) {
						continue
					}
					state := ""
					if i.State != nil {
						state = string(i.State.Name)
					}
					inUse[id] = fmt.Sprintf("in use: instance %s (%s)", aws.ToString(i.InstanceId), state)
				}
			}
		}
	}
	return inUse, nil
}

// templateImages are the images of the launch template's versions that a rollout or a
// rollback may launch: the latest, the default, the one before the latest, and versions.
func templateImages(ctx context.Context, c EC2, id string, versions []string) (map[string]string, error) {
	describe := func(vs []string) ([]ec2types.LaunchTemplateVersion, error) {
		out, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: vs})
		if err != nil {
			return nil, fmt.Errorf("read the versions %s of launch template %s: %w", strings.Join(vs, ", "), id, err)
		}
		return out.LaunchTemplateVersions, nil
	}
	found, err := describe([]string{"$Latest", "$Default"})
	if err != nil {
		return nil, err
	}
	latest := int64(0)
	for _, v := range found {
		latest = max(latest, aws.ToInt64(v.VersionNumber))
	}
	var more []string
	if latest > 1 {
		more = append(more, strconv.FormatInt(latest-1, 10))
	}
	for _, v := range versions {
		if v != "" && !slices.Contains(more, v) && v != strconv.FormatInt(latest, 10) {
			more = append(more, v)
		}
	}
	if len(more) > 0 {
		before, err := describe(more)
		if err != nil {
			return nil, err
		}
		found = append(found, before...)
	}
	used := map[string]string{}
	for _, v := range found {
		n := aws.ToInt64(v.VersionNumber)
		var roles []string
		switch n {
		case latest:
			roles = append(roles, "latest")
		case latest - 1:
			roles = append(roles, "the one before the latest: a rollback's")
		}
		if aws.ToBool(v.DefaultVersion) {
			roles = append(roles, "default")
		}
		if v.LaunchTemplateData == nil || aws.ToString(v.LaunchTemplateData.ImageId) == "" {
			continue
		}
		image := aws.ToString(v.LaunchTemplateData.ImageId)
		why := fmt.Sprintf("version %d", n)
		if len(roles) > 0 {
			why += " (" + strings.Join(roles, ", ") + ")"
		}
		if prev, ok := used[image]; ok {
			used[image] = prev + ", " + why
		} else {
			used[image] = "in use: launch template " + id + " " + why
		}
	}
	return used, nil
}

// Decide keeps the newest keep images, those in use and those still being created, and
// removes the rest. images are the newest first.
func Decide(images []Image, keep int, inUse map[string]string) []Decision {
	out := make([]Decision, 0, len(images))
	for i, im := range images {
		d := Decision{Image: im}
		switch why, used := inUse[im.ID]; {
		case i < keep:
			d.Why = fmt.Sprintf("one of the newest %d", keep)
		case used:
			d.Why = why
		case im.State == string(ec2types.ImageStatePending):
			d.Why = "still being created"
		default:
			d.Remove, d.Why = true, fmt.Sprintf("older than the newest %d, in use nowhere; snapshots %s", keep, strings.Join(im.Snapshots, ", "))
		}
		out = append(out, d)
	}
	return out
}

func (p *Pruner) logf(format string, args ...any) {
	if p.Out != nil {
		fmt.Fprintf(p.Out, format+"\n", args...)
	}
}
