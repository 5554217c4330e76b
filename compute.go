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

const siteURLName = "site-url"

// wordpressSaltNames are the eight keys and salts wp-config.php defines.
var wordpressSaltNames = []string{
	"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
	"AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT",
}

const saltLength = 64

// WebServer is one EC2 instance and the AZ it was placed in.
type WebServer struct {
	AZ       string
	Instance *ec2.Instance
}

// WebTier is the web component.
type WebTier struct {
	pulumi.ResourceState

	SecurityGroup   *ec2.SecurityGroup
	Role            *iam.Role
	Image           *ec2.AmiFromInstance
	Servers         []WebServer
	WordPressSecret *secretsmanager.Secret
}

// newWebTier builds the web security group and its rules to the database, the servers'
// role, the WordPress secret, the first server, its image and the servers launched from it.
// It takes only the DB hand-off, never the RDS instance, so nothing here waits for RDS.
func newWebTier(ctx *pulumi.Context, cfg Config, net *Network, db DBHandoff, name string) (*WebTier, error) {
	w := &WebTier{}
	if err := ctx.RegisterComponentResource(cfg.Project+":web:WebTier", name, w); err != nil {
		return nil, fmt.Errorf("register web component: %w", err)
	}
	parent := pulumi.Parent(w)

	sg, err := newWebSecurityGroup(ctx, cfg, net, db, name, parent)
	if err != nil {
		return nil, err
	}
	w.SecurityGroup = sg

	wpSecret, err := newWordPressSecret(ctx, cfg, name, parent)
	if err != nil {
		return nil, err
	}
	w.WordPressSecret = wpSecret

	role, profile, err := newServerRole(ctx, cfg, db, wpSecret, name, parent)
	if err != nil {
		return nil, err
	}
	w.Role = role

	baseAMI, err := resolveBaseAMI(ctx, cfg)
	if err != nil {
		return nil, err
	}
	userData := pulumi.All(db.CredentialsSecret, wpSecret.Arn).ApplyT(func(args []any) (string, error) {
		return renderUserData(BootstrapParams{
			Region:           cfg.Region,
			DBSecretID:       args[0].(string),
			WPSecretID:       args[1].(string),
			DBHostParameter:  db.HostParameterName,
			SiteURLParameter: cfg.ssmPrefix() + "/" + siteURLName,
			DBName:           dbName,
			PHPVersion:       cfg.PHPVersion,
			Locale:           cfg.WordPressLocale,
			ArchiveURL:       wordpressArchiveURL(cfg.WordPressLocale),
			SiteTitle:        cfg.SiteTitle,
			AdminUser:        cfg.AdminUser,
			AdminEmail:       cfg.AdminEmail,
		})
	}).(pulumi.StringOutput)

	server := func(i int, ami pulumi.StringInput) (*ec2.Instance, error) {
		subnet := net.PublicSubnets[i%len(net.PublicSubnets)]
		n := fmt.Sprintf("web-%d", i+1)
		args := &ec2.InstanceArgs{
			Ami:                      ami,
			InstanceType:             pulumi.String(cfg.InstanceType),
			SubnetId:                 subnet.Subnet.ID(),
			VpcSecurityGroupIds:      pulumi.StringArray{sg.ID()},
			AssociatePublicIpAddress: pulumi.Bool(true), // outbound to package repos; no inbound but from the ALB
			IamInstanceProfile:       profile.Name,
			UserData:                 userData,
			MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
				HttpEndpoint:            pulumi.String("enabled"),
				HttpTokens:              pulumi.String("required"), // IMDSv2 only
				HttpPutResponseHopLimit: pulumi.Int(1),
				InstanceMetadataTags:    pulumi.String("disabled"),
			},
			RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
				VolumeType:          pulumi.String("gp3"),
				VolumeSize:          pulumi.Int(cfg.RootVolumeSizeGiB),
				Encrypted:           pulumi.Bool(true),
				DeleteOnTermination: pulumi.Bool(true),
			},
			Tags:       cfg.tags(n),
			VolumeTags: cfg.tags(n + "-root"),
		}
		if cfg.KeyPairName != "" {
			args.KeyName = pulumi.String(cfg.KeyPairName)
		}
		inst, err := ec2.NewInstance(ctx, name+"-"+n, args, parent)
		if err != nil {
			return nil, fmt.Errorf("create web server %s: %w", n, err)
		}
		w.Servers = append(w.Servers, WebServer{AZ: subnet.AZ, Instance: inst})
		return inst, nil
	}

	first, err := server(0, pulumi.String(baseAMI))
	if err != nil {
		return nil, err
	}
	// The hands-on's "Test-AMI-WordPress": taken with a reboot for a consistent file system.
	image, err := ec2.NewAmiFromInstance(ctx, name+"-ami", &ec2.AmiFromInstanceArgs{
		SourceInstanceId:      first.ID(),
		SnapshotWithoutReboot: pulumi.Bool(false),
		Description:           pulumi.String("WordPress web server image of " + cfg.Project + "/" + cfg.Stack),
		Tags:                  cfg.tags("ami"),
	}, parent, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "40m", Delete: "20m"}))
	if err != nil {
		return nil, fmt.Errorf("create web server image: %w", err)
	}
	w.Image = image
	for i := 1; i < cfg.WebServerCount; i++ {
		if _, err := server(i, image.ID().ToStringOutput()); err != nil {
			return nil, err
		}
	}

	if err := ctx.RegisterResourceOutputs(w, pulumi.Map{
		"amiId":               image.ID(),
		"securityGroupId":     sg.ID(),
		"wordpressSecretName": wpSecret.Name,
	}); err != nil {
		return nil, fmt.Errorf("register web outputs: %w", err)
	}
	return w, nil
}

