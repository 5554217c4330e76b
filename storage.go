package main

// SharedUploads is what the web servers share on disk: the media library
// (wp-content/uploads) on an encrypted EFS file system, so that a file uploaded through one
// server is served by every other. Only uploads: WordPress core, themes and plugins stay on
// each server's local disk, from the golden image (the whole site on EFS makes every PHP
// include a network round trip, the slowness the reference architectures' users report).
//
// The servers reach it in their own AZ through a mount target in the private subnet,
// through its own security group (NFS from the web servers only), over TLS with IAM
// authorization, through an access point that pins them to the uploads directory as the
// web server's user. The file-system policy refuses any other principal or any client
// without TLS.

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Throughput modes of the uploads file system (config uploadsThroughputMode).
const (
	throughputElastic  = "elastic"  // pay per GB read and written; no credits to run out of
	throughputBursting = "bursting" // credits grow with the stored size: a small library bursts rarely
)

// uploadsOwner is the web server's user and group (bootfacts.go): the access point writes
// every file as them, whatever the client's own uid.
const uploadsOwner = webServerUID

// SharedUploadsArgs say where the file system is reachable from and who may mount it.
type SharedUploadsArgs struct {
	SubnetIDs       pulumi.StringArray // the private subnets: one mount target in each AZ
	SecurityGroupID pulumi.StringInput // the uploads group of the security chain
	ServerRoleArn   pulumi.StringInput // the web servers' role: the only principal that may mount
	ThroughputMode  string             // throughputElastic or throughputBursting
	Backup          bool               // AWS Backup's daily EFS backups (the backup policy)
	Protect         bool               // refuse to delete or replace the file system (uploadsProtection)
	// After is what the file system waits for: the database's subnet group, so that the
	// first minute of the deploy goes to the database's critical path and EFS (about two
	// minutes) is built in the shadow of the RDS instance's twenty.
	After pulumi.Resource
	// PermissionsBoundary is the ARN the backup role carries (iamPermissionsBoundary); "" for none.
	PermissionsBoundary string
	Tags                Tags
}

// SharedUploads is the uploads component.
type SharedUploads struct {
	pulumi.ResourceState

	FileSystem   *efs.FileSystem
	AccessPoint  *efs.AccessPoint
	MountTargets []*efs.MountTarget
	// BackupRole is what AWS Backup assumes for the on-demand backup of the file system that
	// cmd/backup starts before a destroy: it may back up this file system and nothing else.
	BackupRole *iam.Role
}

// NewSharedUploads creates the file system, its mount targets, the access point, the
// file-system policy and the backup policy.
func NewSharedUploads(ctx *pulumi.Context, name string, args *SharedUploadsArgs, opts ...pulumi.ResourceOption) (*SharedUploads, error) {
	u := &SharedUploads{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:storage:SharedUploads", name, u, opts...); err != nil {
		return nil, fmt.Errorf("register uploads component: %w", err)
	}
	parent := pulumi.Parent(u)
	fs, err := efs.NewFileSystem(ctx, name+"-fs", &efs.FileSystemArgs{
		Encrypted:       pulumi.Bool(true),
		PerformanceMode: pulumi.String("generalPurpose"),
		ThroughputMode:  pulumi.String(args.ThroughputMode),
		// Media is written once and mostly read while new: older files move to Infrequent
		// Access (about a tenth of the price) and come back on their first read.
		LifecyclePolicies: efs.FileSystemLifecyclePolicyArray{
			&efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String("AFTER_30_DAYS")},
			&efs.FileSystemLifecyclePolicyArgs{TransitionToPrimaryStorageClass: pulumi.String("AFTER_1_ACCESS")},
		},
		Tags: args.Tags.Named("uploads"),
	}, parent, pulumi.Protect(args.Protect), dependsOnIf(args.After))
	if err != nil {
		return nil, fmt.Errorf("create uploads file system: %w", err)
	}
	u.FileSystem = fs
	for i, subnet := range args.SubnetIDs {
		mt, err := efs.NewMountTarget(ctx, fmt.Sprintf("%s-mount-%d", name, i+1), &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       subnet,
			SecurityGroups: pulumi.StringArray{args.SecurityGroupID},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("create uploads mount target %d: %w", i+1, err)
		}
		u.MountTargets = append(u.MountTargets, mt)
	}
	if u.AccessPoint, err = attachUploads(ctx, name, fs.ID().ToStringOutput(), fs.Arn, "/uploads", args.Tags.Named("uploads-ap"), args, parent); err != nil {
		return nil, err
	}
	if u.BackupRole, err = newUploadsBackupRole(ctx, name, fs, args, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(u, pulumi.Map{
		"fileSystemId":  fs.ID(),
		"accessPointId": u.AccessPoint.ID(),
	}); err != nil {
		return nil, fmt.Errorf("register uploads outputs: %w", err)
	}
	return u, nil
}

