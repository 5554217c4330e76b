// Package configref renders the configuration reference (docs/configuration.md) from
// Pulumi.yaml. Pulumi.yaml is the one source of every key's type, default and description,
// so the page is generated from it rather than written by hand, and a test fails when the
// committed page no longer matches the project file.
package configref

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ProviderKey is a key of a provider's namespace that the stack files set. Pulumi.yaml
// declares only the project's own keys, so the page lists these separately.
type ProviderKey struct {
	Key  string
	Note string // Markdown, one sentence or two
}

// ProviderKeys are the provider keys the stack files use; the freshness test checks that
// every provider key in a Pulumi.<stack>.yaml is listed here.
var ProviderKeys = []ProviderKey{
	{
		Key: "aws:region",
		Note: "The AWS region to deploy into. It is required and has no default in Pulumi.yaml: " +
			"set it in every stack (`pulumi config set aws:region ap-northeast-1`).",
	},
}

// knownTypes are the types Pulumi accepts for a project config key.
var knownTypes = map[string]bool{"string": true, "integer": true, "boolean": true, "array": true, "object": true}

// section is the keys under one group comment of the config block.
type section struct {
	title string // first comment line, "" for keys before any comment
	text  string // further comment lines
	rows  [][4]string
}

// Render returns the Markdown reference for the config block of a Pulumi.yaml: the keys
// in file order, grouped under the comments that head them, one table row each (key,
// type, default, description). It fails, naming the key, on a key Pulumi would reject or
// a reader could not use: one without a type or a description.
func Render(pulumiYAML []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(pulumiYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse project file: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("project file: not a YAML mapping")
	}
	project := ""
	if name := lookup(doc.Content[0], "name"); name != nil {
		project = name.Value
	}
	cfg := lookup(doc.Content[0], "config")
	if cfg == nil || cfg.Kind != yaml.MappingNode || len(cfg.Content) == 0 {
		return nil, errors.New("project file: no config block (a mapping of keys)")
	}

	var sections []*section
	for i := 0; i < len(cfg.Content); i += 2 {
		k, v := cfg.Content[i], cfg.Content[i+1]
		if c := strings.TrimSpace(k.HeadComment); c != "" || len(sections) == 0 {
			sections = append(sections, newSection(c))
		}
		row, err := keyRow(k.Value, v)
		if err != nil {
			return nil, err
		}
		s := sections[len(sections)-1]
		s.rows = append(s.rows, row)
	}

	var b bytes.Buffer
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("This page is generated from Pulumi.yaml by `go generate ./...`: do not edit it by hand. " +
		"Set a key with `pulumi config set <key> <value>`, an array (or object) item by item with `--path` " +
		"(`pulumi config set --path '<key>[0]' <value>`), and a secret with `--secret`")
	if project != "" {
		fmt.Fprintf(&b, "; a stack file holds the key as `%s:<key>`", project)
	}
	b.WriteString(". A key whose default is — has none: every stack must set it.\n\n")
	b.WriteString("Provider keys, which Pulumi.yaml does not declare:\n\n")
	for _, p := range ProviderKeys {
		fmt.Fprintf(&b, "- `%s`: %s\n", p.Key, p.Note)
	}
	for _, s := range sections {
		title := s.title
		if title == "" {
			title = "Keys"
		}
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		if s.text != "" {
			b.WriteString(s.text + "\n\n")
		}
		b.WriteString("| key | type | default | description |\n|---|---|---|---|\n")
		for _, r := range s.rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3])
		}
	}
	return b.Bytes(), nil
}

// newSection turns a group comment ("# Network (hands-on step 1)") into a section: its first
// line is the title, any further lines a paragraph under it.
func newSection(comment string) *section {
	var lines []string
	for _, l := range strings.Split(comment, "\n") {
		if l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "#")); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return &section{}
	}
	return &section{title: lines[0], text: strings.Join(lines[1:], " ")}
}

// keyRow renders one key's table row: key, type, default, description, each escaped for a
// Markdown table cell.
func keyRow(key string, v *yaml.Node) ([4]string, error) {
	if v.Kind != yaml.MappingNode {
		return [4]string{}, fmt.Errorf("config key %q: want a mapping with type and description", key)
	}
	typ := lookup(v, "type")
	if typ == nil || typ.Value == "" {
		return [4]string{}, fmt.Errorf("config key %q: no type", key)
	}
	if !knownTypes[typ.Value] {
		return [4]string{}, fmt.Errorf("config key %q: unknown type %q", key, typ.Value)
	}
	desc := lookup(v, "description")
	if desc == nil || strings.TrimSpace(desc.Value) == "" {
		return [4]string{}, fmt.Errorf("config key %q: no description", key)
	}
	t := typ.Value
	if items := lookup(v, "items"); items != nil {
		if it := lookup(items, "type"); it != nil && it.Value != "" {
			t += " of " + it.Value
		}
	}
	if s := lookup(v, "secret"); s != nil && s.Value == "true" {
		t += " (secret)"
	}
	def := "—"
	if d := lookup(v, "default"); d != nil {
		def = value(d)
	}
	return [4]string{cell("`" + key + "`"), cell(t), cell(def), cell(strings.TrimSpace(desc.Value))}, nil
}

// value renders a default as written: scalars as they are (the empty string as "", an
// explicit null as null), arrays as [a, b], objects as {k: v}.
func value(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.SequenceNode:
		items := make([]string, len(n.Content))
		for i, c := range n.Content {
			items[i] = value(c)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case yaml.MappingNode:
		pairs := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, value(n.Content[i])+": "+value(n.Content[i+1]))
		}
		return "{" + strings.Join(pairs, ", ") + "}"
	default:
		switch {
		case n.ShortTag() == "!!null":
			return "null"
		case n.Value == "" && n.ShortTag() == "!!str":
			return `""`
		}
		return n.Value
	}
}

// cell keeps a value inside its Markdown table cell: a | would end the cell, a newline the row.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
