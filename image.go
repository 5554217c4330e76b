package main

// The golden image: the hands-on's step 6, taken when it is worth taking. Server 1 boots the
// base Amazon Linux with the boot script, which prepares WordPress (packages, PHP, the
// WordPress files, the RDS CA bundle); an SSM association waits on it until that phase has
// finished; only then is the image captured. Servers launched from the image skip the
// preparation and only configure themselves.

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2transitgateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// waitPreparedScript is the prepare wait's script. Its state directory, markers and budget
// are bootfacts.go's (TestBootFactsAgree).
//
//go:embed boot/wait-prepared.sh
var waitPreparedScript string

// imageNameLeaf names the golden image: its Name tag is "<project>-<stack>-ami", which
// internal/images (images.NameTag) looks for along with the project and stack tags.
const imageNameLeaf = "ami"

type goldenImage struct {
	Builder *ec2.Instance        // server 1
	AMI     *ec2.AmiFromInstance // its image, once prepared
}

// newGoldenImage launches the builder, waits for its prepare phase and images it. In the
// autoscaling mode the builder only prepares (an instance profile without any secret), and is
// stopped once imaged: it costs its volume only. In the fixed mode it is the hands-on's
// server 1 and goes on serving.
func newGoldenImage(ctx *pulumi.Context, tier string, args *WebTierArgs, serverProfile pulumi.StringInput, parent pulumi.ResourceOption) (*goldenImage, error) {
	base, err := resolveBaseAMI(ctx, args.AmiID, args.InstanceType)
	if err != nil {
		return nil, err
	}
	spec := serverSpec{name: "web-1", label: "web-1", ami: pulumi.String(base), machine: servingMachine(args),
		subnet: args.Subnets[0], profile: serverProfile, serving: true}
	mode := convergeBoot
	if args.Mode == modeAutoScaling {
		mode, spec.label, spec.serving = convergePrepare, "image-builder", false
		spec.machine = builderMachine(args.InstanceType)
		acct, err := lookupAccount(ctx)
		if err != nil {
			return nil, err
		}
		_, profile, err := newInstanceRole(ctx, tier+"-builder", "WordPress image builder: SSM only; it prepares the image and reads no secret", "image-builder", args.PermissionsBoundary, acct, args.Tags, parent)
		if err != nil {
			return nil, err
		}
		spec.profile = profile.Name
	}
	if spec.userData, err = bootUserData(args, mode); err != nil {
		return nil, err
	}
	builder, err := newServer(ctx, tier, args, spec, parent)
	if err != nil {
		return nil, err
	}
	prepared, err := waitForPrepare(ctx, tier, builder, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	// Taken with a reboot, as in the hands-on, for a consistent file system.
	//
	// Retained on delete: a new recipe replaces the image create-before-delete, and the same
	// `pulumi up` would deregister the previous one (and delete its snapshot) while the
	// instance refresh is still rolling; a refresh that then rolls back would return the group
	// to a launch template version whose image is gone. So Pulumi only forgets a replaced (or
	// destroyed) image, and cmd/rollout prunes the images once a refresh has succeeded,
	// keeping the newest imagesKept and any that a launch template version or a server uses
	// (internal/images). The image's tags (project, stack, Name) are how it finds them.
	ami, err := ec2.NewAmiFromInstance(ctx, tier+"-ami", &ec2.AmiFromInstanceArgs{
		SourceInstanceId:      builder.ID(),
		SnapshotWithoutReboot: pulumi.Bool(false),
		Description:           pulumi.String("WordPress web server image of " + ctx.Project() + "/" + ctx.Stack() + ", prepared: " + recipeLabel(args.Recipe)),
		Tags:                  args.Tags.Named(imageNameLeaf),
	}, parent, pulumi.DependsOn([]pulumi.Resource{prepared}), pulumi.RetainOnDelete(true),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "40m", Delete: "20m"}))
	if err != nil {
		return nil, fmt.Errorf("create web server image: %w", err)
	}
	if args.Mode == modeAutoScaling {
		if _, err := ec2transitgateway.NewInstanceState(ctx, tier+"-builder-stopped", &ec2transitgateway.InstanceStateArgs{
			InstanceId: builder.ID(),
			State:      pulumi.String("stopped"),
		}, parent, pulumi.DependsOn([]pulumi.Resource{ami})); err != nil {
			return nil, fmt.Errorf("stop the image builder: %w", err)
		}
	}
	return &goldenImage{Builder: builder, AMI: ami}, nil
}