// attachUploads gives a file system the access point rooted at root as the web server's
// user, the file-system policy (the servers' role through that access point, TLS only) and
// the backup policy: the same for the stack's own file system and a restored one.
func attachUploads(ctx *pulumi.Context, name string, fsID, fsArn pulumi.StringInput, root string, apTags pulumi.StringMap, args *SharedUploadsArgs, parent pulumi.ResourceOption) (*efs.AccessPoint, error) {
	ap, err := efs.NewAccessPoint(ctx, name+"-ap", &efs.AccessPointArgs{
		FileSystemId: fsID,
		PosixUser:    &efs.AccessPointPosixUserArgs{Uid: pulumi.Int(uploadsOwner), Gid: pulumi.Int(uploadsOwner)},
		RootDirectory: &efs.AccessPointRootDirectoryArgs{
			Path: pulumi.String(root),
			CreationInfo: &efs.AccessPointRootDirectoryCreationInfoArgs{
				OwnerUid: pulumi.Int(uploadsOwner), OwnerGid: pulumi.Int(uploadsOwner), Permissions: pulumi.String("0755"),
			},
		},
		Tags: apTags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create uploads access point: %w", err)
	}
	if _, err := efs.NewFileSystemPolicy(ctx, name+"-policy", &efs.FileSystemPolicyArgs{
		FileSystemId: fsID,
		Policy:       uploadsPolicy(fsArn, ap.Arn, args.ServerRoleArn),
	}, parent); err != nil {
		return nil, fmt.Errorf("create uploads file system policy: %w", err)
	}
	status := "DISABLED"
	if args.Backup {
		status = "ENABLED"
	}
	if _, err := efs.NewBackupPolicy(ctx, name+"-backup", &efs.BackupPolicyArgs{
		FileSystemId: fsID,
		BackupPolicy: &efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String(status)},
	}, parent); err != nil {
		return nil, fmt.Errorf("create uploads backup policy: %w", err)
	}
	return ap, nil
}

// RestoredUploads is what the stack adds to a restored uploads file system outside it
// (config uploadsRestore, uploadsrestore.go): mount targets, access point and policies. The
// file system itself is not the stack's: a destroy leaves it.
type RestoredUploads struct {
	pulumi.ResourceState

	FileSystemID string
	AccessPoint  *efs.AccessPoint
	MountTargets []*efs.MountTarget
}

