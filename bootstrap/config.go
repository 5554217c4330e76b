package main

// Config of the bootstrap stack, validated before anything is created.

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Config holds the bootstrap's settings; field comments name the key.
type Config struct {
	Region             string // aws:region
	Repository         string // githubRepository: owner/name
	Environment        string // deployEnvironment
	PreviewEnvironment string // previewEnvironment
	StackProject       string // stackProject
	CreateOIDCProvider bool   // createOidcProvider
}

var (
	repositoryRe  = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
	environmentRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)
	projectRe     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

func loadConfig(ctx *pulumi.Context) (Config, error) {
	c := Config{Environment: "production", PreviewEnvironment: "preview", StackProject: "scalable-wordpress", CreateOIDCProvider: true}
	cfg := config.New(ctx, "")
	c.Region = config.New(ctx, "aws").Get("region")
	if c.Region == "" {
		return c, fmt.Errorf("config aws:region is not set: `pulumi config set aws:region ap-northeast-1`")
	}
	c.Repository = cfg.Get("githubRepository")
	if !repositoryRe.MatchString(c.Repository) {
		return c, fmt.Errorf("config githubRepository: %q is not valid: want owner/name of the GitHub repository, e.g. example/scalable-wordpress", c.Repository)
	}
	if v := cfg.Get("deployEnvironment"); v != "" {
		c.Environment = v
	}
	if !environmentRe.MatchString(c.Environment) {
		return c, fmt.Errorf("config deployEnvironment: %q is not valid: want a GitHub environment name such as production", c.Environment)
	}
	if v := cfg.Get("previewEnvironment"); v != "" {
		c.PreviewEnvironment = v
	}
	if !environmentRe.MatchString(c.PreviewEnvironment) || c.PreviewEnvironment == c.Environment {
		return c, fmt.Errorf("config previewEnvironment: %q is not valid: want a GitHub environment name such as preview, other than deployEnvironment (%s)", c.PreviewEnvironment, c.Environment)
	}
	if v := cfg.Get("stackProject"); v != "" {
		c.StackProject = v
	}
	if !projectRe.MatchString(c.StackProject) {
		return c, fmt.Errorf("config stackProject: %q is not valid: want the Pulumi project name, e.g. scalable-wordpress", c.StackProject)
	}
	if v := cfg.Get("createOidcProvider"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("config createOidcProvider: %q is not valid: want true or false", v)
		}
		c.CreateOIDCProvider = b
	}
	return c, nil
}

func (c Config) tags(name string) pulumi.StringMap {
	return pulumi.StringMap{
		"Name":       pulumi.String(c.StackProject + "-pipeline-" + name),
		"project":    pulumi.String(c.StackProject),
		"stack":      pulumi.String("bootstrap"),
		"managed-by": pulumi.String("pulumi"),
	}
}
