package configref

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// project wraps a config block (indented by two spaces) in a minimal Pulumi.yaml.
func project(config string) []byte {
	return []byte("name: demo\nruntime: go\nconfig:\n" + config)
}

func TestRenderRows(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"string", "  a:\n    type: string\n    description: A.\n    default: x\n",
			"| `a` | string | x | A. |"},
		{"quoted number stays as written", "  a:\n    type: string\n    description: A.\n    default: \"7.0\"\n",
			"| `a` | string | 7.0 | A. |"},
		{"empty string", "  a:\n    type: string\n    description: A.\n    default: \"\"\n",
			"| `a` | string | \"\" | A. |"},
		{"no default", "  a:\n    type: string\n    description: A.\n",
			"| `a` | string | — | A. |"},
		{"explicit null", "  a:\n    type: string\n    description: A.\n    default: null\n",
			"| `a` | string | null | A. |"},
		{"integer", "  a:\n    type: integer\n    description: A.\n    default: 0\n",
			"| `a` | integer | 0 | A. |"},
		{"boolean", "  a:\n    type: boolean\n    description: A.\n    default: false\n",
			"| `a` | boolean | false | A. |"},
		{"flow array", "  a:\n    type: array\n    items: { type: string }\n    description: A.\n    default: [x, y]\n",
			"| `a` | array of string | [x, y] | A. |"},
		{"block array with an empty item", "  a:\n    type: array\n    items:\n      type: string\n    description: A.\n    default:\n      - x\n      - \"\"\n",
			"| `a` | array of string | [x, \"\"] | A. |"},
		{"empty array", "  a:\n    type: array\n    description: A.\n    default: []\n",
			"| `a` | array | [] | A. |"},
		{"object", "  a:\n    type: object\n    description: A.\n    default: {team: web, env: \"\"}\n",
			"| `a` | object | {team: web, env: \"\"} | A. |"},
		{"empty object", "  a:\n    type: object\n    description: A.\n    default: {}\n",
			"| `a` | object | {} | A. |"},
		{"secret", "  a:\n    type: string\n    secret: true\n    description: A.\n",
			"| `a` | string (secret) | — | A. |"},
		{"non-ASCII kept", "  a:\n    type: string\n    description: サイト名。\n    default: はじめてのAWS\n",
			"| `a` | string | はじめてのAWS | サイト名。 |"},
		{"pipes escaped", "  a:\n    type: string\n    description: \"x | y\"\n    default: \"a|b\"\n",
			"| `a` | string | a\\|b | x \\| y |"},
		{"multi-line description on one row", "  a:\n    type: string\n    description: |\n      one\n      two\n",
			"| `a` | string | — | one two |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(project(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), "\n"+tt.want+"\n") {
				t.Errorf("want row\n%s\nin\n%s", tt.want, got)
			}
		})
	}
}

func TestRenderSections(t *testing.T) {
	src := project(`  first:
    type: string
    description: Before any group.
  # Network (step 1)
  b:
    type: string
    description: B.
  c:
    type: string
    description: C.

  # Database
  # Multi-AZ MySQL.
  d:
    type: integer
    description: D.
`)
	got, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	page := string(got)
	want := []string{
		"# Configuration reference\n\n",
		"`go generate ./...`", "`pulumi config set <key> <value>`", "`--path`", "`--secret`", "`demo:<key>`",
		"- `aws:region`: ", "required and has no default in Pulumi.yaml",
		"\n## Keys\n\n| key | type | default | description |\n|---|---|---|---|\n| `first` |",
		"\n## Network (step 1)\n\n| key | type | default | description |\n|---|---|---|---|\n| `b` | string | — | B. |\n| `c` |",
		"\n## Database\n\nMulti-AZ MySQL.\n\n| key |",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(page, w)
		if i < 0 || i < last {
			t.Fatalf("want %q after the previous part in\n%s", w, page)
		}
		last = i
	}
	if !strings.HasSuffix(page, "| D. |\n") || strings.HasSuffix(page, "\n\n") {
		t.Errorf("want the page to end with the last row and one newline:\n%q", page)
	}
	again, _ := Render(src)
	if !bytes.Equal(got, again) {
		t.Error("two renders of the same file differ")
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"not YAML", []byte("config: [\n"), "parse project file"},
		{"not a mapping", []byte("- a\n- b\n"), "not a YAML mapping"},
		{"empty file", nil, "not a YAML mapping"},
		{"no config block", []byte("name: demo\nruntime: go\n"), "no config block"},
		{"empty config block", project("  {}\n"), "no config block"},
		{"no type", project("  ok:\n    type: string\n    description: Fine.\n  vpcCidr:\n    description: CIDR.\n"), `config key "vpcCidr": no type`},
		{"unknown type", project("  vpcCidr:\n    type: cidr\n    description: CIDR.\n"), `config key "vpcCidr": unknown type "cidr"`},
		{"no description", project("  vpcCidr:\n    type: string\n    default: 10.0.0.0/16\n"), `config key "vpcCidr": no description`},
		{"blank description", project("  vpcCidr:\n    type: string\n    description: \"  \"\n"), `config key "vpcCidr": no description`},
		{"shorthand value", project("  vpcCidr: 10.0.0.0/16\n"), `config key "vpcCidr": want a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestConfigurationPageFresh fails when docs/configuration.md no longer matches Pulumi.yaml.
func TestConfigurationPageFresh(t *testing.T) {
	src, err := os.ReadFile("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatalf("docs/configuration.md is out of date: run go generate ./... (%v)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/configuration.md is out of date: run go generate ./...")
	}
}

// TestProviderKeysListed fails when a stack file sets a provider key the page does not list.
func TestProviderKeysListed(t *testing.T) {
	var proj struct {
		Name string `yaml:"name"`
	}
	src, err := os.ReadFile("../../Pulumi.yaml")
	if err == nil {
		err = yaml.Unmarshal(src, &proj)
	}
	if err != nil || proj.Name == "" {
		t.Fatalf("read the project name from Pulumi.yaml: %v", err)
	}
	files, err := filepath.Glob("../../Pulumi.*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files found (%v)", err)
	}
	listed := map[string]bool{}
	for _, p := range ProviderKeys {
		listed[p.Key] = true
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var stack struct {
			Config map[string]any `yaml:"config"`
		}
		if err := yaml.Unmarshal(b, &stack); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for key := range stack.Config {
			if !strings.HasPrefix(key, proj.Name+":") && !listed[key] {
				t.Errorf("%s sets provider key %s, which ProviderKeys does not list", filepath.Base(f), key)
			}
		}
	}
}