// NewRestoredUploads makes restore's file system reachable as the stack's own is: a mount
// target in each private subnet with the uploads group, the access point rooted at
// restore.Path, the same file-system policy and backup policy. own is the stack's file
// system, whose ARN gives the restored one's (same region and account).
func NewRestoredUploads(ctx *pulumi.Context, restore UploadsRestore, own *efs.FileSystem, args *SharedUploadsArgs, opts ...pulumi.ResourceOption) (*RestoredUploads, error) {
	name := "uploads-restore-" + restore.ID
	u := &RestoredUploads{FileSystemID: restore.FileSystemID}
	if err := ctx.RegisterComponentResource("scalable-wordpress:storage:RestoredUploads", name, u, opts...); err != nil {
		return nil, fmt.Errorf("register restored uploads component: %w", err)
	}
	parent := pulumi.Parent(u)
	fsID := pulumi.String(restore.FileSystemID)
	for i, subnet := range args.SubnetIDs {
		mt, err := efs.NewMountTarget(ctx, fmt.Sprintf("%s-mount-%d", name, i+1), &efs.MountTargetArgs{
			FileSystemId:   fsID,
			SubnetId:       subnet,
			SecurityGroups: pulumi.StringArray{args.SecurityGroupID},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("create restored uploads mount target %d: %w", i+1, err)
		}
		u.MountTargets = append(u.MountTargets, mt)
	}
	fsArn := own.Arn.ApplyT(func(arn string) (string, error) {
		here, _, ok := strings.Cut(arn, ":file-system/")
		if !ok {
			return "", fmt.Errorf("the uploads file system's ARN %q is not an EFS file system's", arn)
		}
		return here + ":file-system/" + restore.FileSystemID, nil
	}).(pulumi.StringOutput)
	var err error
	if u.AccessPoint, err = attachUploads(ctx, name, fsID, fsArn, restore.Path, args.Tags.Named(name+"-ap"), args, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(u, pulumi.Map{
		"fileSystemId":  fsID,
		"accessPointId": u.AccessPoint.ID(),
	}); err != nil {
		return nil, fmt.Errorf("register restored uploads outputs: %w", err)
	}
	return u, nil
}

// ReadyFileSystemID is the restored file system's ID once its mount targets exist.
func (u *RestoredUploads) ReadyFileSystemID() pulumi.StringOutput {
	deps := []any{pulumi.String(u.FileSystemID)}
	for _, mt := range u.MountTargets {
		deps = append(deps, mt.ID())
	}
	return pulumi.All(deps...).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
}

// dependsOnIf waits for r when there is one.
func dependsOnIf(r pulumi.Resource) pulumi.ResourceOption {
	if r == nil {
		return pulumi.DependsOn(nil)
	}
	return pulumi.DependsOn([]pulumi.Resource{r})
}

// ReadyFileSystemID is the file system's ID once a mount target exists in every AZ: the
// servers read it from their settings, so none tries to mount before it can.
func (u *SharedUploads) ReadyFileSystemID() pulumi.StringOutput {
	deps := []any{u.FileSystem.ID()}
	for _, mt := range u.MountTargets {
		deps = append(deps, mt.ID())
	}
	return pulumi.All(deps...).ApplyT(func(v []any) string { return string(v[0].(pulumi.ID)) }).(pulumi.StringOutput)
}

// uploadsPolicy lets the servers' role mount and write through the access point only, and
// refuses every request that does not come over TLS. Root access is never granted, so even
// a client that skipped the access point would be squashed.
func uploadsPolicy(fsArn, apArn, roleArn pulumi.StringInput) pulumi.StringOutput {
	return pulumi.All(fsArn, apArn, roleArn).ApplyT(func(v []any) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{"Sid": "ServersThroughTheAccessPoint", "Effect": "Allow",
					"Principal": map[string]any{"AWS": v[2]},
					"Action":    []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"},
					"Resource":  v[0],
					"Condition": map[string]any{
						"StringEquals": map[string]any{"elasticfilesystem:AccessPointArn": v[1]},
						"Bool":         map[string]any{"elasticfilesystem:AccessedViaMountTarget": "true"},
					}},
				{"Sid": "TLSOnly", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "*",
					"Resource": v[0], "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}},
			},
		})
		return string(b), err
	}).(pulumi.StringOutput)
}

// uploadsRestoreActions are what AWS Backup does as the backup role to restore a recovery point
// of the uploads into a new file system (AWS's AWSBackupServiceRolePolicyForRestores, for EFS).
var uploadsRestoreActions = []string{
	"elasticfilesystem:Restore", "elasticfilesystem:CreateFilesystem", "elasticfilesystem:DescribeFilesystems",
	"elasticfilesystem:TagResource",
}

