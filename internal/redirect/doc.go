// Package redirect validates where a browser may be sent after login or
// logout.
//
// A redirect target comes from the request (the rd parameter) or from login
// state, so it is attacker-controlled. Validator.Target turns it into either
// a same-origin relative reference, an absolute URL on the site's own origin
// or on an operator-allowed host, or the default "/". The checks follow the
// open-redirect bypasses that have hit other auth proxies (oauth2-proxy
// CVE-2020-5233, CVE-2020-11053, CVE-2020-4037 and GHSA-4mf2-f3wh-gvf2):
// backslashes, encoded slashes and whitespace, protocol-relative and
// scheme-relative references, userinfo and lookalike hosts.
package redirect
