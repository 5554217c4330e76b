package main

// WebTier is the hands-on's steps 2, 6 and 7: a first WordPress server bootstrapped by user
// data, an image of it ("Test-AMI-WordPress"), and the other servers launched from that
// image across the AZs. Unlike the hands-on, every server runs the same converging boot
// script, so an image captured at any moment still yields a working server.

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// wordpressSaltNames are the eight keys and salts wp-config.php defines.
var wordpressSaltNames = []string{
	"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
	"AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT",
}

const saltLength = 64

// SiteSettings are the WordPress site's own settings.
type SiteSettings struct {
	Locale     string
	PHPVersion string
	Title      string
	AdminUser  string
	AdminEmail string
}

// WebTierArgs are what the web servers need: where they run, how they are built, and the
// names of what they read at boot. The database arrives only as its hand-off.
type WebTierArgs struct {
	Region          string
	Subnets         []Subnet // public subnets, one per AZ; servers go round-robin over them
	SecurityGroupID pulumi.StringInput

	InstanceType      string
	ServerCount       int
	AmiID             string // "" resolves the current Amazon Linux 2023
	RootVolumeSizeGiB int
	KeyPairName       string // "" for none

	Site                 SiteSettings
	DB                   DBHandoff
	SiteURLParameterName string
	SecretRecoveryWindow int // days a deleted WordPress secret stays restorable
	Tags                 Tags
}

// WebServer is one EC2 instance and the AZ it was placed in.
type WebServer struct {
	AZ       string
	Instance *ec2.Instance
}

// WebTier is the web component.
type WebTier struct {
	pulumi.ResourceState

	Role            *iam.Role
	Image           *ec2.AmiFromInstance
	Servers         []WebServer
	WordPressSecret *secretsmanager.Secret
}

