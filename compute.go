package main

// WebTier is the hands-on's steps 2, 6 and 7, made for day 2: a first server ("Test-EC2#1")
// that prepares WordPress, an image of it taken only once that preparation has finished
// ("Test-AMI-WordPress", golden: servers from it only configure), and the servers that serve:
// by default an Auto Scaling group that rolls every change through launch-before-terminate
// with automatic rollback (autoscaling.go), or the hands-on's fixed clones of server 1.

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/example/scalable-wordpress/internal/pipeline"
	"github.com/example/scalable-wordpress/internal/wporg"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
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

// siteTagKey marks the servers that serve a stack's site: the settings association
// (settings.go) re-applies changed settings to every instance carrying it.
const siteTagKey = "wordpress-site"

// ImageRecipe is what the golden image holds besides Amazon Linux: a change to it builds a
// new image and rolls new servers.
type ImageRecipe struct {
	PHPVersion       string
	Locale           string // selects the WordPress release archive
	WordPressVersion string
	Plugins, Themes  []wpPackage
}

// GroupSettings size the Auto Scaling group and its target-tracking policy.
type GroupSettings struct {
	Min, Max, Desired int
	Metric            string // metricRequests or metricCPU
	RequestsPerTarget int
	CPUPercent        int
	BakeMinutes       int // the refresh's wait at its first checkpoint, under the rollout alarms
}

// WebTierArgs are what the web servers need: where they run, how they are built, where they
// register, and where their settings and secrets are. The database arrives only as the ARNs
// of secrets: WordPress's own credentials (they exist seconds into the deploy) and the master
// credential's, which only one policy of the servers' role waits for, so nothing that
// builds or launches a server waits for RDS.
type WebTierArgs struct {
	Mode            string // modeAutoScaling or modeFixed
	Region          string
	Subnets         []Subnet // public subnets, one per AZ
	SecurityGroupID pulumi.StringInput

	InstanceType      string
	AmiID             string // "" resolves the current Amazon Linux 2023
	RootVolumeSizeGiB int
	KeyPairName       string // "" for none
	Recipe            ImageRecipe

	ServerCount int           // fixed mode
	Group       GroupSettings // autoscaling mode

	LoadBalancer LoadBalancerTarget // where servers register and what the scaling policy reads

	SettingsPath string             // SSM path of the stack's settings
	DBAppSecret  pulumi.StringInput // ARN of WordPress's own database credentials
	// DBMasterSecret is the ARN of the master credential's secret, which the servers' role
	// may read (for the boot script to create or realign WordPress's user) when it is set;
	// nil: no server may read it. RDS's is known only once RDS is up.
	DBMasterSecret       pulumi.StringInput
	SecretRecoveryWindow int    // days a deleted WordPress secret stays restorable
	SiteTag              string // value of siteTagKey on the serving instances
	PermissionsBoundary  string // ARN every role of the tier carries; "" for none
	// After is what the servers (and the image builder) wait for: the database's subnet
	// group, so that they start in the shadow of the RDS instance rather than compete with
	// its critical path for the engine's first minute.
	After pulumi.Resource
	// ReleaseGate is what servers of a new release wait for before they boot: the database
	// snapshot taken before a WordPress upgrade (release.go); nil when there is none.
	ReleaseGate pulumi.Resource
	Tags        Tags
}

// WebServer is one EC2 instance and the AZ it was placed in.
type WebServer struct {
	AZ       string
	Instance *ec2.Instance
}

// WebTier is the web component.
type WebTier struct {
	pulumi.ResourceState

	Role *iam.Role
	// MasterRead is the servers' read of the master credential (dbServersReadMaster); nil
	// when sealed. A restore's settings refresh waits for it (main.go).
	MasterRead      *iam.RolePolicy
	Image           *ec2.AmiFromInstance
	WordPressSecret *secretsmanager.Secret
	Servers         []WebServer // fixed mode: every server; autoscaling mode: none (the group's come and go)
	Builder         *ec2.Instance
	LaunchTemplate  *ec2.LaunchTemplate // autoscaling mode
	Group           *autoscaling.Group  // autoscaling mode
}

