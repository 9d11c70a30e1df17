package fakegithub

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/devidp/authserver"
)

// gitHubDocsURL is the documentation_url of generic REST errors.
const gitHubDocsURL = "https://docs.github.com/rest"

// gitHubUnauthenticatedLimit is the hourly limit for requests without a
// token.
const gitHubUnauthenticatedLimit = 60

// gitHubError is the REST API's error body.
type gitHubError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

// writeGitHubJSON sends v as compact JSON, as GitHub does.
var writeGitHubJSON = authserver.JSON{}.Write

// writeGitHubError sends a REST error {"message","documentation_url"}.
func writeGitHubError(w http.ResponseWriter, status int, message, docURL string) {
	if docURL == "" {
		docURL = gitHubDocsURL
	}
	writeGitHubJSON(w, status, gitHubError{Message: message, DocumentationURL: docURL})
}

// writeGitHubFailure sends the canned error of FailNext.
func writeGitHubFailure(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusUnauthorized:
		writeGitHubError(w, status, "Bad credentials", "")
	case http.StatusForbidden:
		writeGitHubError(w, status, "Resource not accessible by integration", "")
	case http.StatusNotFound:
		writeGitHubError(w, status, "Not Found", "")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "60")
		writeGitHubError(w, status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits")
	default:
		writeGitHubError(w, status, http.StatusText(status), "")
	}
}

// writeGitHubPage sends a small HTML page.
func writeGitHubPage(w http.ResponseWriter, status int, title, bodyHTML string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s · GitHub (fake)</title></head>\n<body>\n<h1>%s</h1>\n%s\n</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), bodyHTML)
}

// newGitHubToken returns prefix + "_" + random authserver.Base62 characters, the
// shape of GitHub's tokens: 40 characters in all (76 for ghr_).
func newGitHubToken(prefix string) string {
	n := 36
	if prefix == "ghr" {
		n = 76
	}
	return prefix + "_" + authserver.RandomString(authserver.Base62, n)
}

// nodeID is a legacy GraphQL node ID, e.g. MDQ6VXNlcjE= for User 1.
func nodeID(typ string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "0%d:%s%d", len(typ), typ, id))
}

// FormatTime formats t as GitHub's REST API does.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// pagination is one page of a list of total items.
type pagination struct {
	lo, hi int // items[lo:hi]
}

// paginate reads per_page (default 30, at most 100) and page (default 1)
// from r, sets the Link header GitHub sends (rel prev, next, last, first,
// with absolute URLs on the API base), and returns the page's bounds.
func (g *GitHub) paginate(w http.ResponseWriter, r *http.Request, total int) pagination {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = 30
	}
	per = min(per, 100)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := max(1, (total+per-1)/per)
	link := func(p int, rel string) string {
		lq := url.Values{}
		for k, v := range q {
			lq[k] = v
		}
		lq.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, g.URL, r.URL.Path, lq.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := total
	if page-1 <= total/per { // else past the end (and (page-1)*per could overflow)
		lo = min((page-1)*per, total)
	}
	return pagination{lo: lo, hi: min(lo+per, total)}
}

// rateHeaders counts a request against key's hourly window (when count is
// true), sets the x-ratelimit-* headers, and reports whether the window
// was already used up.
func (g *GitHub) rateHeaders(w http.ResponseWriter, key string, limit int, count bool) (exceeded bool) {
	g.mu.Lock()
	now := g.Now()
	win := g.rates[key]
	if win == nil || !now.Before(win.reset) {
		win = &rateWindow{reset: now.Add(time.Hour).Truncate(time.Second)}
		g.rates[key] = win
	}
	if count && win.used < limit {
		win.used++
	} else if count {
		exceeded = true
	}
	used, reset := win.used, win.reset
	g.mu.Unlock()
	h := w.Header()
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-Ratelimit-Used", strconv.Itoa(used))
	h.Set("X-Ratelimit-Resource", "core")
	return exceeded
}

// setRateHeaders sets the x-ratelimit-* headers of a FailNext answer
// without counting it.
func (g *GitHub) setRateHeaders(w http.ResponseWriter, key string) {
	g.mu.Lock()
	limit := g.rateLimit
	g.mu.Unlock()
	g.rateHeaders(w, key, limit, false)
}