// NewWebTier builds the servers' role, the WordPress secret, the first server, its image
// and the servers launched from it. It takes only the DB hand-off, never the RDS instance,
// so nothing here waits for RDS.
func NewWebTier(ctx *pulumi.Context, name string, args *WebTierArgs, opts ...pulumi.ResourceOption) (*WebTier, error) {
	if len(args.Subnets) == 0 || args.ServerCount < 1 {
		return nil, fmt.Errorf("web tier %s: want at least one subnet and one server (got %d subnets, %d servers)", name, len(args.Subnets), args.ServerCount)
	}
	w := &WebTier{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:web:WebTier", name, w, opts...); err != nil {
		return nil, fmt.Errorf("register web component: %w", err)
	}
	parent := pulumi.Parent(w)

	wpSecret, err := newWordPressSecret(ctx, name, args.SecretRecoveryWindow, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	w.WordPressSecret = wpSecret
	role, profile, err := newServerRole(ctx, name, args, wpSecret.Arn, parent)
	if err != nil {
		return nil, err
	}
	w.Role = role
	baseAMI, err := resolveBaseAMI(ctx, args.AmiID, args.InstanceType)
	if err != nil {
		return nil, err
	}
	spec := serverSpec{args: args, profile: profile.Name, userData: userData(args, wpSecret.Arn)}

	first, err := newWebServer(ctx, name, 0, pulumi.String(baseAMI), spec, parent)
	if err != nil {
		return nil, err
	}
	image, err := newServerImage(ctx, name, first.Instance, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	w.Image = image
	w.Servers = []WebServer{first}
	for i := 1; i < args.ServerCount; i++ {
		s, err := newWebServer(ctx, name, i, image.ID().ToStringOutput(), spec, parent)
		if err != nil {
			return nil, err
		}
		w.Servers = append(w.Servers, s)
	}

	if err := ctx.RegisterResourceOutputs(w, pulumi.Map{
		"amiId":               image.ID(),
		"wordpressSecretName": wpSecret.Name,
	}); err != nil {
		return nil, fmt.Errorf("register web outputs: %w", err)
	}
	return w, nil
}

// userData renders the boot script with the secrets' ARNs once they are known.
func userData(args *WebTierArgs, wpSecretArn pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.All(args.DB.CredentialsSecret, wpSecretArn).ApplyT(func(arns []any) (string, error) {
		return renderUserData(BootstrapParams{
			Region:           args.Region,
			DBSecretID:       arns[0].(string),
			WPSecretID:       arns[1].(string),
			DBHostParameter:  args.DB.HostParameterName,
			SiteURLParameter: args.SiteURLParameterName,
			DBName:           dbName,
			PHPVersion:       args.Site.PHPVersion,
			Locale:           args.Site.Locale,
			ArchiveURL:       wordpressArchiveURL(args.Site.Locale),
			SiteTitle:        args.Site.Title,
			AdminUser:        args.Site.AdminUser,
			AdminEmail:       args.Site.AdminEmail,
		})
	}).(pulumi.StringOutput)
}

// serverSpec is what every web server shares.
type serverSpec struct {
	args     *WebTierArgs
	profile  pulumi.StringInput
	userData pulumi.StringInput
}

// newWebServer launches server i (0-based) from an image, in the i-th AZ round-robin.
func newWebServer(ctx *pulumi.Context, tier string, i int, ami pulumi.StringInput, spec serverSpec, parent pulumi.ResourceOption) (WebServer, error) {
	a := spec.args
	subnet := a.Subnets[i%len(a.Subnets)]
	n := fmt.Sprintf("web-%d", i+1)
	instanceArgs := &ec2.InstanceArgs{
		Ami:                      ami,
		InstanceType:             pulumi.String(a.InstanceType),
		SubnetId:                 subnet.ID,
		VpcSecurityGroupIds:      pulumi.StringArray{a.SecurityGroupID},
		AssociatePublicIpAddress: pulumi.Bool(true), // outbound to package repos; no inbound but from the ALB
		IamInstanceProfile:       spec.profile,
		UserData:                 spec.userData,
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: pulumi.Int(1),
			InstanceMetadataTags:    pulumi.String("disabled"),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeType:          pulumi.String("gp3"),
			VolumeSize:          pulumi.Int(a.RootVolumeSizeGiB),
			Encrypted:           pulumi.Bool(true),
			DeleteOnTermination: pulumi.Bool(true),
		},
		Tags:       a.Tags.Named(n),
		VolumeTags: a.Tags.Named(n + "-root"),
	}
	if a.KeyPairName != "" {
		instanceArgs.KeyName = pulumi.String(a.KeyPairName)
	}
	inst, err := ec2.NewInstance(ctx, tier+"-"+n, instanceArgs, parent)
	if err != nil {
		return WebServer{}, fmt.Errorf("create web server %s: %w", n, err)
	}
	return WebServer{AZ: subnet.AZ, Instance: inst}, nil
}

// newServerImage is the hands-on's "Test-AMI-WordPress": taken with a reboot for a
// consistent file system.
func newServerImage(ctx *pulumi.Context, tier string, source *ec2.Instance, tags Tags, parent pulumi.ResourceOption) (*ec2.AmiFromInstance, error) {
	image, err := ec2.NewAmiFromInstance(ctx, tier+"-ami", &ec2.AmiFromInstanceArgs{
		SourceInstanceId:      source.ID(),
		SnapshotWithoutReboot: pulumi.Bool(false),
		Description:           pulumi.String("WordPress web server image of " + ctx.Project() + "/" + ctx.Stack()),
		Tags:                  tags.Named("ami"),
	}, parent, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "40m", Delete: "20m"}))
	if err != nil {
		return nil, fmt.Errorf("create web server image: %w", err)
	}
	return image, nil
}

