package updates

// Applying an update edits the stack file as text, one line: re-encoding the YAML would
// reorder, requote or drop what people wrote (comments above all), and a reviewer of the pull
// request must see exactly the pin change. The edited file is read back and must pin exactly
// what the update says and everything else as before.

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// Apply returns the stack file's text with the update's pin set: the scalar or list entry
// that holds the old pin rewritten in place (quoting and comment kept), or, when the stack
// file leaves the key to Pulumi.yaml's default, the key added at the end of the config block.
func (f *StackFile) Apply(u Update) ([]byte, error) {
	pins, err := f.Pins()
	if err != nil {
		return nil, err
	}
	want, err := pins.with(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	s, err := f.setting(u.Key)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch {
	case s.defaulted:
		out, err = f.addKey(u.Key, want)
	case u.Key == KeyWordPress:
		out, err = replaceScalar(f.src, s.node, u.NewPin)
	default:
		item := listItem(s.node, u.OldPin)
		if item == nil {
			return nil, fmt.Errorf("%s: no list item %q", s.where, u.OldPin)
		}
		out, err = replaceScalar(f.src, item, u.NewPin)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w; edit it by hand", f.Path, u.Key, err)
	}
	if err := f.checkEdit(out, want); err != nil {
		return nil, err
	}
	return out, nil
}

// with is the pins after the update, or an error when the stack no longer pins what the
// update was checked against.
func (p Pins) with(u Update) (Pins, error) {
	stale := func(current string) error {
		return fmt.Errorf("%s pins %s, but the update was checked against %s: run check again", u.Key, current, u.OldPin)
	}
	next := p
	next.Defaulted = nil
	switch u.Key {
	case KeyWordPress:
		if p.WordPress != u.OldPin {
			return p, stale(p.WordPress)
		}
		next.WordPress = u.NewPin
		return next, nil
	case KeyPlugins, KeyThemes:
		list := p.Plugins
		if u.Key == KeyThemes {
			list = p.Themes
		}
		old, ok1 := wporg.ParsePackage(u.OldPin)
		repl, ok2 := wporg.ParsePackage(u.NewPin)
		if !ok1 || !ok2 || old.Slug != repl.Slug || (u.Key == KeyThemes && repl.SHA256 == "") {
			return p, fmt.Errorf("update %s: %q → %q is not a pin change of one %s", u.ID, u.OldPin, u.NewPin, u.Key)
		}
		updated := make([]wporg.Package, len(list))
		copy(updated, list)
		for i, e := range list {
			if e.Slug != old.Slug {
				continue
			}
			if e != old {
				return p, stale(e.String())
			}
			updated[i] = repl
			if u.Key == KeyThemes {
				next.Themes = updated
			} else {
				next.Plugins = updated
			}
			return next, nil
		}
		return p, stale("no " + old.Slug)
	}
	return p, fmt.Errorf("update %s: the updater does not edit %s", u.ID, u.Key)
}

// checkEdit reads the edited text back: it must pin want, nothing else differently.
func (f *StackFile) checkEdit(out []byte, want Pins) error {
	g, err := ParseStackFile(f.Path, out, f.project)
	if err != nil {
		return fmt.Errorf("%s after the edit: %w (not written)", f.Path, err)
	}
	got, err := g.Pins()
	if err != nil {
		return fmt.Errorf("%s after the edit: %w (not written)", f.Path, err)
	}
	got.Defaulted = nil
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%s after the edit pins %+v, want %+v (not written)", f.Path, got, want)
	}
	return nil
}

// listItem is the item of a list node whose value is v.
func listItem(list *yaml.Node, v string) *yaml.Node {
	for _, item := range list.Content {
		if item.Kind == yaml.ScalarNode && item.Value == v {
			return item
		}
	}
	return nil
}

// lines splits text after each newline, so that joining them gives it back.
func lines(src []byte) [][]byte { return bytes.SplitAfter(src, []byte("\n")) }

// replaceScalar rewrites the one-line scalar at n with value, in the scalar's own quoting
// (double quotes instead of a plain scalar that YAML would not read back as the string), and
// keeps the rest of its line.
func replaceScalar(src []byte, n *yaml.Node, value string) ([]byte, error) {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return nil, fmt.Errorf("line %d is a multi-line scalar", n.Line)
	}
	ls := lines(src)
	if n.Line < 1 || n.Line > len(ls) {
		return nil, fmt.Errorf("line %d is not in the file", n.Line)
	}
	line := []rune(string(ls[n.Line-1]))
	start := n.Column - 1
	if start < 0 || start >= len(line) {
		return nil, fmt.Errorf("line %d has no column %d", n.Line, n.Column)
	}
	end, err := scalarEnd(line, start, n.Style)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	token := string(line[start:end])
	var check string
	if yaml.Unmarshal([]byte(token), &check) != nil || check != n.Value {
		return nil, fmt.Errorf("line %d: %q does not read back as %q", n.Line, token, n.Value)
	}
	ls[n.Line-1] = []byte(string(line[:start]) + quote(value, n.Style) + string(line[end:]))
	return bytes.Join(ls, nil), nil
}

