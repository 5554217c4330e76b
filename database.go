package main

// Database is the hands-on's RDS step done right from the start: a Multi-AZ, encrypted,
// private MySQL with backups, its generated credentials in Secrets Manager, and the endpoint
// handed to the web servers through an SSM parameter whose name is fixed in advance.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	dbName     = "wordpress"
	dbUser     = "admin"
	dbPort     = 3306
	dbHostName = "db-host"
)

// DBHandoff is what the web tier may know about the database: only things that exist
// seconds into the deploy. It never carries the RDS instance or its endpoint, so that no
// server, image or target waits the 15-20 minutes RDS takes to create.
type DBHandoff struct {
	SecurityGroupID   pulumi.IDOutput     // the DB's group, for the web tier's 3306 rule
	CredentialsSecret pulumi.StringOutput // ARN of the secret holding {"username", "password", ...}
	HostParameterName string              // SSM parameter that holds the endpoint once RDS is up
}

// Database is the database component.
type Database struct {
	pulumi.ResourceState

	Instance      *rds.Instance
	SecurityGroup *ec2.SecurityGroup
	Secret        *secretsmanager.Secret
	HostParameter *ssm.Parameter
	Handoff       DBHandoff
}

// newDatabase builds the DB security group, subnet group, parameter group, credentials
// secret, the RDS instance and the endpoint hand-off parameter.
func newDatabase(ctx *pulumi.Context, cfg Config, net *Network, name string) (*Database, error) {
	d := &Database{}
	if err := ctx.RegisterComponentResource(cfg.Project+":database:Database", name, d); err != nil {
		return nil, fmt.Errorf("register database component: %w", err)
	}
	parent := pulumi.Parent(d)

	// Ingress (3306 from the web group) is added by the web tier, which owns that group;
	// no egress rule: a database has no reason to start connections.
	sg, err := newSecurityGroup(ctx, cfg, net, name+"-sg", "db-sg", "WordPress database: MySQL from the web servers only", parent)
	if err != nil {
		return nil, err
	}
	d.SecurityGroup = sg

	secret, err := newCredentialsSecret(ctx, cfg, name, parent)
	if err != nil {
		return nil, err
	}
	d.Secret = secret.secret

	privateIDs := pulumi.StringArray{}
	for _, s := range net.PrivateSubnets {
		privateIDs = append(privateIDs, s.Subnet.ID())
	}
	subnetGroup, err := rds.NewSubnetGroup(ctx, name+"-subnets", &rds.SubnetGroupArgs{
		Description: pulumi.String("WordPress database: the private subnets"),
		SubnetIds:   privateIDs,
		Tags:        cfg.tags("db-subnetgroup"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create DB subnet group: %w", err)
	}
	family := "mysql" + cfg.DBEngineVersion
	params, err := rds.NewParameterGroup(ctx, name+"-params", &rds.ParameterGroupArgs{
		Family:      pulumi.String(family),
		Description: pulumi.String("WordPress database: TLS required"),
		Parameters: rds.ParameterGroupParameterArray{&rds.ParameterGroupParameterArgs{
			Name: pulumi.String("require_secure_transport"), Value: pulumi.String("1"), ApplyMethod: pulumi.String("immediate"),
		}},
		Tags: cfg.tags("db-params"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create DB parameter group: %w", err)
	}

	args := &rds.InstanceArgs{
		Engine:                  pulumi.String("mysql"),
		EngineVersion:           pulumi.String(cfg.DBEngineVersion),
		AutoMinorVersionUpgrade: pulumi.Bool(true),
		InstanceClass:           pulumi.String(cfg.DBInstanceClass),
		StorageType:             pulumi.String("gp3"),
		AllocatedStorage:        pulumi.Int(cfg.DBAllocatedStorageGiB),
		StorageEncrypted:        pulumi.Bool(true),
		DbName:                  pulumi.String(dbName),
		Username:                pulumi.String(dbUser),
		Password:                secret.password,
		Port:                    pulumi.Int(dbPort),
		DbSubnetGroupName:       subnetGroup.Name,
		ParameterGroupName:      params.Name,
		VpcSecurityGroupIds:     pulumi.StringArray{sg.ID()},
		PubliclyAccessible:      pulumi.Bool(false),
		MultiAz:                 pulumi.Bool(cfg.DBMultiAZ),
		BackupRetentionPeriod:   pulumi.Int(cfg.DBBackupRetentionDays),
		CopyTagsToSnapshot:      pulumi.Bool(true),
		DeletionProtection:      pulumi.Bool(cfg.DBDeletionProtection),
		SkipFinalSnapshot:       pulumi.Bool(!cfg.DBFinalSnapshot),
		Tags:                    cfg.tags("db"),
	}
	if cfg.DBMaxStorageGiB > 0 {
		args.MaxAllocatedStorage = pulumi.Int(cfg.DBMaxStorageGiB)
	}
	if cfg.DBFinalSnapshot {
		args.FinalSnapshotIdentifier = pulumi.String(finalSnapshotID(cfg))
	}
	if !cfg.DBMultiAZ {
		// RDS picks both AZs itself for Multi-AZ; single-AZ goes where the hands-on put it.
		args.AvailabilityZone = pulumi.String(cfg.AvailabilityZones[0])
	}
	db, err := rds.NewInstance(ctx, name, args, parent, pulumi.Timeouts(&pulumi.CustomTimeouts{
		Create: "60m", Update: "80m", Delete: "60m",
	}))
	if err != nil {
		return nil, fmt.Errorf("create RDS instance: %w", err)
	}
	d.Instance = db

	// The only thing that waits for RDS: the servers poll for this parameter at boot.
	hostParam := cfg.ssmPrefix() + "/" + dbHostName
	param, err := ssm.NewParameter(ctx, name+"-host", &ssm.ParameterArgs{
		Name:          pulumi.String(hostParam),
		Description:   pulumi.String("WordPress database endpoint, read by the web servers at boot"),
		Type:          pulumi.String("String"),
		InsecureValue: db.Address,
		Tags:          cfg.tags("db-host"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create DB host parameter: %w", err)
	}
	d.HostParameter = param

	d.Handoff = DBHandoff{
		SecurityGroupID:   sg.ID(),
		CredentialsSecret: secret.secret.Arn,
		HostParameterName: hostParam,
	}
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"endpoint":         db.Endpoint,
		"availabilityZone": db.AvailabilityZone,
		"secretName":       secret.secret.Name,
	}); err != nil {
		return nil, fmt.Errorf("register database outputs: %w", err)
	}
	return d, nil
}

type credentials struct {
	secret   *secretsmanager.Secret
	password pulumi.StringOutput
}

// newCredentialsSecret generates the master password and stores it, in the shape RDS
// rotation expects, in Secrets Manager. The password exists only there and, encrypted, in
// the Pulumi state.
func newCredentialsSecret(ctx *pulumi.Context, cfg Config, name string, parent pulumi.ResourceOption) (*credentials, error) {
	pw, err := random.NewRandomPassword(ctx, name+"-password", &random.RandomPasswordArgs{
		Length: pulumi.Int(32),
		// RDS rejects '/', '@', '"' and spaces in master passwords.
		OverrideSpecial: pulumi.String("!#$%^&*()-_=+[]{}<>:?,."),
		MinSpecial:      pulumi.Int(2),
		MinNumeric:      pulumi.Int(2),
		MinUpper:        pulumi.Int(2),
		MinLower:        pulumi.Int(2),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generate database password: %w", err)
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-credentials", &secretsmanager.SecretArgs{
		Description:          pulumi.String("WordPress database master credentials"),
		RecoveryWindowInDays: pulumi.Int(cfg.SecretRecoveryWindowDays),
		Tags:                 cfg.tags("db-credentials"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create database credentials secret: %w", err)
	}
	value := pw.Result.ApplyT(func(p string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"engine": "mysql", "username": dbUser, "password": p, "dbname": dbName, "port": dbPort,
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := secretsmanager.NewSecretVersion(ctx, name+"-credentials-value", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(value).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("store database credentials: %w", err)
	}
	return &credentials{secret: secret, password: pw.Result}, nil
}

var notIdentifierChar = regexp.MustCompile(`[^a-z0-9]+`)

// finalSnapshotID is a deterministic, valid RDS snapshot identifier for this stack
// (letters, digits and single hyphens, starting with a letter, at most 255 characters).
func finalSnapshotID(cfg Config) string {
	id := notIdentifierChar.ReplaceAllString(strings.ToLower(cfg.Project+"-"+cfg.Stack), "-")
	id = strings.Trim(id, "-")
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "wp-" + id
	}
	if len(id) > 240 {
		id = id[:240]
	}
	return strings.TrimRight(id, "-") + "-final"
}