// newWordPressSecret generates the admin password and the eight salts, shared by every
// server through one secret so that a login on one server is valid on all.
func newWordPressSecret(ctx *pulumi.Context, tier string, recoveryWindowDays int, tags Tags, parent pulumi.ResourceOption) (*secretsmanager.Secret, error) {
	// The provider's default specials (!@#$%&*()-_=+[]{}<>:?) on purpose: WordPress's login
	// form checks the password with slashes added, so a quote or a backslash in it would lock
	// the administrator out (the site test logs in with it).
	admin, err := random.NewRandomPassword(ctx, tier+"-admin-password", &random.RandomPasswordArgs{
		Length:     pulumi.Int(24),
		MinSpecial: pulumi.Int(2), MinNumeric: pulumi.Int(2), MinUpper: pulumi.Int(2), MinLower: pulumi.Int(2),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generate WordPress admin password: %w", err)
	}
	// One generated value per key, as WordPress's own salt generator makes them.
	salts := pulumi.StringArray{}
	for _, n := range wordpressSaltNames {
		salt, err := random.NewRandomPassword(ctx, tier+"-"+strings.ToLower(strings.ReplaceAll(n, "_", "-")), &random.RandomPasswordArgs{
			Length: pulumi.Int(saltLength),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("generate WordPress %s: %w", n, err)
		}
		salts = append(salts, salt.Result)
	}
	secret, err := secretsmanager.NewSecret(ctx, tier+"-wordpress", &secretsmanager.SecretArgs{
		Description:          pulumi.String("WordPress admin password and authentication salts"),
		RecoveryWindowInDays: pulumi.Int(recoveryWindowDays),
		Tags:                 tags.Named("wordpress-secret"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create WordPress secret: %w", err)
	}
	value := pulumi.All(admin.Result, salts).ApplyT(func(args []any) (string, error) {
		return wordpressSecretJSON(args[0].(string), args[1].([]string))
	}).(pulumi.StringOutput)
	if _, err := secretsmanager.NewSecretVersion(ctx, tier+"-wordpress-value", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(value).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("store WordPress secret: %w", err)
	}
	return secret, nil
}

// wordpressSecretJSON is the secret's shape: {"admin_password": ..., "salts": {"AUTH_KEY": ...}}.
func wordpressSecretJSON(adminPassword string, salts []string) (string, error) {
	if len(salts) != len(wordpressSaltNames) {
		return "", fmt.Errorf("got %d salts, want %d", len(salts), len(wordpressSaltNames))
	}
	named := map[string]string{}
	for i, salt := range salts {
		named[wordpressSaltNames[i]] = salt
	}
	b, err := json.Marshal(map[string]any{"admin_password": adminPassword, "salts": named})
	return string(b), err
}

// newServerRole gives the servers SSM Session Manager (instead of SSH) and read access to
// exactly the two secrets and the two hand-off parameters they need.
func newServerRole(ctx *pulumi.Context, tier string, args *WebTierArgs, wpSecretArn pulumi.StringOutput, parent pulumi.ResourceOption) (*iam.Role, *iam.InstanceProfile, error) {
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("look up AWS partition: %w", err)
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("look up AWS account: %w", err)
	}
	assume, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]any{"Service": "ec2." + partition.DnsSuffix},
		}},
	})
	if err != nil {
		return nil, nil, err
	}
	role, err := iam.NewRole(ctx, tier+"-role", &iam.RoleArgs{
		Description:      pulumi.String("WordPress web servers: SSM Session Manager and their own secrets"),
		AssumeRolePolicy: pulumi.String(string(assume)),
		Tags:             args.Tags.Named("web-role"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create web server role: %w", err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, tier+"-ssm-core", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:" + partition.Partition + ":iam::aws:policy/AmazonSSMManagedInstanceCore"),
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("attach SSM policy to web server role: %w", err)
	}
	paramARN := func(name string) string {
		return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", partition.Partition, args.Region, caller.AccountId, name)
	}
	policy := pulumi.All(args.DB.CredentialsSecret, wpSecretArn).ApplyT(func(arns []any) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
					"Resource": []string{arns[0].(string), arns[1].(string)}},
				{"Sid": "ReadHandoffParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
					"Resource": []string{paramARN(args.DB.HostParameterName), paramARN(args.SiteURLParameterName)}},
			},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, tier+"-read-config", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("create web server policy: %w", err)
	}
	profile, err := iam.NewInstanceProfile(ctx, tier+"-profile", &iam.InstanceProfileArgs{
		Role: role.Name,
		Tags: args.Tags.Named("web-profile"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create web server instance profile: %w", err)
	}
	return role, profile, nil
}

// resolveBaseAMI returns the pinned AMI, or the current Amazon Linux 2023 image for the
// instance type's architecture from AWS's public SSM parameter (never a hard-coded ID).
func resolveBaseAMI(ctx *pulumi.Context, pinned, instanceType string) (string, error) {
	if pinned != "" {
		return pinned, nil
	}
	param := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + architecture(instanceType)
	p, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: param})
	if err != nil {
		return "", fmt.Errorf("look up the current Amazon Linux 2023 AMI (%s): %w", param, err)
	}
	if !amiIDRe.MatchString(p.Value) {
		return "", fmt.Errorf("look up the current Amazon Linux 2023 AMI (%s): got %q, not an AMI ID", param, p.Value)
	}
	return p.Value, nil
}

// architecture tells arm64 (Graviton: a "g" after the generation digit, as in t4g, m7gd,
// c7gn) from x86_64 for an instance type.
func architecture(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	rest := strings.TrimLeftFunc(family, unicode.IsLetter)
	rest = strings.TrimLeftFunc(rest, unicode.IsDigit)
	if strings.ContainsRune(rest, 'g') {
		return "arm64"
	}
	return "x86_64"
}

// instanceIDs are the servers' instance IDs, for the target group.
func (w *WebTier) instanceIDs() []pulumi.StringInput {
	ids := make([]pulumi.StringInput, len(w.Servers))
	for i, s := range w.Servers {
		ids[i] = s.Instance.ID().ToStringOutput()
	}
	return ids
}
