package restoredrill

// The scratch mode: RDS restores a copy of the stack's database beside it (same subnet
// group, security groups and class, single-AZ, tagged with the stack and the drill), the
// drill waits until it is available and deletes it again, whatever happened.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// DrillTag marks the scratch instance with the drill's label.
const DrillTag = "restore-drill"

// cleanupTimeout bounds the delete, which runs even after Ctrl-C.
const cleanupTimeout = 2 * time.Minute

// scratchID is the scratch instance's identifier: the source's, then the label, within RDS's
// 63 characters (letters, digits, single hyphens, no hyphen at the end).
func (d *Drill) scratchID() string {
	prefix := d.Target.DBIdentifier
	if n := 63 - len(d.Opts.Label) - 1; len(prefix) > n {
		prefix = prefix[:n]
	}
	id := strings.TrimRight(prefix, "-") + "-" + d.Opts.Label
	for strings.Contains(id, "--") {
		id = strings.ReplaceAll(id, "--", "-")
	}
	return strings.TrimRight(id, "-")
}

// scratch restores to the scratch instance and returns when it was available (the cleanup
// after that is not part of the restore).
func (d *Drill) scratch(ctx context.Context, r *Report, s source) (done time.Time, err error) {
	id := d.scratchID()
	r.Restored = id
	tags := []rdstypes.Tag{{Key: aws.String("project"), Value: aws.String(d.Target.Project)},
		{Key: aws.String("stack"), Value: aws.String(d.Target.Stack)}, {Key: aws.String(DrillTag), Value: aws.String(d.Opts.Label)}}
	var sg []string
	if len(s.securityGroups) > 0 {
		sg = s.securityGroups
	}
	var subnet, class *string
	if s.subnetGroup != "" {
		subnet = aws.String(s.subnetGroup)
	}
	if s.class != "" {
		class = aws.String(s.class)
	}
	created := false
	defer func() {
		if created {
			d.cleanup(ctx, r, id)
		}
	}()
	err = d.phase(r, "restore", func() (string, error) {
		var call string
		var err error
		switch f := d.Opts.From; f.Kind {
		case FromSnapshot:
			call = "RestoreDBInstanceFromDBSnapshot " + f.Snapshot
			_, err = d.RDS.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: aws.String(id), DBSnapshotIdentifier: aws.String(f.Snapshot), DBSubnetGroupName: subnet,
				VpcSecurityGroupIds: sg, DBInstanceClass: class, MultiAZ: aws.Bool(false), PubliclyAccessible: aws.Bool(false),
				DeletionProtection: aws.Bool(false), Tags: tags})
		default:
			call = "RestoreDBInstanceToPointInTime " + d.Target.DBIdentifier
			in := &rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String(d.Target.DBIdentifier),
				TargetDBInstanceIdentifier: aws.String(id), DBSubnetGroupName: subnet, VpcSecurityGroupIds: sg, DBInstanceClass: class,
				MultiAZ: aws.Bool(false), PubliclyAccessible: aws.Bool(false), DeletionProtection: aws.Bool(false), Tags: tags}
			if f.Kind == FromTime {
				in.RestoreTime = aws.Time(f.Time)
			} else {
				in.UseLatestRestorableTime = aws.Bool(true)
			}
			_, err = d.RDS.RestoreDBInstanceToPointInTime(ctx, in)
		}
		if err != nil {
			return "", awsErr(ctx, "RDS "+call, err)
		}
		created = true
		status := ""
		err = d.poll(ctx, "for RDS instance "+id+" to be available", func(ctx context.Context) (bool, string, error) {
			db, err := d.describe(ctx, id)
			if err != nil {
				return false, "", err
			}
			if db == nil {
				return false, id + " not visible yet", nil
			}
			status = aws.ToString(db.DBInstanceStatus)
			if status == "available" && db.Endpoint != nil {
				r.Endpoint = aws.ToString(db.Endpoint.Address)
				return true, "", nil
			}
			return false, id + " is " + status, nil
		})
		if err != nil {
			return "", err
		}
		done = d.Clock.Now()
		return fmt.Sprintf("%s available at %s", id, r.Endpoint), nil
	})
	return done, err
}

// cleanup deletes the scratch instance without a final snapshot, bounded, even when the
// drill's context has ended; when it cannot, it says how to finish the job.
func (d *Drill) cleanup(ctx context.Context, r *Report, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = d.phase(r, "cleanup", func() (string, error) {
		_, err := d.RDS.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id),
			SkipFinalSnapshot: aws.Bool(true), DeleteAutomatedBackups: aws.Bool(true)})
		if err != nil {
			r.Cleanup = fmt.Sprintf("NOT DELETED: %v; delete it yourself: aws rds delete-db-instance --region %s --db-instance-identifier %s --skip-final-snapshot --delete-automated-backups",
				err, d.Target.Region, id)
			return r.Cleanup, nil
		}
		r.Cleanup = "deleting " + id + " (no final snapshot)"
		return r.Cleanup, nil
	})
}