// NewWebTier builds the WordPress secret, the servers' role, the golden image and the
// serving servers of the configured mode.
func NewWebTier(ctx *pulumi.Context, name string, args *WebTierArgs, opts ...pulumi.ResourceOption) (*WebTier, error) {
	if len(args.Subnets) == 0 {
		return nil, fmt.Errorf("web tier %s: want at least one subnet", name)
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
	role, profile, masterRead, err := newServerRole(ctx, name, args, wpSecret.Arn, parent)
	if err != nil {
		return nil, err
	}
	w.Role, w.MasterRead = role, masterRead
	image, err := newGoldenImage(ctx, name, args, profile.Name, parent)
	if err != nil {
		return nil, err
	}
	w.Image, w.Builder = image.AMI, image.Builder

	outputs := pulumi.Map{"amiId": image.AMI.ID(), "wordpressSecretName": wpSecret.Name}
	if args.Mode == modeFixed {
		if w.Servers, err = newFixedServers(ctx, name, args, image, profile.Name, parent); err != nil {
			return nil, err
		}
	} else {
		group, err := newServerGroup(ctx, name, args, image.AMI, profile.Name, role, parent)
		if err != nil {
			return nil, err
		}
		w.LaunchTemplate, w.Group = group.LaunchTemplate, group.Group
		outputs["autoScalingGroupName"] = group.Group.Name
	}
	if err := ctx.RegisterResourceOutputs(w, outputs); err != nil {
		return nil, fmt.Errorf("register web outputs: %w", err)
	}
	return w, nil
}

// bootUserData is the user data of every server and of the image builder, as EC2 takes it:
// the boot script with the image recipe and the stack's settings path, and nothing that may
// change on day 2.
func bootUserData(args *WebTierArgs, mode string) (string, error) {
	script, err := renderUserData(BootParams{
		Region:       args.Region,
		SettingsPath: args.SettingsPath,
		PHPVersion:   args.Recipe.PHPVersion,
		ArchiveURL:   wporg.ArchiveURL(args.Recipe.Locale, args.Recipe.WordPressVersion),
		Plugins:      args.Recipe.Plugins,
		Themes:       args.Recipe.Themes,
		Mode:         mode,
	})
	if err != nil {
		return "", err
	}
	return userDataPayload(script)
}

// serverSpec is one EC2 instance to launch.
type serverSpec struct {
	name     string // logical name suffix, e.g. web-1
	label    string // Name-tag suffix; name when empty
	ami      pulumi.StringInput
	machine  machine
	subnet   Subnet
	profile  pulumi.StringInput
	userData string // base64, as bootUserData makes it
	serving  bool   // carries the site tag (settings are re-applied to it)
}

// machine is an instance's type, root volume size and key pair.
type machine struct {
	instanceType string
	volumeGiB    int
	keyPair      string // "" for none
}

// servingMachine is the machine the config asks for the web servers.
func servingMachine(args *WebTierArgs) machine {
	return machine{instanceType: args.InstanceType, volumeGiB: args.RootVolumeSizeGiB, keyPair: args.KeyPairName}
}

// newServer launches one instance. A change to its user data replaces it instead of
// restarting it: cloud-init runs user data once per instance, so a restart would keep the
// old script.
func newServer(ctx *pulumi.Context, tier string, args *WebTierArgs, s serverSpec, opts ...pulumi.ResourceOption) (*ec2.Instance, error) {
	label := s.label
	if label == "" {
		label = s.name
	}
	tags := args.Tags.Named(label)
	if s.serving {
		tags[siteTagKey] = pulumi.String(args.SiteTag)
	}
	a := &ec2.InstanceArgs{
		Ami:                      s.ami,
		InstanceType:             pulumi.String(s.machine.instanceType),
		SubnetId:                 s.subnet.ID,
		VpcSecurityGroupIds:      pulumi.StringArray{args.SecurityGroupID},
		AssociatePublicIpAddress: pulumi.Bool(true), // outbound to package repos; no inbound but from the ALB
		IamInstanceProfile:       s.profile,
		UserDataBase64:           pulumi.String(s.userData),
		UserDataReplaceOnChange:  pulumi.Bool(true),
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: pulumi.Int(1),
			InstanceMetadataTags:    pulumi.String("disabled"),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeType:          pulumi.String("gp3"),
			VolumeSize:          pulumi.Int(s.machine.volumeGiB),
			Encrypted:           pulumi.Bool(true),
			DeleteOnTermination: pulumi.Bool(true),
		},
		Tags:       tags,
		VolumeTags: args.Tags.Named(label + "-root"),
	}
	if s.machine.keyPair != "" {
		a.KeyName = pulumi.String(s.machine.keyPair)
	}
	opts = append(opts, dependsOnIf(args.After))
	if s.serving { // it runs the release's one-time database upgrade
		opts = append(opts, dependsOnIf(args.ReleaseGate))
	}
	inst, err := ec2.NewInstance(ctx, tier+"-"+s.name, a, opts...)
	if err != nil {
		return nil, fmt.Errorf("create web server %s: %w", s.name, err)
	}
	return inst, nil
}

