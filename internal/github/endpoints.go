package github

import (
	"fmt"
	"net/url"
	"strings"
)

// Default locations of github.com.
const (
	// DefaultWebURL is github.com's web origin (OAuth authorize and token
	// endpoints).
	DefaultWebURL = "https://github.com"
	// DefaultAPIURL is github.com's REST API base URL.
	DefaultAPIURL = "https://api.github.com"
	// enterpriseAPIPath is where GitHub Enterprise Server serves the REST
	// API under its web origin.
	enterpriseAPIPath = "/api/v3"
)

// Endpoints locate a GitHub instance. Zero values mean github.com.
type Endpoints struct {
	// WebURL is the web origin serving /login/oauth/*. Default:
	// https://github.com.
	WebURL string
	// APIURL is the REST API base URL. Default: https://api.github.com
	// when WebURL is empty too, and WebURL + "/api/v3" (GitHub Enterprise
	// Server) when only WebURL is set.
	APIURL string
}

// WithDefaults returns e with empty fields filled in as documented on
// [Endpoints] and trailing slashes removed.
func (e Endpoints) WithDefaults() Endpoints {
	web := strings.TrimRight(e.WebURL, "/")
	api := strings.TrimRight(e.APIURL, "/")
	switch {
	case web == "" && api == "":
		web, api = DefaultWebURL, DefaultAPIURL
	case web == "":
		web = DefaultWebURL
	case api == "":
		api = web + enterpriseAPIPath
	}
	return Endpoints{WebURL: web, APIURL: api}
}

// ParseEndpoints checks a configured web and API URL (each "" for the
// default) and returns them with defaults filled in.
func ParseEndpoints(web, api string) (Endpoints, error) {
	e := Endpoints{WebURL: web, APIURL: api}
	for _, u := range []string{e.WebURL, e.APIURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return e, fmt.Errorf("%q must be an absolute http(s) URL", u)
		}
	}
	return e.WithDefaults(), nil
}
