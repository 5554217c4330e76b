package updates

// A stack's pins are read as Pulumi reads them: the stack file's <project>:<key>, or, for a
// key it leaves out, Pulumi.yaml's default. They are validated as config.go validates them
// (through internal/wporg), so that a stack the program would refuse is refused here too,
// naming the file and the key, before any request.

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// The config keys that pin what the image is built from (Pulumi.yaml declares each; a test
// checks that it does).
const (
	KeyLocale    = "wordpressLocale"
	KeyWordPress = "wordpressVersion"
	KeyPlugins   = "wordpressPlugins"
	KeyThemes    = "wordpressThemes"
	KeyPHP       = "phpVersion"
	KeyDBEngine  = "dbEngineVersion"
	KeyAMI       = "amiId"
)

// Pins are what a stack's image is built from.
type Pins struct {
	Locale    string
	WordPress string
	Plugins   []wporg.Package
	Themes    []wporg.Package
	PHP       string
	DBEngine  string
	AMI       string
	// Defaulted are the keys the stack file leaves to Pulumi.yaml's default.
	Defaulted map[string]bool
}

// StackFile is a Pulumi.<stack>.yaml with its project's Pulumi.yaml, as the updater reads and
// edits it.
type StackFile struct {
	Path     string // as given, for messages
	Stack    string // the <stack> of Pulumi.<stack>.yaml
	Project  string // Pulumi.yaml's name: the stack file's keys are <Project>:<key>
	src      []byte
	project  []byte // Pulumi.yaml's text, to read an edit back
	doc      yaml.Node
	defaults map[string]*yaml.Node // Pulumi.yaml's default of each key that has one
}

// stackFileName is a stack file's name; the stack's name is between the dots.
var stackFileName = regexp.MustCompile(`^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$`)

