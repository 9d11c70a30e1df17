package module

import (
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// siteHosts finds, once per server, the host names of the routes that lead
// to this handler, from the server's host matchers. A site address such as
// app.example.com becomes such a matcher; a catch-all site (":8080") has
// none, and then the handler needs external_url to know its own origin.
type siteHosts struct {
	once  sync.Once
	hosts []string
}

func (s *siteHosts) lookup(h *Handler, r *http.Request) []string {
	s.once.Do(func() {
		srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
		if !ok {
			return
		}
		s.hosts, _ = findHosts(srv.Routes, h, nil)
	})
	return s.hosts
}

// findHosts walks routes (and subroutes) looking for target, collecting the
// host matchers on the way. It returns the innermost host list that gates
// target, and whether target was found.
func findHosts(routes caddyhttp.RouteList, target caddyhttp.MiddlewareHandler, outer []string) ([]string, bool) {
	for _, route := range routes {
		hosts := outer
		for _, set := range route.MatcherSets {
			for _, m := range set {
				switch mh := m.(type) {
				case *caddyhttp.MatchHost:
					hosts = append(append([]string(nil), hosts...), (*mh)...)
				case caddyhttp.MatchHost:
					hosts = append(append([]string(nil), hosts...), mh...)
				}
			}
		}
		for _, handler := range route.Handlers {
			if handler == target {
				return hosts, true
			}
			if sub, ok := handler.(*caddyhttp.Subroute); ok {
				if found, ok := findHosts(sub.Routes, target, hosts); ok {
					return found, true
				}
			}
		}
	}
	return nil, false
}
