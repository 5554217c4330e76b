package stack

// The stack's outputs, written once: the program exports each field of Outputs under its
// JSON name (Key), and the operator commands decode `pulumi stack output --json` into it.
// An output's name is spelled only in the tag below, so the program and the commands cannot
// drift apart; a test runs the program under the mocks and decodes its real outputs here.

import (
	"fmt"
	"reflect"
	"strings"
)

// Outputs is every output the program exports. Fields marked "only with ..." are absent
// (zero) on a stack without that part.
type Outputs struct {
	Region       string `json:"region"`
	SiteURL      string `json:"siteUrl"` // the distribution's URL with edge cloudfront, else the load balancer's
	Edge         string `json:"edge"`    // cloudfront or alb
	SettingsPath string `json:"settingsPath"`

	VpcID            string   `json:"vpcId"`
	PublicSubnetIDs  []string `json:"publicSubnetIds"`
	PrivateSubnetIDs []string `json:"privateSubnetIds"`
	// The network's address plan as deployed (the resolved AZs, not the config's empty
	// default): keys fixed at the stack's creation, which the next deploy checks against.
	VpcCidr            string   `json:"vpcCidr"`
	AvailabilityZones  []string `json:"availabilityZones"`
	PublicSubnetCidrs  []string `json:"publicSubnetCidrs"`
	PrivateSubnetCidrs []string `json:"privateSubnetCidrs"`
	Ephemeral          bool     `json:"ephemeral"` // config ephemeral: a throwaway stack, destroyed without a final backup

	ALBDNSName        string `json:"albDnsName"`
	TargetGroupARN    string `json:"targetGroupArn"`
	CDNDistributionID string `json:"cdnDistributionId,omitempty"` // only with edge cloudfront
	CDNDomainName     string `json:"cdnDomainName,omitempty"`     // only with edge cloudfront
	WebACLARN         string `json:"webAclArn,omitempty"`         // only with waf

	DBEndpoint         string `json:"dbEndpoint"`
	DBIdentifier       string `json:"dbIdentifier"`
	DBAvailabilityZone string `json:"dbAvailabilityZone"`
	DBMultiAZ          bool   `json:"dbMultiAz"`
	DBAppSecretName    string `json:"dbAppSecretName"`        // WordPress's own database user
	DBMasterSecretARN  string `json:"dbMasterSecretArn"`      // the master credential: RDS's secret, or dbSecretName's
	DBSecretName       string `json:"dbSecretName,omitempty"` // only with a Pulumi-generated master password (dbManagedMasterPassword false)
	DBHostParameter    string `json:"dbHostParameter"`
	// DBLineage is every database generation the stack has had, in order: the original and
	// each restore (config dbRestore), which one serves, and those retired (dbRetire). The
	// program reads it back on the next up: it is what exists, the config only what to do.
	DBLineage []DBGeneration `json:"dbLineage"`

	WordPressSecretName string `json:"wordpressSecretName"`
	WordPressAdminUser  string `json:"wordpressAdminUser"`
	WordPressVersion    string `json:"wordpressVersion"`
	// Only after a major or minor WordPress upgrade: the release it came from, and the
	// database snapshot taken before it (kept: the way back).
	WordPressUpgradedFrom string     `json:"wordpressUpgradedFrom,omitempty"`
	PreUpgradeSnapshot    string     `json:"preUpgradeSnapshot,omitempty"`
	AMIID                 string     `json:"amiId"`
	ImagesKept            int        `json:"imagesKept"`   // golden images cmd/rollout keeps when it prunes (config imagesKept)
	WebTierMode           string     `json:"webTierMode"`  // autoscaling or fixed
	WebInstances          []Instance `json:"webInstances"` // the fixed mode's servers; empty with autoscaling
	// Only in the autoscaling mode.
	WebAutoScalingGroupName  string `json:"webAutoScalingGroupName,omitempty"`
	WebLaunchTemplateID      string `json:"webLaunchTemplateId,omitempty"`
	WebLaunchTemplateVersion int    `json:"webLaunchTemplateVersion,omitempty"`

	UploadsFileSystemID  string `json:"uploadsFileSystemId"`
	UploadsFileSystemARN string `json:"uploadsFileSystemArn"`
	// UploadsBackupRoleARN is the role AWS Backup assumes for the uploads' on-demand backup
	// (cmd/backup, before a destroy).
	UploadsBackupRoleARN string `json:"uploadsBackupRoleArn"`
	// UploadsRestore is the restored file system the servers use (config uploadsRestore); only
	// while one serves instead of the stack's own. The program reads it back on the next up.
	UploadsRestore *UploadsRestore `json:"uploadsRestore,omitempty"`

	AlarmTopicARN   string   `json:"alarmTopicArn"`
	DashboardURL    string   `json:"dashboardUrl"`
	DBFailoverAlarm string   `json:"dbFailoverAlarm"`
	AlarmNames      []string `json:"alarmNames"` // every alarm of the stack, the rollout alarms included
}

