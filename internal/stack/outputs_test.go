package stack

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestKeyIsTheJSONName(t *testing.T) {
	for _, c := range []struct {
		field func(*Outputs) any
		want  string
	}{
		{func(o *Outputs) any { return &o.Region }, "region"}, // the first field shares the struct's address
		{func(o *Outputs) any { return &o.SiteURL }, "siteUrl"},
		{func(o *Outputs) any { return &o.CDNDistributionID }, "cdnDistributionId"},
		{func(o *Outputs) any { return &o.WebInstances }, "webInstances"},
		{func(o *Outputs) any { return &o.AlarmNames }, "alarmNames"},
	} {
		if got := Key(c.field); got != c.want {
			t.Errorf("Key = %q, want %q", got, c.want)
		}
	}
	var i Instance
	if got := Name(&i, &i.AvailabilityZone); got != "availabilityZone" {
		t.Errorf("Name(Instance.AvailabilityZone) = %q", got)
	}
}

func TestNamePanicsOnAPointerOutsideTheStruct(t *testing.T) {
	var o Outputs
	other := ""
	for name, call := range map[string]func(){
		"foreign field": func() { Name(&o, &other) },
		"not a pointer": func() { Name(o, &o.Region) },
		"field value":   func() { Name(&o, o.Region) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
}

// The keys are the names encoding/json uses, so decoding by Keys and by the struct agree.
func TestKeysMatchEncodingJSON(t *testing.T) {
	b, err := json.Marshal(Outputs{CDNDistributionID: "x", CDNDomainName: "x", WebACLARN: "x", DBSecretName: "x",
		WebAutoScalingGroupName: "x", WebLaunchTemplateID: "x", WebLaunchTemplateVersion: 1, WordPressUpgradedFrom: "x", PreUpgradeSnapshot: "x", UploadsRestore: &UploadsRestore{}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := Keys()
	if len(keys) != len(m) {
		t.Fatalf("Keys() has %d names, encoding/json %d", len(keys), len(m))
	}
	for k := range m {
		if !slices.Contains(keys, k) {
			t.Errorf("encoding/json writes %q, Keys() lacks it", k)
		}
	}
	if !Optional("webAclArn") || Optional("siteUrl") || Optional("no-such-output") {
		t.Error("Optional: webAclArn is optional, siteUrl is not, an unknown key is not")
	}
}