// scalarEnd is where the scalar starting at line[start] ends.
func scalarEnd(line []rune, start int, style yaml.Style) (int, error) {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	default: // plain: up to a comment, a flow collection's separator or the line's end
		end := start
		for i := start; i < len(line); i++ {
			c := line[i]
			if c == '\n' || c == '\r' || c == ',' || c == ']' || c == '}' || (c == '#' && i > 0 && (line[i-1] == ' ' || line[i-1] == '\t')) {
				break
			}
			if c != ' ' && c != '\t' {
				end = i + 1
			}
		}
		return end, nil
	}
	return 0, fmt.Errorf("the quoted scalar does not end on its line")
}

// quote writes value as a scalar of the given style.
func quote(value string, style yaml.Style) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle == 0 && plainString(value):
		return value
	}
	return fmt.Sprintf("%q", value) // the pins are ASCII without control characters: Go's quoting is YAML's
}

// plainString says that value, written plain, reads back as that string.
func plainString(value string) bool {
	var n yaml.Node
	if yaml.Unmarshal([]byte("["+value+"]"), &n) != nil || len(n.Content) != 1 || len(n.Content[0].Content) != 1 {
		return false
	}
	s := n.Content[0].Content[0]
	return s.Tag == "!!str" && s.Value == value
}

// addKey adds key, set as in want, at the end of the stack file's config block (a config block
// at the end of the file when there is none).
func (f *StackFile) addKey(key string, want Pins) ([]byte, error) {
	var value []string
	switch key {
	case KeyWordPress:
		value = []string{want.WordPress}
	case KeyPlugins:
		value = pinStrings(want.Plugins)
	case KeyThemes:
		value = pinStrings(want.Themes)
	default:
		return nil, fmt.Errorf("the updater does not add %s", key)
	}
	eol := "\n"
	if bytes.Contains(f.src, []byte("\r\n")) {
		eol = "\r\n"
	}
	render := func(indent string) []string {
		name := indent + f.Project + ":" + key + ":"
		if key == KeyWordPress {
			return []string{name + " " + quote(value[0], yaml.DoubleQuotedStyle) + eol}
		}
		out := []string{name + eol}
		for _, v := range value {
			out = append(out, indent+"  - "+quote(v, 0)+eol)
		}
		return out
	}
	ls := lines(f.src)
	if n := len(ls); n > 0 && len(ls[n-1]) == 0 {
		ls = ls[:n-1] // the empty piece after a final newline
	}
	if n := len(ls); n > 0 && !bytes.HasSuffix(ls[n-1], []byte("\n")) {
		ls[n-1] = append(ls[n-1], eol...)
	}
	cfgKey, cfg := f.configKey()
	switch {
	case cfgKey == nil:
		return join(ls, len(ls), append([]string{"config:" + eol}, render("  ")...)), nil
	case cfg.Kind == yaml.MappingNode && cfg.Style&yaml.FlowStyle != 0:
		return nil, fmt.Errorf("config is a flow mapping ({...})")
	case cfg.Kind == yaml.MappingNode && len(cfg.Content) > 0:
		indent := strings.Repeat(" ", cfg.Content[0].Column-1)
		return join(ls, blockEnd(ls, cfgKey), render(indent)), nil
	case cfg.Kind == yaml.ScalarNode && cfg.Tag == "!!null":
		return join(ls, cfgKey.Line, render("  ")), nil
	}
	return nil, fmt.Errorf("config is not a mapping")
}

// blockEnd is the index of the line after the block under key: the last line, before the
// next line as little indented as key that is not blank or a comment, that is more indented
// than key and not blank or a comment. Comments between the block and the next key stay
// with the next key.
func blockEnd(ls [][]byte, key *yaml.Node) int {
	end := key.Line
	for i := key.Line; i < len(ls); i++ {
		text := strings.TrimRight(string(ls[i]), "\r\n")
		trimmed := strings.TrimLeft(text, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if len(text)-len(trimmed) <= key.Column-1 {
			break
		}
		end = i + 1
	}
	return end
}

// join is the lines with added inserted before index at.
func join(ls [][]byte, at int, added []string) []byte {
	var b bytes.Buffer
	for _, l := range ls[:at] {
		b.Write(l)
	}
	for _, a := range added {
		b.WriteString(a)
	}
	for _, l := range ls[at:] {
		b.Write(l)
	}
	return b.Bytes()
}

func pinStrings(pkgs []wporg.Package) []string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = p.String()
	}
	return out
}
