package rules

// EC2 instances and launch templates: IMDSv2, encrypted volumes, no secrets in user data.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeInstance       = "aws:ec2/instance:Instance"
	typeLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	typeVolume         = "aws:ebs/volume:Volume"
)

func imdsv2Required() policyx.Policy {
	return resourcePolicy("imdsv2-required",
		"Instances require IMDSv2 session tokens (Checkov CKV_AWS_79; Security Hub EC2.8).",
		forType(func(args policyx.ResourceValidationArgs) {
			md := object(args.Resource.Properties, "metadataOptions")
			if endpoint, _ := str(md, "httpEndpoint"); endpoint == "disabled" {
				return // no metadata service at all
			}
			if tokens, ok := str(md, "httpTokens"); ok && tokens != "required" {
				args.Manager.ReportViolation(fmt.Sprintf("%s allows IMDSv1 (metadataOptions.httpTokens = %q); set it to \"required\".", args.Resource.Name, tokens), "")
			} else if !ok && md.Len() == 0 {
				args.Manager.ReportViolation(fmt.Sprintf("%s sets no metadataOptions; set httpTokens to \"required\".", args.Resource.Name), "")
			}
		}, typeInstance, typeLaunchTemplate))
}

func ebsEncrypted() policyx.Policy {
	return resourcePolicy("ebs-encrypted",
		"EBS volumes, root volumes included, are encrypted (Checkov CKV_AWS_8, CKV_AWS_3; Security Hub EC2.3).",
		forType(func(args policyx.ResourceValidationArgs) {
			p, name := args.Resource.Properties, args.Resource.Name
			if args.Resource.Type == typeVolume {
				if enc, ok := boolean(p, "encrypted", false); ok && !enc {
					args.Manager.ReportViolation(name+" is not encrypted.", "")
				}
				return
			}
			if args.Resource.Type == typeLaunchTemplate {
				for _, dev := range objects(p, "blockDeviceMappings") {
					ebs := object(dev, "ebs")
					if enc, ok := boolean(ebs, "encrypted", false); ok && !enc {
						d, _ := str(dev, "deviceName")
						args.Manager.ReportViolation(fmt.Sprintf("%s: the volume %s its instances get is not encrypted (blockDeviceMappings.ebs.encrypted).", name, d), "")
					}
				}
				return
			}
			root := object(p, "rootBlockDevice")
			if enc, ok := boolean(root, "encrypted", false); ok && !enc {
				args.Manager.ReportViolation(name+": the root volume is not encrypted (rootBlockDevice.encrypted).", "")
			}
			for _, dev := range objects(p, "ebsBlockDevices") {
				if enc, ok := boolean(dev, "encrypted", false); ok && !enc {
					d, _ := str(dev, "deviceName")
					args.Manager.ReportViolation(fmt.Sprintf("%s: EBS volume %s is not encrypted.", name, d), "")
				}
			}
		}, typeInstance, typeVolume, typeLaunchTemplate))
}

// secretPatterns are what detect-secrets (behind CKV_AWS_46) looks for in user data.
var secretPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"an AWS access key ID", regexp.MustCompile(`\b(AKIA|ASIA|A3T[A-Z0-9])[A-Z0-9]{16}\b`)},
	{"an AWS secret access key", regexp.MustCompile(`(?i)aws_?secret_?access_?key\s*[=:]\s*['"]?[A-Za-z0-9/+=]{40}`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	// A literal value assigned (name=value, or name: value) to a password-like name; a
	// shell or PHP variable is not one, nor an ARN's ":secret:" part.
	{"a password assignment", regexp.MustCompile(`(?i)\b[a-z_]*(password|passwd|secret|token)(\s*=|:\s)\s*['"]?[^\s'"$({][^\s'"]{5,}`)},
}

// decodeUserData reads base64 user data, unpacking gzip; what does not decode is returned
// as it is.
func decodeUserData(s string) string {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return s
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
			if text, err := io.ReadAll(io.LimitReader(zr, 1<<20)); err == nil {
				return string(text)
			}
		}
	}
	return string(raw)
}

func noSecretsInUserData() policyx.Policy {
	return resourcePolicy("no-plaintext-secrets-in-user-data",
		"User data holds no secret: anyone with ec2:DescribeInstanceAttribute can read it (Checkov CKV_AWS_46).",
		forType(func(args policyx.ResourceValidationArgs) {
			for _, key := range []string{"userData", "userDataBase64"} {
				v, ok := args.Resource.Properties.GetOk(key)
				if !ok || v.IsNull() {
					continue
				}
				if v.Secret() || v.HasSecrets() {
					args.Manager.ReportViolation(fmt.Sprintf("%s: a Pulumi secret flows into %s; fetch it at boot (Secrets Manager, SSM) instead.", args.Resource.Name, key), "")
					continue
				}
				if !v.IsString() {
					continue
				}
				text := v.AsString()
				// userDataBase64, and a launch template's userData, are base64, possibly of gzip
				// (which cloud-init unpacks): read them as the instance does.
				if key == "userDataBase64" || args.Resource.Type == typeLaunchTemplate {
					text = decodeUserData(text)
				}
				for _, p := range secretPatterns {
					if p.re.MatchString(text) {
						args.Manager.ReportViolation(fmt.Sprintf("%s: %s holds what looks like %s.", args.Resource.Name, key, p.what), "")
					}
				}
			}
		}, typeInstance, typeLaunchTemplate))
}
