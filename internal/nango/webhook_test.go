package nango

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// Webhook bodies as Nango sends them: stableStringify, keys sorted, no
// whitespace (section B of the reference).
const (
	authCreationWebhook = `{"authMode":"OAUTH2","connectionId":"3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11","endUser":{"endUserEmail":"a@b.c","endUserId":"u_1","organizationId":"org_1","tags":{}},` +
		`"environment":"dev","from":"nango","operation":"creation","provider":"github","providerConfigKey":"github",` +
		`"success":true,"tags":{"end_user_id":"u_1","organization_id":"org_1"},"type":"auth"}`

	appOverrideWebhook = `{"authMode":"CUSTOM","connectionId":"7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b","environment":"prod","from":"nango","operation":"override",` +
		`"provider":"github-app-oauth","providerConfigKey":"github-app-oauth","success":true,"tags":{"end_user_email":"a@b.c","end_user_id":"u_7"},"type":"auth"}`

	authFailureWebhook = `{"authMode":"OAUTH2","connectionId":"3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11","endUser":{"endUserEmail":"a@b.c","endUserId":"u_1","tags":{}},"environment":"dev",` +
		`"error":{"description":"Error during the OAuth flow: access_denied","type":"oauth_error"},"from":"nango","operation":"creation","provider":"github",` +
		`"providerConfigKey":"github","success":false,"tags":{"end_user_id":"u_1"},"type":"auth"}`

	refreshFailureWebhook = `{"authMode":"OAUTH2","connectionId":"3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11","environment":"prod",` +
		`"error":{"description":"The external API returned an error when trying to refresh the access token. Please try again later.","type":"refresh_token_external_error"},` +
		`"from":"nango","operation":"refresh","provider":"github","providerConfigKey":"github","success":false,"tags":{"end_user_id":"u_9","organization_id":"org_2"},"type":"auth"}`

	syncWebhook = `{"checkpoints":{"from":null,"to":{"since":"2026-08-21T10:00:00.000Z"}},"connectionId":"7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b","from":"nango","model":"Repo",` +
		`"modifiedAfter":"2026-08-21T10:00:00.000Z","providerConfigKey":"github-app-oauth","queryTimeStamp":"2026-08-21T10:00:00.000Z",` +
		`"responseResults":{"added":3,"deleted":0,"updated":0},"success":true,"syncName":"repos","syncType":"INCREMENTAL","syncVariant":"base","type":"sync"}`

	syncFailureWebhook = `{"connectionId":"7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b","error":{"description":"Sync script failed","type":"script_error"},` +
		`"failedAt":"2026-08-21T10:01:00.000Z","from":"nango","model":"Repo","providerConfigKey":"github-app-oauth","startedAt":"2026-08-21T10:00:00.000Z",` +
		`"success":false,"syncName":"repos","syncType":"INCREMENTAL","syncVariant":"base","type":"sync"}`

	githubInstallationBody = `{"action":"created","installation":{"id":48291734,"account":{"login":"acme","id":9919,"type":"Organization"},"app_id":123456,` +
		`"target_type":"Organization","repository_selection":"all"},"requester":{"login":"octocat","id":1},"sender":{"login":"octocat","id":1,"type":"User"}}`

	forwardWebhook = `{"connectionId":"7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b","from":"github-app-oauth","payload":` + githubInstallationBody +
		`,"providerConfigKey":"github-app-oauth","type":"forward"}`
)

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        Webhook
		wantEndUser string
	}{
		{
			name: "auth creation",
			body: authCreationWebhook,
			want: Webhook{
				Type: "auth", From: "nango", ConnectionID: "3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11", ProviderConfigKey: "github", Provider: "github",
				Environment: "dev", Operation: "creation", AuthMode: "OAUTH2", Success: true,
				Tags:    map[string]string{"end_user_id": "u_1", "organization_id": "org_1"},
				EndUser: &WebhookEndUser{EndUserID: "u_1", EndUserEmail: "a@b.c", OrganizationID: "org_1"},
			},
			wantEndUser: "u_1",
		},
		{
			name: "github-app-oauth override, tags only",
			body: appOverrideWebhook,
			want: Webhook{
				Type: "auth", From: "nango", ConnectionID: "7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b", ProviderConfigKey: "github-app-oauth", Provider: "github-app-oauth",
				Environment: "prod", Operation: "override", AuthMode: "CUSTOM", Success: true,
				Tags: map[string]string{"end_user_email": "a@b.c", "end_user_id": "u_7"},
			},
			wantEndUser: "u_7",
		},
		{
			name: "auth failure",
			body: authFailureWebhook,
			want: Webhook{
				Type: "auth", From: "nango", ConnectionID: "3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11", ProviderConfigKey: "github", Provider: "github",
				Environment: "dev", Operation: "creation", AuthMode: "OAUTH2",
				Tags:    map[string]string{"end_user_id": "u_1"},
				EndUser: &WebhookEndUser{EndUserID: "u_1", EndUserEmail: "a@b.c"},
				Error:   &WebhookError{Type: "oauth_error", Description: "Error during the OAuth flow: access_denied"},
			},
			wantEndUser: "u_1",
		},
		{
			name: "refresh failure without endUser",
			body: refreshFailureWebhook,
			want: Webhook{
				Type: "auth", From: "nango", ConnectionID: "3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11", ProviderConfigKey: "github", Provider: "github",
				Environment: "prod", Operation: "refresh", AuthMode: "OAUTH2",
				Tags: map[string]string{"end_user_id": "u_9", "organization_id": "org_2"},
				Error: &WebhookError{Type: "refresh_token_external_error",
					Description: "The external API returned an error when trying to refresh the access token. Please try again later."},
			},
			wantEndUser: "u_9",
		},
		{
			name: "endUser only",
			body: `{"authMode":"OAUTH2","connectionId":"c1","endUser":{"endUserEmail":"a@b.c","endUserId":"u_5"},"from":"nango","operation":"creation","provider":"github","providerConfigKey":"github","success":true,"type":"auth"}`,
			want: Webhook{
				Type: "auth", From: "nango", ConnectionID: "c1", ProviderConfigKey: "github", Provider: "github",
				Operation: "creation", AuthMode: "OAUTH2", Success: true,
				EndUser: &WebhookEndUser{EndUserID: "u_5", EndUserEmail: "a@b.c"},
			},
			wantEndUser: "u_5",
		},
		{
			name: "tags win over endUser; non-string tags ignored",
			body: `{"endUser":{"endUserId":"old"},"tags":{"end_user_id":"new","n":1,"o":{},"z":null},"type":"auth"}`,
			want: Webhook{
				Type: "auth", Tags: map[string]string{"end_user_id": "new"},
				EndUser: &WebhookEndUser{EndUserID: "old"},
			},
			wantEndUser: "new",
		},
		{
			name: "empty tag falls back to endUser",
			body: `{"endUser":{"endUserId":"old"},"tags":{"end_user_id":""},"type":"auth"}`,
			want: Webhook{
				Type: "auth", Tags: map[string]string{"end_user_id": ""},
				EndUser: &WebhookEndUser{EndUserID: "old"},
			},
			wantEndUser: "old",
		},
		{
			name: "non-string end_user_id tag falls back to endUser",
			body: `{"endUser":{"endUserId":"old"},"tags":{"end_user_id":42},"type":"auth"}`,
			want: Webhook{
				Type: "auth", Tags: map[string]string{},
				EndUser: &WebhookEndUser{EndUserID: "old"},
			},
			wantEndUser: "old",
		},
		{
			name: "sync",
			body: syncWebhook,
			want: Webhook{
				Type: "sync", From: "nango", ConnectionID: "7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b", ProviderConfigKey: "github-app-oauth",
				Success: true, SyncName: "repos", Model: "Repo",
			},
		},
		{
			name: "sync failure",
			body: syncFailureWebhook,
			want: Webhook{
				Type: "sync", From: "nango", ConnectionID: "7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b", ProviderConfigKey: "github-app-oauth",
				SyncName: "repos", Model: "Repo",
				Error: &WebhookError{Type: "script_error", Description: "Sync script failed"},
			},
		},
		{
			name: "attributed forward",
			body: forwardWebhook,
			want: Webhook{
				Type: "forward", From: "github-app-oauth", ConnectionID: "7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b", ProviderConfigKey: "github-app-oauth",
				Payload: json.RawMessage(githubInstallationBody),
			},
		},
		{
			name: "unattributed forward is the raw provider body",
			body: githubInstallationBody,
			want: Webhook{},
		},
		{
			name: "unknown type and fields, surrounding whitespace, null payload",
			body: " \n\t{\"type\":\"async_action\",\"id\":\"a1\",\"payload\":null,\"tags\":null,\"endUser\":null,\"error\":null}\r\n",
			want: Webhook{Type: "async_action"},
		},
		{
			name: "empty object",
			body: `{}`,
			want: Webhook{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", *got, tt.want)
			}
			if id := got.EndUserID(); id != tt.wantEndUser {
				t.Errorf("EndUserID() = %q, want %q", id, tt.wantEndUser)
			}
		})
	}
}

