package main

// Database is the hands-on's RDS step done right from the start: a Multi-AZ, encrypted,
// private MySQL with backups, its master password generated and rotated by RDS in a secret
// of its own (never in the Pulumi state), WordPress's own database user's credentials in a
// secret the program generates, and the endpoint handed to the web servers through an SSM
// parameter whose name is fixed in advance.

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	dbName = "wordpress"
	dbUser = "admin" // the master user: RDS's administrator, never WordPress's
	// dbAppUser is WordPress's own database user, with rights on dbName only: the boot script
	// creates it with the master credential (boot/dbuser.php).
	dbAppUser = "wpapp"
	dbPort    = 3306
)

// DatabaseArgs are the database's placement and engine settings.
type DatabaseArgs struct {
	SubnetIDs       pulumi.StringArrayInput // the private subnets, one per AZ
	SecurityGroupID pulumi.StringInput

	EngineVersion        string // MySQL major, e.g. 8.4
	InstanceClass        string
	AllocatedStorageGiB  int
	MaxStorageGiB        int // 0: no storage autoscaling
	MultiAZ              bool
	ApplyImmediately     bool // else modifications wait for the maintenance window
	BackupRetentionDays  int
	DeletionProtection   bool   // AWS refuses to delete it, and Pulumi to delete or replace it
	FinalSnapshotPrefix  string // "" skips the final snapshot; else a unique suffix is added
	SecretRecoveryWindow int    // days a deleted credentials secret stays restorable
	// ManagedMasterPassword lets RDS generate the master password and rotate it in a secret
	// of its own; false keeps the Pulumi-generated one (the layout before, for an existing
	// stack's first migration step: CHANGELOG.md).
	ManagedMasterPassword bool
	// Generations are the databases to declare (dbrestore.go's plan): every one of the
	// lineage that is not retired, exactly one of them serving. None: the original alone.
	Generations []dbGeneration
	Tags        Tags
}

// Database is the database component. The web tier gets only the ARN of WordPress's own
// credentials, which exist seconds into the deploy; the endpoint and the master credential's
// ARN (RDS's secret exists only once the instance does) reach the servers through the stack's
// settings (settings.go) once RDS is up, so that no server, image or target waits the 15-20
// minutes RDS takes to create.
type Database struct {
	pulumi.ResourceState

	// Instance is the serving generation's instance: what the servers, the alarms and the
	// outputs follow.
	Instance *rds.Instance
	// Generations are every declared generation and its instance, in lineage order.
	Generations []DBInstance
	// AppSecret holds WordPress's own database user's credentials.
	AppSecret *secretsmanager.Secret
	// MasterSecretArn is the master credential's secret: RDS's (known once the instance is
	// up) or, with ManagedMasterPassword off, LegacySecret.
	MasterSecretArn pulumi.StringOutput
	// LegacySecret is the Pulumi-generated master credential's secret; nil with
	// ManagedMasterPassword.
	LegacySecret *secretsmanager.Secret
	SubnetGroup  *rds.SubnetGroup // the last step before the instance: what may wait for the database to start
}

// DBInstance is one generation of the database and its RDS instance.
type DBInstance struct {
	Generation dbGeneration
	Instance   *rds.Instance
}

// NewDatabase builds the subnet group, parameter group, credentials secret and the RDS
// instance.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	d := &Database{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:database:Database", name, d, opts...); err != nil {
		return nil, fmt.Errorf("register database component: %w", err)
	}
	parent := pulumi.Parent(d)

	var err error
	if d.AppSecret, err = newAppCredentialsSecret(ctx, name, args.SecretRecoveryWindow, args.Tags, parent); err != nil {
		return nil, err
	}
	var master *credentials
	if !args.ManagedMasterPassword {
		if master, err = newCredentialsSecret(ctx, name, args.SecretRecoveryWindow, args.Tags, parent); err != nil {
			return nil, err
		}
		d.LegacySecret = master.secret
	}

	subnetGroup, params, err := newDBGroups(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	d.SubnetGroup = subnetGroup
	gens := args.Generations
	if len(gens) == 0 {
		gens = []dbGeneration{{ID: originalGeneration, Serving: true}}
	}
	for _, g := range gens {
		if g.Retired {
			continue // out of the stack: RDS keeps it (retainOnDelete) until its owner deletes it
		}
		db, err := newDBGeneration(ctx, name, g, args, subnetGroup, params, master, parent)
		if err != nil {
			return nil, err
		}
		d.Generations = append(d.Generations, DBInstance{Generation: g, Instance: db})
		if g.Serving {
			if d.Instance != nil {
				return nil, fmt.Errorf("database generations %v: more than one serves", gens)
			}
			d.Instance = db
		}
	}
	if d.Instance == nil {
		return nil, fmt.Errorf("database generations %v: none serves", gens)
	}
	if master != nil {
		d.MasterSecretArn = master.secret.Arn
	} else {
		d.MasterSecretArn = managedMasterSecretArn(d.Instance)
	}
	db := d.Instance

	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"endpoint":         db.Endpoint,
		"availabilityZone": db.AvailabilityZone,
		"appSecretName":    d.AppSecret.Name,
		"masterSecretArn":  d.MasterSecretArn,
	}); err != nil {
		return nil, fmt.Errorf("register database outputs: %w", err)
	}
	return d, nil
}

