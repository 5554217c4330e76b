package main

import (
	"testing"

	"github.com/example/scalable-wordpress/internal/images"
)

// The golden image outlives its replacement and the stack: Pulumi only forgets it, so that a
// refresh that rolls back can launch the image of the release before; cmd/rollout prunes the
// images by the tags the program gives them. Nothing else of the stack is retained.
func TestGoldenImageIsRetainedAndFoundByItsTags(t *testing.T) {
	for name, cfg := range map[string]map[string]string{"autoscaling": nil, "fixed": {"webTierMode": "fixed"}} {
		t.Run(name, func(t *testing.T) {
			r := mustRun(t, cfg)
			ami := r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance")
			if !ami.RetainOnDelete {
				t.Errorf("%s: registered without retainOnDelete: a replacement would deregister the image a rollback launches", ami.URN)
			}
			for _, x := range r.m.Resources {
				if x.RetainOnDelete && x != ami {
					t.Errorf("%s: retained on delete; only the golden image outlives the stack (docs/operations.md)", x.URN)
				}
			}
			tags := ami.Obj("tags")
			for k, v := range images.Tags(testProject, testStack) {
				if got := propString(tags[resourceKey(k)]); got != v {
					t.Errorf("%s: tag %s = %q, want %q: the pruner (internal/images) looks for it", ami.URN, k, got, v)
				}
			}
			if r.outputs["imagesKept"] != 3 || r.cfg.ImagesKept != 3 {
				t.Errorf("output imagesKept = %v (config %d), want Pulumi.yaml's default 3", r.outputs["imagesKept"], r.cfg.ImagesKept)
			}
		})
	}
	if r := mustRun(t, map[string]string{"imagesKept": "2"}); r.outputs["imagesKept"] != 2 {
		t.Errorf("imagesKept 2: output %v", r.outputs["imagesKept"])
	}
}
