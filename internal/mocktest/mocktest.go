// Package mocktest is the recording Pulumi mock that the programs' unit tests share: it
// records every registration (type, name, URN, inputs, dependencies) and leaves what AWS
// would compute, and how invokes are answered, to each program's tests.
package mocktest

import (
	"fmt"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one RegisterResource the program made.
type Resource struct {
	Type, Name, URN, Parent string
	Custom, Protect         bool
	RetainOnDelete          bool // the engine never deletes it: a replacement or destroy leaves it in the cloud
	Inputs                  resource.PropertyMap
	Outputs                 resource.PropertyMap
	Deps                    []string            // URNs of resources this one's inputs came from
	PropDeps                map[string][]string // the same, per input property
	Aliases                 []string            // former URNs the resource answers to
	IgnoreChanges           []string            // inputs the engine leaves to another owner
	ReplaceOnChanges        []string            // inputs whose change replaces the resource
	Provider                string              // the explicit provider's reference ("urn::id"), "" for the default
}

// Str is an input as a string ("" when absent; numbers and booleans formatted).
func (r *Resource) Str(key string) string {
	return PropString(r.Inputs[resource.PropertyKey(key)])
}

// Obj returns a nested input object (e.g. metadataOptions) or nil.
func (r *Resource) Obj(key string) resource.PropertyMap {
	v := Unsecret(r.Inputs[resource.PropertyKey(key)])
	if v.IsObject() {
		return v.ObjectValue()
	}
	return nil
}

// Unsecret strips secret wrappers.
func Unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// PropString formats a scalar property value.
func PropString(v resource.PropertyValue) string {
	v = Unsecret(v)
	switch {
	case v.IsString():
		return v.StringValue()
	case v.IsNumber():
		return fmt.Sprint(v.NumberValue())
	case v.IsBool():
		return fmt.Sprint(v.BoolValue())
	}
	return ""
}

// Mocks implements pulumi.MockResourceMonitor.
type Mocks struct {
	Project, Stack string
	// Compute returns the physical ID and outputs of a new custom resource.
	Compute func(r *Resource) (string, resource.PropertyMap)
	// Invoke answers a function call; unknown tokens must be errors.
	Invoke func(token string, args resource.PropertyMap) (resource.PropertyMap, error)

	mu        sync.Mutex
	Resources []*Resource
	ByID      map[string]*Resource
	Calls     []string
	// CallProviders is the explicit provider each invoke token was last called through.
	CallProviders map[string]string
	// Invokes are every invoke in order, with its arguments and provider.
	Invokes []Invoke
}

// Invoke is one function call the program made.
type Invoke struct {
	Token    string
	Provider string // the explicit provider's reference ("urn::id"), "" for the default
	Args     resource.PropertyMap
}

// NewResource records the registration and returns what Compute says AWS would.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ByID == nil {
		m.ByID = map[string]*Resource{}
	}
	rpc := args.RegisterRPC
	parentType := tokens.Type("")
	if p := resource.URN(rpc.GetParent()); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	urn := string(resource.NewURN(tokens.QName(m.Stack), tokens.PackageName(m.Project), parentType, tokens.Type(args.TypeToken), args.Name))
	deps := map[string]bool{}
	for _, d := range rpc.GetDependencies() {
		deps[d] = true
	}
	propDeps := map[string][]string{}
	for prop, pd := range rpc.GetPropertyDependencies() {
		for _, d := range pd.GetUrns() {
			deps[d] = true
			propDeps[prop] = append(propDeps[prop], d)
		}
	}
	r := &Resource{Type: args.TypeToken, Name: args.Name, URN: urn, Parent: rpc.GetParent(),
		Custom: args.Custom, Protect: rpc.GetProtect(), RetainOnDelete: rpc.GetRetainOnDelete(), Inputs: args.Inputs, PropDeps: propDeps,
		Aliases: m.aliasURNs(args), IgnoreChanges: rpc.GetIgnoreChanges(), ReplaceOnChanges: rpc.GetReplaceOnChanges(),
		Provider: args.Provider}
	for d := range deps {
		r.Deps = append(r.Deps, d)
	}
	sort.Strings(r.Deps)
	m.Resources = append(m.Resources, r)
	// A read (a stack reference) is a custom resource too, with state to return.
	r.Custom = args.Custom || args.ReadRPC != nil
	if !r.Custom {
		return urn, resource.PropertyMap{}, nil
	}
	id, outs := m.Compute(r)
	r.Outputs = outs
	m.ByID[id] = r
	return id, outs, nil
}

// aliasURNs turns the alias specs of a registration into the URNs they stand for, as the
// engine would: unset fields default to the resource's own name, type, project and stack.
func (m *Mocks) aliasURNs(args pulumi.MockResourceArgs) []string {
	var out []string
	for _, a := range args.RegisterRPC.GetAliases() {
		if u := a.GetUrn(); u != "" {
			out = append(out, u)
			continue
		}
		spec := a.GetSpec()
		name, typ, project, stack := args.Name, args.TypeToken, m.Project, m.Stack
		if spec.GetName() != "" {
			name = spec.GetName()
		}
		if spec.GetType() != "" {
			typ = spec.GetType()
		}
		if spec.GetProject() != "" {
			project = spec.GetProject()
		}
		if spec.GetStack() != "" {
			stack = spec.GetStack()
		}
		parentType := tokens.Type("")
		if p := resource.URN(spec.GetParentUrn()); p != "" && !spec.GetNoParent() && p.QualifiedType() != resource.RootStackType {
			parentType = p.QualifiedType()
		}
		out = append(out, string(resource.NewURN(tokens.QName(stack), tokens.PackageName(project), parentType, tokens.Type(typ), name)))
	}
	return out
}

// Call records the invoke and answers it.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.Calls = append(m.Calls, args.Token)
	m.Invokes = append(m.Invokes, Invoke{Token: args.Token, Provider: args.Provider, Args: args.Args})
	if args.Provider != "" {
		if m.CallProviders == nil {
			m.CallProviders = map[string]string{}
		}
		m.CallProviders[args.Token] = args.Provider
	}
	m.mu.Unlock()
	return m.Invoke(args.Token, args.Args)
}

// OfType returns the resources of a type (registration order is not deterministic).
func (m *Mocks) OfType(typ string) []*Resource {
	var out []*Resource
	for _, x := range m.Resources {
		if x.Type == typ {
			out = append(out, x)
		}
	}
	return out
}

// Named returns the resource of a type with a logical name, or nil.
func (m *Mocks) Named(typ, name string) *Resource {
	for _, x := range m.OfType(typ) {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Run runs a program under these mocks with the given config. build creates the resources
// and returns the stack outputs, which Run exports and hands back resolved.
func (m *Mocks) Run(config map[string]string, build func(ctx *pulumi.Context) (pulumi.Map, error)) (map[string]any, error) {
	outputs := map[string]any{}
	var mu sync.Mutex
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		exports, err := build(ctx)
		if err != nil {
			return err
		}
		for k, v := range exports {
			ctx.Export(k, pulumi.ToOutput(v).ApplyT(func(x any) any {
				mu.Lock()
				outputs[k] = x
				mu.Unlock()
				return x
			}))
		}
		return nil
	}, pulumi.WithMocks(m.Project, m.Stack, m), func(info *pulumi.RunInfo) { info.Config = config })
	return outputs, err
}
