package rules

// The pack's per-stack config files (policy/config/*.json), in the format
// `pulumi preview --policy-pack-config` takes: a policy name maps to an enforcement level,
// or to an object with "enforcementLevel" and the policy's own properties.

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

var levelNames = map[string]policyx.EnforcementLevel{
	"advisory":  policyx.EnforcementLevelAdvisory,
	"mandatory": policyx.EnforcementLevelMandatory,
	"disabled":  policyx.EnforcementLevelDisabled,
}

// Config is a parsed config file: the effective level of every policy and each policy's
// properties.
type Config struct {
	Levels     map[string]policyx.EnforcementLevel
	Properties map[string]map[string]any
}

// ParseConfig applies a config file over the default levels. Unknown policies and levels
// are errors, as the engine would report them.
func ParseConfig(data []byte) (Config, error) {
	c := Config{Levels: map[string]policyx.EnforcementLevel{}, Properties: map[string]map[string]any{}}
	for k, v := range Levels {
		c.Levels[k] = v
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return c, fmt.Errorf("policy config: %w", err)
	}
	for name, msg := range raw {
		if _, ok := Levels[name]; !ok && name != "all" {
			return c, fmt.Errorf("policy config: no policy named %q", name)
		}
		var level string
		props := map[string]any{}
		if err := json.Unmarshal(msg, &level); err != nil {
			if err := json.Unmarshal(msg, &props); err != nil {
				return c, fmt.Errorf("policy config %s: want a level or an object: %w", name, err)
			}
			level, _ = props["enforcementLevel"].(string)
			delete(props, "enforcementLevel")
		}
		if level != "" {
			l, ok := levelNames[level]
			if !ok {
				return c, fmt.Errorf("policy config %s: unknown enforcement level %q", name, level)
			}
			if name == "all" {
				for k := range c.Levels {
					c.Levels[k] = l
				}
				continue
			}
			c.Levels[name] = l
		}
		c.Properties[name] = props
	}
	return c, nil
}