// builderInstanceTypes are the image builder's types by architecture. An image serves every
// type of its architecture, so the servers' type, volume size and key pair can change by
// rolling the group, without touching the builder or rebuilding the image.
var builderInstanceTypes = map[string]string{"x86_64": "t3.micro", "arm64": "t4g.micro"}

// builderVolumeGiB is the builder's root volume: the smallest a server may have (Amazon Linux
// 2023's own 8 GiB), since a server's volume cannot be smaller than its image's.
const builderVolumeGiB = minRootVolumeGiB

// builderMachine is the autoscaling mode's image builder for servers of instanceType: the
// architecture's small type, the smallest volume, no key pair (SSM reaches it).
func builderMachine(instanceType string) machine {
	return machine{instanceType: builderInstanceTypes[architecture(instanceType)], volumeGiB: builderVolumeGiB}
}

// recipeLabel describes an image recipe for people (the image's description).
func recipeLabel(r ImageRecipe) string {
	return "PHP " + r.PHPVersion + ", WordPress " + r.Locale
}

// waitForPrepare is an SSM Command document that succeeds once the builder's prepare phase
// has finished, and an association that runs it on the builder. The provider waits for the
// association to succeed when it is created; it is replaced with the builder, so a new
// builder is waited for too.
func waitForPrepare(ctx *pulumi.Context, tier string, builder *ec2.Instance, tags Tags, parent pulumi.ResourceOption) (*ssm.Association, error) {
	content, err := commandDocument("Waits until the WordPress boot script has prepared this image builder.",
		"waitForPrepare", waitPreparedScript, prepareWaitSeconds, nil)
	if err != nil {
		return nil, err
	}
	doc, err := ssm.NewDocument(ctx, tier+"-wait-prepared", &ssm.DocumentArgs{
		Name:           pulumi.String(documentName(ctx, "wait-prepared")),
		DocumentType:   pulumi.String("Command"),
		DocumentFormat: pulumi.String("JSON"),
		Content:        pulumi.String(content),
		Tags:           tags.Named("wait-prepared"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create the prepare-wait document: %w", err)
	}
	assoc, err := ssm.NewAssociation(ctx, tier+"-wait-prepared", &ssm.AssociationArgs{
		Name: doc.Name,
		Targets: ssm.AssociationTargetArray{&ssm.AssociationTargetArgs{
			Key:    pulumi.String("InstanceIds"),
			Values: pulumi.StringArray{builder.ID()},
		}},
		WaitForSuccessTimeoutSeconds: pulumi.Int(prepareAssociationWaitSeconds),
		Tags:                         tags.Named("wait-prepared"),
	}, parent, pulumi.ReplaceOnChanges([]string{"targets"}))
	if err != nil {
		return nil, fmt.Errorf("wait for the image builder's prepare phase: %w", err)
	}
	return assoc, nil
}

// documentName names an SSM document of this stack. Named rather than auto-named: only a
// rename replaces a document (its content changes in place), and the stack's name makes it
// unique in the account.
func documentName(ctx *pulumi.Context, what string) string {
	return ctx.Project() + "-" + ctx.Stack() + "-" + what
}

// commandDocument is an SSM Command document (schema 2.2) that runs one shell script, with
// optional String parameters (declared so that associations may pass them).
func commandDocument(description, step, script string, timeoutSeconds int, params map[string]string) (string, error) {
	declared := map[string]any{}
	for name, desc := range params {
		declared[name] = map[string]any{"type": "String", "description": desc, "default": ""}
	}
	doc := map[string]any{
		"schemaVersion": "2.2",
		"description":   description,
		"mainSteps": []map[string]any{{
			"action": "aws:runShellScript",
			"name":   step,
			"inputs": map[string]any{
				"timeoutSeconds": fmt.Sprint(timeoutSeconds),
				"runCommand":     strings.Split(strings.TrimRight(script, "\n"), "\n"),
			},
		}},
	}
	if len(declared) > 0 {
		doc["parameters"] = declared
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return string(b), err
}
