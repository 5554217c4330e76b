package rules

// RDS instances: encrypted, private, Multi-AZ, backed up, patched, protected.

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const typeDBInstance = "aws:rds/instance:Instance"

// dbCheck reports when a boolean property of an RDS instance is not the wanted value.
func dbCheck(name, description, key string, def, want bool, fix string) policyx.Policy {
	return resourcePolicy(name, description, forType(func(args policyx.ResourceValidationArgs) {
		if v, ok := boolean(args.Resource.Properties, key, def); ok && v != want {
			args.Manager.ReportViolation(fmt.Sprintf("%s: %s is %v; %s.", args.Resource.Name, key, v, fix), "")
		}
	}, typeDBInstance))
}

func rdsStorageEncrypted() policyx.Policy {
	return dbCheck("rds-storage-encrypted", "RDS storage is encrypted at rest (Checkov CKV_AWS_16; Security Hub RDS.3).",
		"storageEncrypted", false, true, "set storageEncrypted (it cannot be changed later without a new instance)")
}

func rdsNotPublic() policyx.Policy {
	return dbCheck("rds-not-public", "RDS instances are not publicly accessible (Checkov CKV_AWS_17; Security Hub RDS.2).",
		"publiclyAccessible", false, false, "keep the database in private subnets, reachable from the web tier only")
}

func rdsMultiAZ() policyx.Policy {
	return dbCheck("rds-multi-az", "RDS instances have a Multi-AZ standby (Checkov CKV_AWS_157; Security Hub RDS.5).",
		"multiAz", false, true, "set multiAz so that losing the primary or its AZ is a failover, not an outage")
}

func rdsAutoMinorVersionUpgrade() policyx.Policy {
	return dbCheck("rds-auto-minor-version-upgrade", "RDS applies minor engine upgrades automatically (Security Hub RDS.13).",
		"autoMinorVersionUpgrade", true, true, "set autoMinorVersionUpgrade to get security patches")
}

func rdsDeletionProtection() policyx.Policy {
	return dbCheck("rds-deletion-protection", "RDS instances have deletion protection (Security Hub RDS.8); advisory by default so dev stacks can be destroyed, mandatory in policy/config/prod.json.",
		"deletionProtection", false, true, "set deletionProtection on production stacks")
}

// defaultMinimumBackupDays is Security Hub RDS.11's threshold.
const defaultMinimumBackupDays = 7

func rdsBackupRetention() policyx.Policy {
	return resourcePolicyWithConfig("rds-backup-retention",
		"RDS keeps automated backups at least 7 days (configurable: minimumDays) (Security Hub RDS.11; Checkov CKV_AWS_133).",
		&policyx.ConfigSchema{Properties: map[string]map[string]any{
			"minimumDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": defaultMinimumBackupDays},
		}},
		forType(func(args policyx.ResourceValidationArgs) {
			minimum := float64(defaultMinimumBackupDays)
			if v, ok := args.Config["minimumDays"].(float64); ok {
				minimum = v
			}
			// The RDS API's default retention is 1 day.
			if days, ok := number(args.Resource.Properties, "backupRetentionPeriod", 1); ok && days < minimum {
				args.Manager.ReportViolation(fmt.Sprintf("%s keeps backups %.0f days; at least %.0f are required.", args.Resource.Name, days, minimum), "")
			}
		}, typeDBInstance))
}