func TestParseWebhookPayloadIsACopy(t *testing.T) {
	body := []byte(forwardWebhook)
	w, err := ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	if !bytes.Equal(w.Payload, []byte(githubInstallationBody)) {
		t.Error("Payload aliases the body")
	}
}

func TestParseWebhookRejects(t *testing.T) {
	for _, body := range []string{
		``,
		` `,
		`null`,
		`[]`,
		`[{"type":"auth"}]`,
		`"auth"`,
		`1`,
		`true`,
		`{`,
		`{"type":"auth"}{}`,
		`{"type":"auth"} x`,
		`{"type":"auth",}`,
		`{"type":5}`,
		`{"success":"true"}`,
		`{"tags":["u_1"]}`,
		`{"tags":"u_1"}`,
		`{"endUser":"u_1"}`,
		`{"error":"boom"}`,
		`{"connectionId":{}}`,
		"\xef\xbb\xbf{}",
	} {
		if w, err := ParseWebhook([]byte(body)); err == nil {
			t.Errorf("ParseWebhook(%q) = %+v, want an error", body, w)
		} else if len(err.Error()) < 7 || err.Error()[:7] != "nango: " {
			t.Errorf("error %q lacks the nango: prefix", err)
		}
	}
}

func TestEndUserIDNil(t *testing.T) {
	var w *Webhook
	if w.EndUserID() != "" {
		t.Error("nil webhook has an end user")
	}
	if (&Webhook{}).EndUserID() != "" {
		t.Error("empty webhook has an end user")
	}
}
