package main

// Handing the servers a restored uploads file system by configuration (docs/operations.md,
// "Restoring the uploads"). `cmd/backup restore` puts a recovery point into a NEW file system
// outside the stack; uploadsRestore names it: {"id": a label, "fileSystemId": "fs-...",
// "path": where the uploads folder is inside it}. The up then gives that file system what the
// stack's own has (mount targets in the private subnets with the uploads group, an access point
// rooted at path as the web server's user, the TLS + IAM file-system policy, a backup policy)
// and points the settings at it: the servers remount through the settings association. The
// file system itself is not managed: a destroy removes what the stack added to it and leaves
// it. The stack's own file system stays as it is.
//
// The last deploy's output uploadsRestore remembers which restore serves. Clearing the key, or
// changing its fileSystemId or path under the same id, would hand the servers other data by
// accident: refused. {"id": ..., "fileSystemId": "own"} is the deliberate way back to the
// stack's own file system.

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/example/scalable-wordpress/internal/stack"
)

// uploadsOwnFS is the fileSystemId that hands the servers the stack's own file system again.
const uploadsOwnFS = "own"

// uploadsRestoreDefaultPath is where the uploads are in a restore of one item (the access
// point's root of the stack's own file system).
const uploadsRestoreDefaultPath = "/uploads"

// UploadsRestore is the uploadsRestore key; zero when the key is absent or {}.
type UploadsRestore = stack.UploadsRestore

var (
	fileSystemIDRe = regexp.MustCompile(`^fs-[0-9a-f]{8,40}$`)
	// An EFS access point's root directory: printable, no quotes, at most 100 characters.
	uploadsPathRe = regexp.MustCompile(`^/[A-Za-z0-9._/+@:=-]{0,99}$`)
)

const uploadsRestoreForm = `want {"id": "<label: a-z, 0-9 and hyphens, 1 to 20>", "fileSystemId": "fs-..." (cmd/backup restore's file system) | "own" (back to the stack's own), "path": "<the uploads folder inside it; default /uploads>"}, or {} for the stack's own file system`

// parseUploadsRestore checks the key's shape (planUploads checks it against the last deploy).
func parseUploadsRestore(raw map[string]string) (UploadsRestore, error) {
	if len(raw) == 0 {
		return UploadsRestore{}, nil
	}
	shown := fmt.Sprintf("%v", raw)
	for k := range raw {
		if k != "id" && k != "fileSystemId" && k != "path" {
			return UploadsRestore{}, invalid("uploadsRestore", shown, "unknown field %q: %s", k, uploadsRestoreForm)
		}
	}
	r := UploadsRestore{ID: raw["id"], FileSystemID: raw["fileSystemId"], Path: raw["path"]}
	switch {
	case !restoreIDRe.MatchString(r.ID):
		return r, invalid("uploadsRestore", shown, "id %q: %s", r.ID, uploadsRestoreForm)
	case r.FileSystemID == uploadsOwnFS:
		if r.Path != "" {
			return r, invalid("uploadsRestore", shown, `path: the stack's own file system serves /uploads; drop path with "fileSystemId": "own"`)
		}
		return r, nil
	case !fileSystemIDRe.MatchString(r.FileSystemID):
		return r, invalid("uploadsRestore", shown, "fileSystemId %q: %s", r.FileSystemID, uploadsRestoreForm)
	}
	if r.Path == "" {
		r.Path = uploadsRestoreDefaultPath
	}
	if !uploadsPathRe.MatchString(r.Path) || path.Clean(r.Path) != r.Path || strings.Contains(r.Path, "..") {
		return r, invalid("uploadsRestore", shown, "path %q: want an absolute path without \"..\", e.g. /uploads or /aws-backup-restore_2026-12-04T10-00-00-000Z/uploads", r.Path)
	}
	return r, nil
}

// restored reports whether r hands the servers a restored file system (not absent, not "own").
func restored(r UploadsRestore) bool {
	return r.FileSystemID != "" && r.FileSystemID != uploadsOwnFS
}

// planUploads is the restored file system this up serves from; zero for the stack's own. It
// refuses to leave a restore that served the last deploy except deliberately.
func planUploads(cfg Config, last lastDeploy) (UploadsRestore, error) {
	want, was := cfg.UploadsRestore, last.UploadsRestore
	if was.FileSystemID != "" {
		back := fmt.Sprintf(`to go back to the stack's own file system (its data as before the restore), set {"id": "%s", "fileSystemId": "%s"}; to hand over another restore, use a new id`, was.ID, uploadsOwnFS)
		switch {
		case want.ID == "":
			return UploadsRestore{}, invalid("uploadsRestore", "{}", "the servers use the restored file system %s (id %q) since the last deploy; clearing the key would hand them the stack's own file system, the data before the restore: %s", was.FileSystemID, was.ID, back)
		case want.ID == was.ID && want.FileSystemID != uploadsOwnFS && want != was:
			return UploadsRestore{}, invalid("uploadsRestore", fmt.Sprintf("%+v", want), "id %q serves file system %s at %s since the last deploy; a changed fileSystemId or path under the same id is refused: %s", was.ID, was.FileSystemID, was.Path, back)
		}
	}
	if !restored(want) {
		return UploadsRestore{}, nil
	}
	return want, nil
}