// newWebSecurityGroup creates the web servers' group with its egress rules and the
// database's ingress rule from it. HTTP from the load balancer is added by the load
// balancer, which owns that group.
func newWebSecurityGroup(ctx *pulumi.Context, cfg Config, net *Network, db DBHandoff, name string, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sg, err := newSecurityGroup(ctx, cfg, net, name+"-sg", "web-sg", "WordPress web servers: HTTP from the load balancer only", parent)
	if err != nil {
		return nil, err
	}
	dbGroup := db.SecurityGroupID.ToStringOutput()
	rules := []tcpRule{
		{name: name + "-https-out", description: "HTTPS to package repositories, wordpress.org and AWS APIs",
			group: sg.ID().ToStringOutput(), port: 443, cidr: "0.0.0.0/0"},
		{name: name + "-mysql-out", description: "MySQL to the WordPress database",
			group: sg.ID().ToStringOutput(), port: dbPort, peer: dbGroup},
		{name: name + "-to-db", description: "MySQL from the WordPress web servers", ingress: true,
			group: dbGroup, port: dbPort, peer: sg.ID().ToStringOutput()},
	}
	if cfg.SSHCidr != "" {
		rules = append(rules, tcpRule{name: name + "-ssh", description: "SSH from the configured administrator network (sshCidr)",
			ingress: true, group: sg.ID().ToStringOutput(), port: 22, cidr: cfg.SSHCidr})
	}
	for _, r := range rules {
		if err := allowTCP(ctx, cfg, r, parent); err != nil {
			return nil, err
		}
	}
	return sg, nil
}

// newWordPressSecret generates the admin password and the eight salts, shared by every
// server through one secret so that a login on one server is valid on all.
func newWordPressSecret(ctx *pulumi.Context, cfg Config, name string, parent pulumi.ResourceOption) (*secretsmanager.Secret, error) {
	admin, err := random.NewRandomPassword(ctx, name+"-admin-password", &random.RandomPasswordArgs{
		Length:     pulumi.Int(24),
		MinSpecial: pulumi.Int(2), MinNumeric: pulumi.Int(2), MinUpper: pulumi.Int(2), MinLower: pulumi.Int(2),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generate WordPress admin password: %w", err)
	}
	// One generated value per key, as WordPress's own salt generator makes them.
	salts := pulumi.StringArray{}
	for _, n := range wordpressSaltNames {
		salt, err := random.NewRandomPassword(ctx, name+"-"+strings.ToLower(strings.ReplaceAll(n, "_", "-")), &random.RandomPasswordArgs{
			Length: pulumi.Int(saltLength),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("generate WordPress %s: %w", n, err)
		}
		salts = append(salts, salt.Result)
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-wordpress", &secretsmanager.SecretArgs{
		Description:          pulumi.String("WordPress admin password and authentication salts"),
		RecoveryWindowInDays: pulumi.Int(cfg.SecretRecoveryWindowDays),
		Tags:                 cfg.tags("wordpress-secret"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create WordPress secret: %w", err)
	}
	value := pulumi.All(admin.Result, salts).ApplyT(func(args []any) (string, error) {
		return wordpressSecretJSON(args[0].(string), args[1].([]string))
	}).(pulumi.StringOutput)
	if _, err := secretsmanager.NewSecretVersion(ctx, name+"-wordpress-value", &secretsmanager.SecretVersionArgs{
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
func newServerRole(ctx *pulumi.Context, cfg Config, db DBHandoff, wpSecret *secretsmanager.Secret, name string, parent pulumi.ResourceOption) (*iam.Role, *iam.InstanceProfile, error) {
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
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Description:      pulumi.String("WordPress web servers: SSM Session Manager and their own secrets"),
		AssumeRolePolicy: pulumi.String(string(assume)),
		Tags:             cfg.tags("web-role"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create web server role: %w", err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm-core", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:" + partition.Partition + ":iam::aws:policy/AmazonSSMManagedInstanceCore"),
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("attach SSM policy to web server role: %w", err)
	}
	paramARN := func(leaf string) string {
		return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s/%s", partition.Partition, cfg.Region, caller.AccountId, cfg.ssmPrefix(), leaf)
	}
	policy := pulumi.All(db.CredentialsSecret, wpSecret.Arn).ApplyT(func(args []any) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
					"Resource": []string{args[0].(string), args[1].(string)}},
				{"Sid": "ReadHandoffParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
					"Resource": []string{paramARN(dbHostName), paramARN(siteURLName)}},
			},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-read-config", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("create web server policy: %w", err)
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{
		Role: role.Name,
		Tags: cfg.tags("web-profile"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create web server instance profile: %w", err)
	}
	return role, profile, nil
}

// resolveBaseAMI returns the configured AMI, or the current Amazon Linux 2023 image for the
// instance type's architecture from AWS's public SSM parameter (never a hard-coded ID).
func resolveBaseAMI(ctx *pulumi.Context, cfg Config) (string, error) {
	if cfg.AmiID != "" {
		return cfg.AmiID, nil
	}
	param := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + architecture(cfg.InstanceType)
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