// newFixedServers is the hands-on's layout: server 1 (the image builder, which also serves)
// and servers 2..N launched from its image, round-robin over the AZs, each registered in
// the target group. Changes replace them without waiting for health: only the autoscaling
// mode rolls changes without downtime.
func newFixedServers(ctx *pulumi.Context, tier string, args *WebTierArgs, image *goldenImage, profile pulumi.StringInput, parent pulumi.ResourceOption) ([]WebServer, error) {
	servers := []WebServer{{AZ: args.Subnets[0].AZ, Instance: image.Builder}}
	userData, err := bootUserData(args, convergeBoot)
	if err != nil {
		return nil, err
	}
	for i := 1; i < args.ServerCount; i++ {
		subnet := args.Subnets[i%len(args.Subnets)]
		inst, err := newServer(ctx, tier, args, serverSpec{name: fmt.Sprintf("web-%d", i+1), ami: image.AMI.ID().ToStringOutput(),
			machine: servingMachine(args), subnet: subnet, profile: profile, userData: userData, serving: true}, parent)
		if err != nil {
			return nil, err
		}
		servers = append(servers, WebServer{AZ: subnet.AZ, Instance: inst})
	}
	for i, s := range servers {
		// Named as when the load balancer registered them (first layout), so existing stacks keep them.
		n := fmt.Sprintf("lb-web-%d", i+1)
		if _, err := lb.NewTargetGroupAttachment(ctx, n, &lb.TargetGroupAttachmentArgs{
			TargetGroupArn: args.LoadBalancer.TargetGroupArn,
			TargetId:       s.Instance.ID(),
			Port:           pulumi.Int(httpPort),
		}, parent, movedFrom(ctx, "lb")); err != nil {
			return nil, fmt.Errorf("register web server %d in the target group: %w", i+1, err)
		}
	}
	return servers, nil
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

// accountFacts are the partition, DNS suffix and account the IAM documents name.
type accountFacts struct {
	partition, dnsSuffix, account string
}

func lookupAccount(ctx *pulumi.Context) (accountFacts, error) {
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return accountFacts{}, fmt.Errorf("look up AWS partition: %w", err)
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return accountFacts{}, fmt.Errorf("look up AWS account: %w", err)
	}
	return accountFacts{partition: partition.Partition, dnsSuffix: partition.DnsSuffix, account: caller.AccountId}, nil
}

