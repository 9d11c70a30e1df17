package gatehouse

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionFrom finds Gatehouse's version in the build information of
// each kind of binary: built from this repository (a stamped version, or
// a Git revision, or nothing), built with Gatehouse as a dependency
// (xcaddy), with a replace directive, and without Gatehouse at all.
func TestVersionFrom(t *testing.T) {
	dep := func(m debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{
			Main: debug.Module{Path: "caddy", Version: "(devel)"},
			Deps: []*debug.Module{{Path: "github.com/caddyserver/caddy/v2", Version: "v2.11.9"}, &m},
		}
	}
	for name, c := range map[string]struct {
		bi   *debug.BuildInfo
		want string
	}{
		"repository, tagged": {&debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.3"}}, "v1.2.3"},
		"repository, pseudo-version": {
			&debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.0.0-20260101120000-0123456789ab+dirty"}},
			"v0.0.0-20260101120000-0123456789ab+dirty",
		},
		"repository, revision only": {
			&debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"},
			}},
			"(devel) 0123456789abcdef+modified",
		},
		"repository, no VCS":  {&debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "(devel)"},
		"dependency":          {dep(debug.Module{Path: modulePath, Version: "v0.4.0", Sum: "h1:x"}), "v0.4.0"},
		"dependency, replace": {dep(debug.Module{Path: modulePath, Version: "v0.4.0", Replace: &debug.Module{Path: "../gatehouse"}}), "v0.4.0 => ../gatehouse"},
		"dependency, replace with version": {
			dep(debug.Module{Path: modulePath, Version: "v0.4.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v0.4.1"}}),
			"v0.4.0 => example.com/fork@v0.4.1",
		},
		"absent": {&debug.BuildInfo{Main: debug.Module{Path: "caddy"}}, "unknown"},
	} {
		if got := versionFrom(c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
	// This test binary is built from this repository.
	if v := Version(); v == "unknown" || strings.TrimSpace(v) == "" {
		t.Errorf("Version() = %q in a test of this module", v)
	}
}
