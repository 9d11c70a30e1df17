package gatehouse

import (
	"runtime/debug"
)

// modulePath is the Go module path of Gatehouse.
const modulePath = "github.com/gatehouse-auth/gatehouse"

// Version returns the version of Gatehouse compiled into the running
// binary, from its build information: the version of the
// github.com/gatehouse-auth/gatehouse module when Gatehouse was built as a
// dependency (xcaddy, a go.mod requiring it), or, when the binary was built
// from this repository (make build), the main module's version: the tag or
// pseudo-version Go stamps from Git (with "+dirty" for uncommitted
// changes), else the Git revision. "unknown" when there is no build
// information.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionFrom(bi)
}

// versionFrom finds Gatehouse's version in bi.
func versionFrom(bi *debug.BuildInfo) string {
	if bi.Main.Path == modulePath {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		var revision, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
		if revision != "" {
			return "(devel) " + revision + modified
		}
		return "(devel)"
	}
	for _, dep := range bi.Deps {
		if dep.Path != modulePath {
			continue
		}
		v := dep.Version
		if r := dep.Replace; r != nil {
			v += " => " + r.Path
			if r.Version != "" {
				v += "@" + r.Version
			}
		}
		return v
	}
	return "unknown"
}