// newInstanceRole is a role EC2 instances assume, with what the SSM agent needs for Session
// Manager (instead of SSH), Run Command and State Manager associations, and an instance
// profile for it.
func newInstanceRole(ctx *pulumi.Context, name, description, tag, boundary string, acct accountFacts, tags Tags, parent pulumi.ResourceOption) (*iam.Role, *iam.InstanceProfile, error) {
	assume, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]any{"Service": "ec2." + acct.dnsSuffix},
		}},
	})
	if err != nil {
		return nil, nil, err
	}
	roleArgs := &iam.RoleArgs{
		Description:      pulumi.String(description),
		AssumeRolePolicy: pulumi.String(string(assume)),
		Tags:             tags.Named(tag + "-role"),
	}
	if boundary != "" {
		roleArgs.PermissionsBoundary = pulumi.String(boundary) // the pipeline's (iamPermissionsBoundary)
	}
	role, err := iam.NewRole(ctx, name+"-role", roleArgs, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s role: %w", tag, err)
	}
	if err := newSSMAgentPolicy(ctx, name, role, parent); err != nil {
		return nil, nil, fmt.Errorf("allow the SSM agent on the %s role: %w", tag, err)
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{
		Role: role.Name,
		Tags: tags.Named(tag + "-profile"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s instance profile: %w", tag, err)
	}
	return role, profile, nil
}

// newServerRole lets the serving servers read exactly their two secrets and the stack's
// settings, and find their Auto Scaling group (completing the launch is granted by the
// group, which must exist first: autoscaling.go); and, when the stack allows it, the master
// credential, in a policy of its own (newMasterCredentialRead).
func newServerRole(ctx *pulumi.Context, tier string, args *WebTierArgs, wpSecretArn pulumi.StringOutput, parent pulumi.ResourceOption) (*iam.Role, *iam.InstanceProfile, *iam.RolePolicy, error) {
	acct, err := lookupAccount(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	role, profile, err := newInstanceRole(ctx, tier, "WordPress web servers: SSM Session Manager, their settings and their own secrets", "web", args.PermissionsBoundary, acct, args.Tags, parent)
	if err != nil {
		return nil, nil, nil, err
	}
	settings := fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", acct.partition, args.Region, acct.account, args.SettingsPath)
	policy := pulumi.All(args.DBAppSecret, wpSecretArn).ApplyT(func(arns []any) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
					"Resource": []string{arns[0].(string), arns[1].(string)}},
				{"Sid": "ReadStackSettings", "Effect": "Allow", "Action": "ssm:GetParametersByPath",
					"Resource": []string{settings, settings + "/*"}},
				// DescribeAutoScalingInstances has no resource-level permissions: it only tells
				// a server which group it is in.
				{"Sid": "FindOwnGroup", "Effect": "Allow", "Action": "autoscaling:DescribeAutoScalingInstances",
					"Resource": []string{"*"}},
			},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, tier+"-read-config", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent); err != nil {
		return nil, nil, nil, fmt.Errorf("create web server policy: %w", err)
	}
	var masterRead *iam.RolePolicy
	if args.DBMasterSecret != nil {
		if masterRead, err = newMasterCredentialRead(ctx, tier, role, args.DBMasterSecret, parent); err != nil {
			return nil, nil, nil, err
		}
	}
	return role, profile, masterRead, nil
}

// newMasterCredentialRead lets the servers read the database's master credential, which the
// boot script (as root; PHP never reads it) uses only when WordPress's own
// user is missing or has another password. A policy of its own: RDS's secret exists only once
// the instance does, and this policy alone waits for it, in RDS's wake, while the servers
// already boot (they wait for the database's settings anyway). Nothing waits for it.
func newMasterCredentialRead(ctx *pulumi.Context, tier string, role *iam.Role, masterArn pulumi.StringInput, parent pulumi.ResourceOption) (*iam.RolePolicy, error) {
	policy := masterArn.ToStringOutput().ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{{"Sid": "CreateWordPressDatabaseUser", "Effect": "Allow",
				"Action": "secretsmanager:GetSecretValue", "Resource": []string{arn}}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	read, err := iam.NewRolePolicy(ctx, tier+"-read-db-master", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent)
	if err != nil {
		return nil, fmt.Errorf("create the servers' read of the master credential: %w", err)
	}
	return read, nil
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

// newSSMAgentPolicy puts the SSM agent's actions (pipeline.SSMAgentActions, which the
// pipeline's permissions boundary allows too) on the role, inline: what the role may do is then all
// in the program, where a test reads it. On "*", as in AWS's managed policy: the message
// channels have no resource type, and the rest report on this instance or read associations
// and documents, which hold no secret.
func newSSMAgentPolicy(ctx *pulumi.Context, name string, role *iam.Role, parent pulumi.ResourceOption) error {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid": "SSMAgent", "Effect": "Allow", "Action": pipeline.SSMAgentActions, "Resource": "*",
		}},
	})
	if err != nil {
		return err
	}
	_, err = iam.NewRolePolicy(ctx, name+"-ssm-agent", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: pulumi.String(string(b)),
	}, parent)
	return err
}
