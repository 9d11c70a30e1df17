// Package github is the GitHub client Gatehouse uses: the OAuth web flow
// (OAuth Apps and GitHub App user authorization), the REST calls that tell
// who a user is and what they can reach (emails, orgs, teams, GitHub App
// installations and their repositories), GitHub App server-to-server
// authentication, and webhook verification and parsing.
//
// It talks to github.com by default and to GitHub Enterprise Server when
// [Endpoints] names one. Errors never contain a token, a client secret, a
// code or key material.
package github