// newDBGeneration declares one generation's RDS instance. The original is "db", as it always
// was; a restore is db-<id>, restored from the recorded source (a point in time of it) or
// snapshot: inputs that come from the lineage, never from the key, so that no later up
// replaces it. A generation that no longer serves is marked (serving=false), has AWS's
// deletion protection on and is retainOnDelete: dbRetire takes it out of the stack and RDS
// keeps it until its owner deletes it.
func newDBGeneration(ctx *pulumi.Context, base string, g dbGeneration, args *DatabaseArgs, subnetGroup *rds.SubnetGroup,
	params *rds.ParameterGroup, master *credentials, parent pulumi.ResourceOption) (*rds.Instance, error) {
	name := generationName(base, g)
	a := instanceArgs(args, subnetGroup, params)
	a.Tags = generationTags(args.Tags, name, g)
	if !g.Serving {
		a.DeletionProtection = pulumi.Bool(true)
	}
	if g.ID != originalGeneration {
		// The database, its master user and WordPress's user come with the restored data.
		a.DbName, a.Username = nil, nil
		switch {
		case strings.HasPrefix(g.From, restoreSnapshotPrefix):
			a.SnapshotIdentifier = pulumi.String(strings.TrimPrefix(g.From, restoreSnapshotPrefix))
		case g.From == restoreLatest:
			a.RestoreToPointInTime = &rds.InstanceRestoreToPointInTimeArgs{
				SourceDbInstanceIdentifier: pulumi.String(g.Source), UseLatestRestorableTime: pulumi.Bool(true)}
		default:
			a.RestoreToPointInTime = &rds.InstanceRestoreToPointInTimeArgs{
				SourceDbInstanceIdentifier: pulumi.String(g.Source), RestoreTime: pulumi.String(g.From)}
		}
	}
	if master != nil {
		// Set after the restore (the provider modifies the instance): the master password is
		// this stack's again, whatever the restored data held.
		a.Password = master.password
	} else {
		// RDS generates the password, keeps it in a secret of its own and rotates it: it is
		// never in the Pulumi state. Turned on for an existing instance it is an in-place
		// modify (the provider drops the password from the call); on a restore, RDS makes the
		// restored instance a secret of its own, which the settings hand to the servers.
		a.ManageMasterUserPassword = pulumi.Bool(true)
	}
	if args.FinalSnapshotPrefix != "" {
		var err error
		if a.FinalSnapshotIdentifier, err = finalSnapshotName(ctx, name, args.FinalSnapshotPrefix, parent); err != nil {
			return nil, err
		}
	}
	create := "60m"
	if g.ID != originalGeneration {
		create = "240m" // a restore replays the logs from the last snapshot: hours on a big database
	}
	opts := []pulumi.ResourceOption{parent, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: create, Update: "80m", Delete: "60m"})}
	if g.Serving {
		// Protected with deletion protection on: the engine then refuses to delete or replace
		// the database, whatever a change would do (AWS's own flag only guards deletion).
		opts = append(opts, pulumi.Protect(args.DeletionProtection))
	} else {
		// Never deleted by Pulumi: leaving the program (dbRetire) only forgets it.
		opts = append(opts, pulumi.Protect(false), pulumi.RetainOnDelete(true))
	}
	db, err := rds.NewInstance(ctx, name, a, opts...)
	if err != nil {
		return nil, fmt.Errorf("create RDS instance %s (database generation %s): %w", name, g.ID, err)
	}
	return db, nil
}

// generationTags are a generation's tags: the stack's, its Name, its generation id and
// whether it serves (serving=false: kept until retired, see docs/operations.md).
func generationTags(tags Tags, name string, g dbGeneration) pulumi.StringMap {
	m := tags.Named(name)
	m["db-generation"] = pulumi.String(g.ID)
	m["serving"] = pulumi.String(strconv.FormatBool(g.Serving))
	return m
}