// ParseStackFile reads a stack file's text and its project file's.
func ParseStackFile(path string, src, projectSrc []byte) (*StackFile, error) {
	m := stackFileName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return nil, fmt.Errorf("%s: want a stack file named Pulumi.<stack>.yaml", path)
	}
	f := &StackFile{Path: path, Stack: m[1], src: src, project: projectSrc, defaults: map[string]*yaml.Node{}}
	var project struct {
		Name   string `yaml:"name"`
		Config map[string]struct {
			Default yaml.Node `yaml:"default"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(projectSrc, &project); err != nil {
		return nil, fmt.Errorf("project file beside %s: %w", path, err)
	}
	if project.Name == "" {
		return nil, fmt.Errorf("project file beside %s: no name (the stack file's keys are <name>:<key>)", path)
	}
	f.Project = project.Name
	for k, v := range project.Config {
		if v.Default.Kind != 0 {
			f.defaults[k] = &v.Default
		}
	}
	if err := yaml.Unmarshal(src, &f.doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.doc.Content) > 0 && f.doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping", path)
	}
	return f, nil
}

// configKey is the top-level config key's node and its value's, nil when there is none.
func (f *StackFile) configKey() (key, value *yaml.Node) {
	if len(f.doc.Content) == 0 {
		return nil, nil
	}
	m := f.doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "config" {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// mappingValue is the value of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setting is the node that sets a key and where it comes from, for messages.
type setting struct {
	node      *yaml.Node
	where     string
	defaulted bool
}

// setting finds key: in the stack file, else Pulumi.yaml's default.
func (f *StackFile) setting(key string) (setting, error) {
	full := f.Project + ":" + key
	if _, cfg := f.configKey(); cfg != nil && cfg.Kind == yaml.MappingNode {
		if n := mappingValue(cfg, full); n != nil {
			return setting{node: n, where: f.Path + ": " + full}, nil
		}
	}
	if n, ok := f.defaults[key]; ok {
		return setting{node: n, where: "Pulumi.yaml: the default of " + key, defaulted: true}, nil
	}
	return setting{}, fmt.Errorf("neither %s (%s) nor Pulumi.yaml (a default) sets %s", f.Path, full, key)
}

// scalar reads a string key. A YAML number is refused: Pulumi would read 7.10 as 7.1.
func (f *StackFile) scalar(key string) (string, setting, error) {
	s, err := f.setting(key)
	if err != nil {
		return "", s, err
	}
	switch {
	case s.node.Kind != yaml.ScalarNode:
		return "", s, fmt.Errorf("%s: want a string, not a YAML %s", s.where, kindName(s.node))
	case s.node.Tag == "!!int" || s.node.Tag == "!!float":
		return "", s, fmt.Errorf("%s: %s is a YAML number, which loses digits (7.10 reads as 7.1): quote it (%q)", s.where, s.node.Value, s.node.Value)
	}
	return s.node.Value, s, nil
}

// list reads a list-of-strings key.
func (f *StackFile) list(key string) ([]string, setting, error) {
	s, err := f.setting(key)
	if err != nil {
		return nil, s, err
	}
	if s.node.Kind != yaml.SequenceNode {
		return nil, s, fmt.Errorf("%s: want a YAML list of strings, not a %s", s.where, kindName(s.node))
	}
	out := make([]string, 0, len(s.node.Content))
	for _, item := range s.node.Content {
		if item.Kind != yaml.ScalarNode {
			return nil, s, fmt.Errorf("%s: item on line %d is a %s, want a string", s.where, item.Line, kindName(item))
		}
		out = append(out, item.Value)
	}
	return out, s, nil
}

// kindName names a node's kind in messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping (a secret, or an object)"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "scalar"
}

// Pins reads and validates the stack's pins.
func (f *StackFile) Pins() (Pins, error) {
	p := Pins{Defaulted: map[string]bool{}}
	var errs []error
	str := func(key string, dst *string) setting {
		v, s, err := f.scalar(key)
		errs = append(errs, err)
		*dst = v
		if s.defaulted {
			p.Defaulted[key] = true
		}
		return s
	}
	pkgs := func(key string, needHash bool, dst *[]wporg.Package) {
		entries, s, err := f.list(key)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if s.defaulted {
			p.Defaulted[key] = true
		}
		*dst, err = parsePins(s.where, entries, needHash)
		errs = append(errs, err)
	}
	if s := str(KeyLocale, &p.Locale); p.Locale != "" && !wporg.Supported(p.Locale) {
		errs = append(errs, fmt.Errorf("%s: %q is not a supported locale: want one of %s", s.where, p.Locale, strings.Join(wporg.Locales(), ", ")))
	}
	if s := str(KeyWordPress, &p.WordPress); p.WordPress != "" && !wporg.ReleaseRe.MatchString(p.WordPress) {
		errs = append(errs, fmt.Errorf("%s: %q is not a WordPress release number: want x.y or x.y.z, such as 7.0 or 6.8.3", s.where, p.WordPress))
	}
	pkgs(KeyPlugins, false, &p.Plugins)
	pkgs(KeyThemes, true, &p.Themes)
	str(KeyPHP, &p.PHP)
	str(KeyDBEngine, &p.DBEngine)
	str(KeyAMI, &p.AMI)
	return p, errors.Join(errs...)
}

// parsePins reads a plugin or theme list as config.go's parsePackages does.
func parsePins(where string, entries []string, needHash bool) ([]wporg.Package, error) {
	form := "slug@version"
	if needHash {
		form = "slug@version:sha256"
	}
	var out []wporg.Package
	seen := map[string]bool{}
	for _, e := range entries {
		p, ok := wporg.ParsePackage(e)
		if !ok || (needHash && p.SHA256 == "") {
			return nil, fmt.Errorf("%s: %q is not a pin: want %s", where, e, form)
		}
		if seen[p.Slug] {
			return nil, fmt.Errorf("%s: %s is listed twice", where, p.Slug)
		}
		seen[p.Slug] = true
		out = append(out, p)
	}
	return out, nil
}
