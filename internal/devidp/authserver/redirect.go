package authserver

import (
	"net/http"
	"net/url"
	"slices"
)

// RedirectBack sends the browser back to the client's target (a
// redirect_uri) with params and, when not empty, state added to its query;
// the answer is not to be cached.
func RedirectBack(w http.ResponseWriter, r *http.Request, target *url.URL, params url.Values, state string) {
	u := *target
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// CloneValues returns a deep copy of v (nil for nil): what a server's
// LastAuthorize records and hands out.
func CloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
