package rules

// Reading resource properties as the policy engine hands them over: values may be unknown
// during a preview (computed), secret, or absent (the AWS default applies).

import (
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// known is a property's value when it is set and known.
func known(m property.Map, key string) (property.Value, bool) {
	v, ok := m.GetOk(key)
	if !ok || v.IsNull() || v.IsComputed() {
		return property.Value{}, false
	}
	return v, true
}

// str is a known string property.
func str(m property.Map, key string) (string, bool) {
	v, ok := known(m, key)
	if !ok || !v.IsString() {
		return "", false
	}
	return v.AsString(), true
}

// boolean returns a property's value, the default when it is absent, and whether it is
// known at all (false while a preview computes it).
func boolean(m property.Map, key string, def bool) (value, isKnown bool) {
	v, ok := m.GetOk(key)
	switch {
	case !ok || v.IsNull():
		return def, true
	case v.IsComputed():
		return false, false
	case v.IsBool():
		return v.AsBool(), true
	case v.IsString():
		return v.AsString() == "true", true
	}
	return def, true
}

// number returns a numeric property, the default when absent, and whether it is known.
func number(m property.Map, key string, def float64) (float64, bool) {
	v, ok := m.GetOk(key)
	switch {
	case !ok || v.IsNull():
		return def, true
	case v.IsNumber():
		return v.AsNumber(), true
	}
	return 0, false
}

// object is a nested map property, or an empty map.
func object(m property.Map, key string) property.Map {
	if v, ok := known(m, key); ok && v.IsMap() {
		return v.AsMap()
	}
	return property.Map{}
}

// objects is an array-of-maps property (inline rules, default actions, block devices).
func objects(m property.Map, key string) []property.Map {
	var out []property.Map
	if v, ok := known(m, key); ok && v.IsArray() {
		for _, e := range v.AsArray().AsSlice() {
			if e.IsMap() {
				out = append(out, e.AsMap())
			}
		}
	}
	return out
}

// strings is a string or array-of-strings property, known elements only.
func stringsOf(m property.Map, key string) []string {
	v, ok := known(m, key)
	if !ok {
		return nil
	}
	if v.IsString() {
		return []string{v.AsString()}
	}
	var out []string
	if v.IsArray() {
		for _, e := range v.AsArray().AsSlice() {
			if e.IsString() && !e.IsComputed() {
				out = append(out, e.AsString())
			}
		}
	}
	return out
}

// index finds resources by URN and physical ID, and follows references between them:
// by the referenced resource's ID when values are known (after up), and by the property's
// dependencies when they are not (during preview).
type index struct {
	all   []policyx.AnalyzerResource
	byURN map[string]policyx.AnalyzerResource
	byID  map[string]policyx.AnalyzerResource
}

func newIndex(resources []policyx.AnalyzerResource) *index {
	ix := &index{all: resources, byURN: map[string]policyx.AnalyzerResource{}, byID: map[string]policyx.AnalyzerResource{}}
	for _, r := range resources {
		ix.byURN[r.URN] = r
		for _, k := range []string{"id", "arn"} {
			if id, ok := str(r.Properties, k); ok && id != "" {
				ix.byID[id] = r
			}
		}
	}
	return ix
}

func (ix *index) ofType(types ...string) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, r := range ix.all {
		for _, t := range types {
			if r.Type == t {
				out = append(out, r)
			}
		}
	}
	return out
}

// refs returns the resources of the given types that r's property points at.
func (ix *index) refs(r policyx.AnalyzerResource, prop string, types ...string) []policyx.AnalyzerResource {
	seen := map[string]bool{}
	var out []policyx.AnalyzerResource
	add := func(x policyx.AnalyzerResource, ok bool) {
		if !ok || seen[x.URN] {
			return
		}
		for _, t := range types {
			if x.Type == t {
				seen[x.URN] = true
				out = append(out, x)
				return
			}
		}
	}
	for _, id := range stringsOf(r.Properties, prop) {
		x, ok := ix.byID[id]
		add(x, ok)
	}
	for _, u := range r.PropertyDependencies[prop] {
		x, ok := ix.byURN[u]
		add(x, ok)
	}
	return out
}
