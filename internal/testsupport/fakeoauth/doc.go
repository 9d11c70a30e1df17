// Package fakeoauth holds fakes of generic OAuth providers for tests:
// OAuth2Fake, the OAuth 2.0 presets (GitLab, Microsoft, Gitee, Feishu/Lark
// and others) with each provider's documented wire shapes, and
// OAuth1Fake, an OAuth 1.0a (RFC 5849) provider shaped like Garmin's. Their
// authorization-server bookkeeping is internal/devidp/authserver.
package fakeoauth