// newDBGroups creates the subnet group over the private subnets and the parameter group
// that makes MySQL refuse connections without TLS.
func newDBGroups(ctx *pulumi.Context, name string, args *DatabaseArgs, parent pulumi.ResourceOption) (*rds.SubnetGroup, *rds.ParameterGroup, error) {
	subnetGroup, err := rds.NewSubnetGroup(ctx, name+"-subnets", &rds.SubnetGroupArgs{
		Description: pulumi.String("WordPress database: the private subnets"),
		SubnetIds:   args.SubnetIDs,
		Tags:        args.Tags.Named("db-subnetgroup"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create DB subnet group: %w", err)
	}
	params, err := rds.NewParameterGroup(ctx, name+"-params", &rds.ParameterGroupArgs{
		Family:      pulumi.String("mysql" + args.EngineVersion),
		Description: pulumi.String("WordPress database: TLS required"),
		Parameters: rds.ParameterGroupParameterArray{&rds.ParameterGroupParameterArgs{
			Name: pulumi.String("require_secure_transport"), Value: pulumi.String("1"), ApplyMethod: pulumi.String("immediate"),
		}},
		Tags: args.Tags.Named("db-params"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("create DB parameter group: %w", err)
	}
	return subnetGroup, params, nil
}

// instanceArgs are the RDS instance's settings: private, encrypted, backed up.
func instanceArgs(args *DatabaseArgs, subnets *rds.SubnetGroup, params *rds.ParameterGroup) *rds.InstanceArgs {
	a := &rds.InstanceArgs{
		Engine:                  pulumi.String("mysql"),
		EngineVersion:           pulumi.String(args.EngineVersion),
		AutoMinorVersionUpgrade: pulumi.Bool(true),
		InstanceClass:           pulumi.String(args.InstanceClass),
		StorageType:             pulumi.String("gp3"),
		AllocatedStorage:        pulumi.Int(args.AllocatedStorageGiB),
		StorageEncrypted:        pulumi.Bool(true),
		DbName:                  pulumi.String(dbName),
		Username:                pulumi.String(dbUser),
		Port:                    pulumi.Int(dbPort),
		DbSubnetGroupName:       subnets.Name,
		ParameterGroupName:      params.Name,
		VpcSecurityGroupIds:     pulumi.StringArray{args.SecurityGroupID},
		PubliclyAccessible:      pulumi.Bool(false),
		MultiAz:                 pulumi.Bool(args.MultiAZ),
		ApplyImmediately:        pulumi.Bool(args.ApplyImmediately),
		BackupRetentionPeriod:   pulumi.Int(args.BackupRetentionDays),
		CopyTagsToSnapshot:      pulumi.Bool(true),
		DeletionProtection:      pulumi.Bool(args.DeletionProtection),
		SkipFinalSnapshot:       pulumi.Bool(args.FinalSnapshotPrefix == ""),
		// Automated backups outlive the instance, each until dbBackupRetentionDays after it was
		// taken: a destroyed database can still be restored to a point in time. The provider
		// passes this only to DeleteDBInstance (no ForceNew), so turning it off on an existing
		// instance is an update in place that calls nothing on AWS.
		DeleteAutomatedBackups: pulumi.Bool(false),
		Tags:                   args.Tags.Named("db"),
	}
	if args.MaxStorageGiB > 0 {
		a.MaxAllocatedStorage = pulumi.Int(args.MaxStorageGiB)
	}
	// No availabilityZone, even single-AZ: RDS places the instance, and a pinned AZ would force
	// a replacement (a new, empty database) once a failover or a Multi-AZ change moved it.
	return a
}

// managedMasterSecretArn is the ARN of the secret in which RDS keeps the master credential.
// RDS creates it with the instance (or when management is turned on), so the ARN is known
// only once RDS is up: it reaches the servers through the settings, never through anything
// the web tier's creation waits for.
func managedMasterSecretArn(db *rds.Instance) pulumi.StringOutput {
	return db.MasterUserSecrets.ApplyT(func(secrets []rds.InstanceMasterUserSecret) (string, error) {
		if len(secrets) == 0 || secrets[0].SecretArn == nil || *secrets[0].SecretArn == "" {
			return "", errors.New("RDS reports no master user secret for the database yet (is turning on manageMasterUserPassword " +
				"still pending?); run pulumi up again once the instance shows it")
		}
		return *secrets[0].SecretArn, nil
	}).(pulumi.StringOutput)
}

type credentials struct {
	secret   *secretsmanager.Secret
	password pulumi.StringOutput
}

// newAppCredentialsSecret generates WordPress's own database user's password and stores it,
// with the user's name, in Secrets Manager. It exists seconds into the deploy (the web tier
// waits for nothing of the database's); the boot script creates the user with it, or sets
// its password to it when it changes.
func newAppCredentialsSecret(ctx *pulumi.Context, name string, recoveryWindowDays int, tags Tags, parent pulumi.ResourceOption) (*secretsmanager.Secret, error) {
	c, err := newUserSecret(ctx, name+"-app", dbUserSecretArgs{user: dbAppUser, tag: "db-app-credentials", what: "the WordPress database user",
		description: "WordPress's own database user (rights on its database only)", recoveryWindowDays: recoveryWindowDays, tags: tags}, parent)
	if err != nil {
		return nil, err
	}
	return c.secret, nil
}

// newCredentialsSecret generates the master password and stores it, in the shape RDS
// rotation expects, in Secrets Manager: the layout before RDS managed it, kept while an
// existing stack migrates (ManagedMasterPassword off). The password exists only there and,
// encrypted, in the Pulumi state.
func newCredentialsSecret(ctx *pulumi.Context, name string, recoveryWindowDays int, tags Tags, parent pulumi.ResourceOption) (*credentials, error) {
	return newUserSecret(ctx, name, dbUserSecretArgs{user: dbUser, tag: "db-credentials", what: "the database master",
		description: "WordPress database master credentials", recoveryWindowDays: recoveryWindowDays, tags: tags}, parent)
}

// dbUserSecretArgs describe one database user's secret.
type dbUserSecretArgs struct {
	user, tag, what, description string
	recoveryWindowDays           int
	tags                         Tags
}

// newUserSecret generates a database user's password (<prefix>-password) and stores it with
// the user's name in a secret (<prefix>-credentials, its value <prefix>-credentials-value).
func newUserSecret(ctx *pulumi.Context, prefix string, a dbUserSecretArgs, parent pulumi.ResourceOption) (*credentials, error) {
	pw, err := random.NewRandomPassword(ctx, prefix+"-password", &random.RandomPasswordArgs{
		Length: pulumi.Int(32),
		// RDS rejects '/', '@', '"' and spaces in master passwords; without quotes and
		// backslashes the value also survives any client's quoting.
		OverrideSpecial: pulumi.String("!#$%^&*()-_=+[]{}<>:?,."),
		MinSpecial:      pulumi.Int(2),
		MinNumeric:      pulumi.Int(2),
		MinUpper:        pulumi.Int(2),
		MinLower:        pulumi.Int(2),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generate %s's password: %w", a.what, err)
	}
	secret, err := secretsmanager.NewSecret(ctx, prefix+"-credentials", &secretsmanager.SecretArgs{
		Description:          pulumi.String(a.description),
		RecoveryWindowInDays: pulumi.Int(a.recoveryWindowDays),
		Tags:                 a.tags.Named(a.tag),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create %s's secret: %w", a.what, err)
	}
	value := pw.Result.ApplyT(func(p string) (string, error) { return dbCredentialsJSON(a.user, p) }).(pulumi.StringOutput)
	if _, err := secretsmanager.NewSecretVersion(ctx, prefix+"-credentials-value", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(value).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("store %s's credentials: %w", a.what, err)
	}
	return &credentials{secret: secret, password: pw.Result}, nil
}

// dbCredentialsJSON is a database user's secret, in the shape RDS rotation expects:
// {"engine", "username", "password", "dbname", "port"}.
func dbCredentialsJSON(username, password string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"engine": "mysql", "username": username, "password": password, "dbname": dbName, "port": dbPort,
	})
	return string(b), err
}

// finalSnapshotName is the final snapshot's identifier: the stack's prefix and a suffix
// generated once per database, so that destroying a stack a second time (after a new up)
// does not collide with the snapshot the first destroy left.
func finalSnapshotName(ctx *pulumi.Context, name, prefix string, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	suffix, err := random.NewRandomId(ctx, name+"-final-snapshot-suffix", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("generate the final snapshot's suffix: %w", err)
	}
	return pulumi.Sprintf("%s-%s", prefix, suffix.Hex), nil
}

var notIdentifierChar = regexp.MustCompile(`[^a-z0-9]+`)

// finalSnapshotPrefix is a valid RDS snapshot identifier prefix for this stack (letters,
// digits and single hyphens, starting with a letter, short enough for the suffix).
func finalSnapshotPrefix(project, stack string) string {
	id := notIdentifierChar.ReplaceAllString(strings.ToLower(project+"-"+stack), "-")
	id = strings.Trim(id, "-")
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "wp-" + id
	}
	if len(id) > 240 {
		id = id[:240]
	}
	return strings.TrimRight(id, "-") + "-final"
}