// uploadsRestoreKeyActions are what the restore does with EFS's key, through EFS, to encrypt
// the new file system.
var uploadsRestoreKeyActions = []string{"kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"}

// backupService is AWS Backup's service principal.
const backupService = "backup.amazonaws.com"

// newUploadsBackupRole is the role AWS Backup assumes to back the file system up on demand
// (StartBackupJob takes a role). The program makes it rather than use the account's
// AWSBackupDefaultServiceRole: that role exists only once someone made a backup plan in the
// console, and its managed policy may back up and restore every kind of resource of the
// account; this one may only back up this file system (elasticfilesystem:Backup, and
// DescribeTags, which AWS Backup reads to copy the tags onto the recovery point), and restore
// a recovery point into a new file system (cmd/backup restore).
func newUploadsBackupRole(ctx *pulumi.Context, name string, fs *efs.FileSystem, args *SharedUploadsArgs, parent pulumi.ResourceOption) (*iam.Role, error) {
	assume, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]any{"Service": backupService},
		}},
	})
	if err != nil {
		return nil, err
	}
	roleArgs := &iam.RoleArgs{
		Description:      pulumi.String("AWS Backup: the on-demand backup of the WordPress uploads before a destroy"),
		AssumeRolePolicy: pulumi.String(string(assume)),
		Tags:             args.Tags.Named("uploads-backup-role"),
	}
	if args.PermissionsBoundary != "" {
		roleArgs.PermissionsBoundary = pulumi.String(args.PermissionsBoundary) // the pipeline's (iamPermissionsBoundary)
	}
	role, err := iam.NewRole(ctx, name+"-backup-role", roleArgs, parent)
	if err != nil {
		return nil, fmt.Errorf("create the uploads backup role: %w", err)
	}
	policy := fs.Arn.ApplyT(func(arn string) (string, error) {
		// A restore (cmd/backup restore) creates a new file system, whose ID nobody knows
		// before: the region's and account's file systems. AWS Backup deletes it again when
		// the restore fails; EFS's own key (aws/elasticfilesystem) encrypts it, through grants.
		here, _, _ := strings.Cut(arn, ":file-system/") // arn:<partition>:elasticfilesystem:<region>:<account>
		parts := strings.Split(here, ":")
		if len(parts) != 5 {
			return "", fmt.Errorf("the uploads file system's ARN %q is not an EFS file system's", arn)
		}
		keys := fmt.Sprintf("arn:%s:kms:%s:%s:key/*", parts[1], parts[3], parts[4])
		b, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{{
				"Sid": "BackUpTheUploads", "Effect": "Allow",
				"Action":   []string{"elasticfilesystem:Backup", "elasticfilesystem:DescribeTags"},
				"Resource": arn,
			}, {
				"Sid": "RestoreTheUploads", "Effect": "Allow",
				"Action":   uploadsRestoreActions,
				"Resource": here + ":file-system/*",
			}, {
				// It deletes a file system it failed to restore into: one tagged as this stack's
				// (the restore copies the backed-up file system's tags onto it).
				"Sid": "DropAFailedRestore", "Effect": "Allow",
				"Action":   []string{"elasticfilesystem:DeleteFilesystem"},
				"Resource": here + ":file-system/*",
				"Condition": map[string]any{"StringEquals": map[string]any{
					"aws:ResourceTag/project": args.Tags.common["project"], "aws:ResourceTag/stack": args.Tags.common["stack"]}},
			}, {
				// Never the stack's own.
				"Sid": "KeepTheUploads", "Effect": "Deny",
				"Action":   []string{"elasticfilesystem:DeleteFilesystem"},
				"Resource": arn,
			}, {
				"Sid": "EncryptTheRestore", "Effect": "Allow",
				"Action":    uploadsRestoreKeyActions,
				"Resource":  keys,
				"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "elasticfilesystem." + parts[3] + ".amazonaws.com"}},
			}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-backup-role-policy", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent); err != nil {
		return nil, fmt.Errorf("allow the uploads backup role: %w", err)
	}
	return role, nil
}