// UploadsRestore is a restored uploads file system outside the stack that the servers use.
type UploadsRestore struct {
	ID           string `json:"id"`           // the hand-over's label (uploadsRestore's id)
	FileSystemID string `json:"fileSystemId"` // cmd/backup restore's file system
	Path         string `json:"path"`         // the uploads folder inside it: the access point's root
}

// Instance is a web server of the fixed mode and the AZ it runs in.
type Instance struct {
	ID               string `json:"id"`
	AvailabilityZone string `json:"availabilityZone"`
}

// DBGeneration is one database of the stack's lineage.
type DBGeneration struct {
	ID string `json:"id"` // "original", or the restore's label (dbRestore's id)
	// From is where its data came from: "" (the original, created empty), "latest", an
	// RFC 3339 time (a point in time of Source) or "snapshot:<identifier or ARN>".
	From string `json:"from,omitempty"`
	// Source is the RDS identifier of the instance it was restored from (a point in time).
	Source     string `json:"source,omitempty"`
	Identifier string `json:"identifier,omitempty"` // its RDS identifier
	Serving    bool   `json:"serving"`              // the one the servers use
	// Retired: out of the stack (dbRetire), still in RDS until its owner deletes it.
	Retired bool `json:"retired,omitempty"`
}

// Key is the output name of the field of Outputs that field returns a pointer to:
// Key(func(o *Outputs) any { return &o.SiteURL }) is "siteUrl". Messages and flag help name
// outputs through it instead of spelling them again.
func Key(field func(*Outputs) any) string {
	var o Outputs
	return Name(&o, field(&o))
}

// Name is the JSON name of the field that fieldPtr points to inside the struct that
// structPtr points to. It panics when fieldPtr is not a field of it: that is a programming
// error that every run of the program or the commands would hit at once.
func Name(structPtr, fieldPtr any) string {
	s := reflect.ValueOf(structPtr)
	if s.Kind() != reflect.Pointer || s.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("stack.Name: %T is not a pointer to a struct", structPtr))
	}
	f := reflect.ValueOf(fieldPtr)
	if f.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("stack.Name: %T is not a pointer to a field", fieldPtr))
	}
	s = s.Elem()
	for i := range s.NumField() {
		if s.Field(i).Addr().Pointer() == f.Pointer() && s.Field(i).Type() == f.Elem().Type() {
			return jsonName(s.Type().Field(i))
		}
	}
	panic(fmt.Sprintf("stack.Name: the pointer is not to a field of %s", s.Type()))
}

// jsonName is the name encoding/json gives a field.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// Optional reports whether the field named key may be absent from a stack's outputs (it
// belongs to a part that the stack's config can leave out).
func Optional(key string) bool {
	t := reflect.TypeFor[Outputs]()
	for i := range t.NumField() {
		if f := t.Field(i); jsonName(f) == key {
			return strings.Contains(f.Tag.Get("json"), ",omitempty")
		}
	}
	return false
}

// Keys are the names of every output, in the order of Outputs.
func Keys() []string {
	t := reflect.TypeFor[Outputs]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		out = append(out, jsonName(t.Field(i)))
	}
	return out
}

// The names of the outputs that the commands mention in their flags' help and messages.
var (
	KeyRegion          = Key(func(o *Outputs) any { return &o.Region })
	KeySiteURL         = Key(func(o *Outputs) any { return &o.SiteURL })
	KeyTargetGroupARN  = Key(func(o *Outputs) any { return &o.TargetGroupARN })
	KeyGroup           = Key(func(o *Outputs) any { return &o.WebAutoScalingGroupName })
	KeyWebInstances    = Key(func(o *Outputs) any { return &o.WebInstances })
	KeyDBIdentifier    = Key(func(o *Outputs) any { return &o.DBIdentifier })
	KeyDBFailoverAlarm = Key(func(o *Outputs) any { return &o.DBFailoverAlarm })
	KeyDBHostParameter = Key(func(o *Outputs) any { return &o.DBHostParameter })
	KeyDBLineage       = Key(func(o *Outputs) any { return &o.DBLineage })

	KeyWordPressVersion      = Key(func(o *Outputs) any { return &o.WordPressVersion })
	KeyWordPressUpgradedFrom = Key(func(o *Outputs) any { return &o.WordPressUpgradedFrom })
	KeyPreUpgradeSnapshot    = Key(func(o *Outputs) any { return &o.PreUpgradeSnapshot })
	KeyImagesKept            = Key(func(o *Outputs) any { return &o.ImagesKept })

	KeyVpcCidr             = Key(func(o *Outputs) any { return &o.VpcCidr })
	KeyAvailabilityZones   = Key(func(o *Outputs) any { return &o.AvailabilityZones })
	KeyPublicSubnetCidrs   = Key(func(o *Outputs) any { return &o.PublicSubnetCidrs })
	KeyPrivateSubnetCidrs  = Key(func(o *Outputs) any { return &o.PrivateSubnetCidrs })
	KeyEphemeral           = Key(func(o *Outputs) any { return &o.Ephemeral })
	KeyUploadsFileSystemID = Key(func(o *Outputs) any { return &o.UploadsFileSystemID })
	KeyUploadsBackupRole   = Key(func(o *Outputs) any { return &o.UploadsBackupRoleARN })
)
