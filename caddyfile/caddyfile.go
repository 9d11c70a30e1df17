// Package caddyfile parses the gatehouse Caddyfile directive.
package caddyfile
