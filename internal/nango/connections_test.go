package nango

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Tokens in the fixtures. None may ever appear in an error.
const (
	oauthAppToken     = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
	appUserToken      = "ghu_2R9xPq7LmN4vB8cD1eF6gH3jK5sT0wYzA1bC"
	installationToken = "ghs_7Kx1Qw2Er3Ty4Ui5Op6As7Df8Gh9Jk0LzXcV"
	appJWT            = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiIxMjM0NTYifQ.c2lnbmF0dXJl"
)

// GET /connections/{id} answers, shaped like Nango's formatter output.
const (
	githubOAuthConnection = `{"id":123,"connection_id":"3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11","provider_config_key":"github","provider":"github",` +
		`"errors":[{"type":"auth","log_id":"k3l9x0b2m1"}],` +
		`"end_user":{"id":"u_1","display_name":null,"email":"a@b.c","tags":{},"organization":{"id":"org_1","display_name":null}},` +
		`"tags":{"end_user_id":"u_1","organization_id":"org_1"},"metadata":null,"connection_config":{},` +
		`"webhook_url_override":null,"created_at":"2026-08-21T09:58:12.345Z","updated_at":"2026-08-21T09:58:12.345Z","last_fetched_at":"2026-08-21T10:00:00.000Z",` +
		`"credentials":{"type":"OAUTH2","access_token":"` + oauthAppToken + `","raw":{"access_token":"` + oauthAppToken + `","token_type":"bearer","scope":"read:user,user:email"}}}`

	githubAppInstalledConnection = `{"id":124,"connection_id":"7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b","provider_config_key":"github-app-oauth","provider":"github-app-oauth",` +
		`"errors":[],"end_user":null,"tags":{"end_user_id":"u_1","end_user_email":"a@b.c"},"metadata":null,` +
		`"connection_config":{"app_id":"123456","handle":"octocat","installation_id":48291734,"jwtToken":"` + appJWT + `","pending":false,` +
		`"userCredentials":{"type":"OAUTH2","access_token":"` + appUserToken + `","expires_at":"2026-08-21T18:00:00.000Z",` +
		`"raw":{"access_token":"` + appUserToken + `","expires_in":28800,"refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"}}},` +
		`"webhook_url_override":null,"created_at":"2026-08-21T09:58:12.345Z","updated_at":"2026-08-21T10:02:40.118Z","last_fetched_at":"2026-08-21T10:05:00.000Z",` +
		`"credentials":{"type":"APP","access_token":"` + installationToken + `","expires_at":"2026-08-21T11:02:40.000Z",` +
		`"raw":{"token":"` + installationToken + `","expires_at":"2026-08-21T11:02:40Z","permissions":{"members":"read","metadata":"read"},"repository_selection":"all"}}}`

	githubAppPendingConnection = `{"id":125,"connection_id":"9c8b7a6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","provider_config_key":"github-app-oauth","provider":"github-app-oauth",` +
		`"errors":[],"end_user":null,"tags":{"end_user_id":"u_2"},"metadata":null,` +
		`"connection_config":{"app_id":"123456","handle":"hubot","pending":true},` +
		`"webhook_url_override":null,"created_at":"2026-08-21T09:58:12.345Z","updated_at":"2026-08-21T09:58:12.345Z","last_fetched_at":"2026-08-21T10:00:00.000Z",` +
		`"credentials":{"type":"OAUTH2","access_token":"` + appUserToken + `","expires_at":"2026-08-21T18:00:00.000Z",` +
		`"raw":{"access_token":"` + appUserToken + `","expires_in":28800,"refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"}}}`
)

func TestGetConnection(t *testing.T) {
	userExp := time.Date(2026, 8, 21, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		answer        string
		want          Connection
		wantUserToken string
	}{
		{
			name:   "github OAuth App",
			answer: githubOAuthConnection,
			want: Connection{
				ConnectionID: "3f1c8f8e-4c1b-4d2a-9a3e-0b7f1f8a2c11", ProviderConfigKey: "github", Provider: "github",
				Tags:        map[string]string{"end_user_id": "u_1", "organization_id": "org_1"},
				EndUserID:   "u_1",
				Credentials: Credentials{Type: "OAUTH2", AccessToken: oauthAppToken},
			},
			wantUserToken: oauthAppToken,
		},
		{
			name:   "github-app-oauth installed",
			answer: githubAppInstalledConnection,
			want: Connection{
				ConnectionID: "7b2d4e6f-1a3c-4e5f-8a9b-0c1d2e3f4a5b", ProviderConfigKey: "github-app-oauth", Provider: "github-app-oauth",
				Tags:            map[string]string{"end_user_id": "u_1", "end_user_email": "a@b.c"},
				Credentials:     Credentials{Type: "APP", AccessToken: installationToken, ExpiresAt: time.Date(2026, 8, 21, 11, 2, 40, 0, time.UTC)},
				InstallationID:  48291734,
				Handle:          "octocat",
				UserCredentials: &Credentials{Type: "OAUTH2", AccessToken: appUserToken, ExpiresAt: userExp},
			},
			wantUserToken: appUserToken,
		},
		{
			name:   "github-app-oauth pending approval",
			answer: githubAppPendingConnection,
			want: Connection{
				ConnectionID: "9c8b7a6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", ProviderConfigKey: "github-app-oauth", Provider: "github-app-oauth",
				Tags:        map[string]string{"end_user_id": "u_2"},
				Credentials: Credentials{Type: "OAUTH2", AccessToken: appUserToken, ExpiresAt: userExp},
				Pending:     true,
				Handle:      "hubot",
			},
			wantUserToken: appUserToken,
		},
		{
			name: "installation id as string, non-string tags, no credentials scope",
			answer: `{"id":1,"connection_id":"c1","provider_config_key":"gh","provider":"github-app-oauth","errors":[],"end_user":null,` +
				`"tags":{"end_user_id":"u_3","n":5,"b":true,"z":null,"o":{"k":"v"}},"metadata":null,` +
				`"connection_config":{"installation_id":"9007199254740993","pending":null,"handle":null,"userCredentials":null},"credentials":{}}`,
			want: Connection{
				ConnectionID: "c1", ProviderConfigKey: "gh", Provider: "github-app-oauth",
				Tags:           map[string]string{"end_user_id": "u_3"},
				InstallationID: 9007199254740993,
			},
		},
		{
			name:   "app credentials without user credentials",
			answer: `{"connection_id":"c2","provider_config_key":"gh","provider":"github-app-oauth","tags":null,"connection_config":{"installation_id":7},"credentials":{"type":"APP","access_token":"` + installationToken + `","expires_at":null}}`,
			want: Connection{
				ConnectionID: "c2", ProviderConfigKey: "gh", Provider: "github-app-oauth",
				Credentials:    Credentials{Type: "APP", AccessToken: installationToken},
				InstallationID: 7,
			},
		},
		{
			name:   "empty user credentials fall back to OAUTH2 credentials",
			answer: `{"connection_id":"c3","connection_config":{"userCredentials":{}},"credentials":{"type":"OAUTH2","access_token":"` + appUserToken + `"}}`,
			want: Connection{
				ConnectionID:    "c3",
				Credentials:     Credentials{Type: "OAUTH2", AccessToken: appUserToken},
				UserCredentials: &Credentials{},
			},
			wantUserToken: appUserToken,
		},
		{
			name:   "minimal",
			answer: `{"connection_id":"c4"}`,
			want:   Connection{ConnectionID: "c4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 200, tt.answer)
			got, err := f.client().GetConnection(context.Background(), "conn-1", "github-app-oauth")
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			checkRequest(t, f.only(t), "GET", "/connections/conn-1?provider_config_key=github-app-oauth", "")
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", *got, tt.want)
			}
			if tok := got.UserToken(); tok != tt.wantUserToken {
				t.Errorf("UserToken() = %q, want %q", tok, tt.wantUserToken)
			}
			if strings.HasPrefix(got.UserToken(), "ghs_") {
				t.Errorf("UserToken() returned the installation token")
			}
		})
	}
}

func TestUserToken(t *testing.T) {
	tests := []struct {
		name string
		conn *Connection
		want string
	}{
		{"nil connection", nil, ""},
		{"oauth2 credentials", &Connection{Credentials: Credentials{Type: "OAUTH2", AccessToken: oauthAppToken}}, oauthAppToken},
		{"app credentials only", &Connection{Credentials: Credentials{Type: "APP", AccessToken: installationToken}}, ""},
		{"app credentials and user credentials", &Connection{
			Credentials:     Credentials{Type: "APP", AccessToken: installationToken},
			UserCredentials: &Credentials{Type: "OAUTH2", AccessToken: appUserToken},
		}, appUserToken},
		{"user credentials win over oauth2", &Connection{
			Credentials:     Credentials{Type: "OAUTH2", AccessToken: oauthAppToken},
			UserCredentials: &Credentials{Type: "OAUTH2", AccessToken: appUserToken},
		}, appUserToken},
		{"empty user credentials and app credentials", &Connection{
			Credentials:     Credentials{Type: "APP", AccessToken: installationToken},
			UserCredentials: &Credentials{},
		}, ""},
		{"api key credentials", &Connection{Credentials: Credentials{Type: "API_KEY"}}, ""},
		{"lower-case type is not OAUTH2", &Connection{Credentials: Credentials{Type: "oauth2", AccessToken: oauthAppToken}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.conn.UserToken(); got != tt.want {
				t.Errorf("UserToken() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGetConnectionDecodeErrors(t *testing.T) {
	creds := `"credentials":{"type":"APP","access_token":"` + installationToken + `"}`
	tests := []struct {
		name   string
		answer string
	}{
		{"not JSON", `<html>oops</html>`},
		{"array", `[]`},
		{"installation id bool", `{"connection_config":{"installation_id":true},` + creds + `}`},
		{"installation id not numeric", `{"connection_config":{"installation_id":"12a"},` + creds + `}`},
		{"installation id negative", `{"connection_config":{"installation_id":-4},` + creds + `}`},
		{"installation id fractional", `{"connection_config":{"installation_id":4.5},` + creds + `}`},
		{"installation id signed string", `{"connection_config":{"installation_id":"+4"},` + creds + `}`},
		{"installation id overflow", `{"connection_config":{"installation_id":"99999999999999999999"},` + creds + `}`},
		{"pending string", `{"connection_config":{"pending":"yes"},` + creds + `}`},
		{"handle number", `{"connection_config":{"handle":5},` + creds + `}`},
		{"user credentials string", `{"connection_config":{"userCredentials":"` + appUserToken + `"},` + creds + `}`},
		{"user credentials bad expiry", `{"connection_config":{"userCredentials":{"type":"OAUTH2","access_token":"` + appUserToken + `","expires_at":"` + appUserToken + `"}},` + creds + `}`},
		{"credentials array", `{"credentials":["` + installationToken + `"]}`},
		{"credentials bad expiry", `{"credentials":{"type":"OAUTH2","access_token":"` + oauthAppToken + `","expires_at":"21/08/2026"}}`},
		{"tags array", `{"tags":["` + appUserToken + `"],` + creds + `}`},
		{"connection config array", `{"connection_config":[],` + creds + `}`},
		{"connection id number", `{"connection_id":5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 200, tt.answer)
			got, err := f.client().GetConnection(context.Background(), "c", "github-app-oauth")
			if err == nil {
				t.Fatalf("GetConnection = %+v, want an error", got)
			}
			checkNoSecrets(t, err, installationToken, appUserToken, oauthAppToken)
		})
	}
}

func TestConnectionRequestsEscape(t *testing.T) {
	const (
		id         = "a/b c?d#e%f"
		key        = "my key&x=y"
		wantURI    = "/connections/a%2Fb%20c%3Fd%23e%25f?provider_config_key=my+key%26x%3Dy"
		successful = `{"success":true}`
	)
	t.Run("get", func(t *testing.T) {
		f := newFake(t, 200, `{"connection_id":"x"}`)
		if _, err := f.client().GetConnection(context.Background(), id, key); err != nil {
			t.Fatal(err)
		}
		checkRequest(t, f.only(t), "GET", wantURI, "")
	})
	t.Run("patch", func(t *testing.T) {
		f := newFake(t, 200, successful)
		if err := f.client().PatchConnection(context.Background(), id, key, Patch{}); err != nil {
			t.Fatal(err)
		}
		checkRequest(t, f.only(t), "PATCH", wantURI, `{}`)
	})
	t.Run("delete", func(t *testing.T) {
		f := newFake(t, 200, successful)
		if err := f.client().DeleteConnection(context.Background(), id, key); err != nil {
			t.Fatal(err)
		}
		checkRequest(t, f.only(t), "DELETE", wantURI, "")
	})
}

func TestPatchConnection(t *testing.T) {
	tests := []struct {
		name     string
		patch    Patch
		wantBody string
	}{
		{"tags", Patch{Tags: map[string]string{"end_user_id": "u_1", "organization_id": "org_1"}},
			`{"tags":{"end_user_id":"u_1","organization_id":"org_1"}}`},
		{"end user", Patch{EndUser: &EndUser{ID: "u_1", Email: "a@b.c"}}, `{"end_user":{"id":"u_1","email":"a@b.c"}}`},
		{"both", Patch{Tags: map[string]string{"end_user_id": "u_1"}, EndUser: &EndUser{ID: "u_1", DisplayName: "A"}},
			`{"tags":{"end_user_id":"u_1"},"end_user":{"id":"u_1","display_name":"A"}}`},
		{"empty", Patch{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 200, `{"success":true}`)
			if err := f.client().PatchConnection(context.Background(), "conn-1", "github", tt.patch); err != nil {
				t.Fatalf("PatchConnection: %v", err)
			}
			checkRequest(t, f.only(t), "PATCH", "/connections/conn-1?provider_config_key=github", tt.wantBody)
		})
	}
}

func TestDeleteConnection(t *testing.T) {
	for _, tt := range []answer{
		{name: "deleted", status: 200, body: `{"success":true}`},
		{name: "unknown connection", status: 400, body: `{"error":{"code":"unknown_connection"}}`, wantErr: true, wantNotFound: true},
		{name: "not found", status: 404, body: `{"error":{"code":"not_found","message":"Connection not found"}}`, wantErr: true, wantNotFound: true},
		{name: "unknown integration", status: 400, body: `{"error":{"code":"unknown_provider_config","message":"There is no Provider Configuration matching this key."}}`, wantErr: true},
		{name: "success false", status: 200, body: `{"success":false}`, wantErr: true},
		{name: "empty 200", status: 200, body: ``, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fake(t)
			err := f.client().DeleteConnection(context.Background(), "conn-1", "github")
			checkRequest(t, f.only(t), "DELETE", "/connections/conn-1?provider_config_key=github", "")
			tt.check(t, err)
			checkNoSecrets(t, err)
		})
	}
}

func TestRejectsEmptyIDs(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(c *Client, id, integration string) error{
		"get": func(c *Client, id, integration string) error {
			_, err := c.GetConnection(ctx, id, integration)
			return err
		},
		"patch": func(c *Client, id, integration string) error {
			return c.PatchConnection(ctx, id, integration, Patch{Tags: map[string]string{"a": "b"}})
		},
		"delete": func(c *Client, id, integration string) error {
			return c.DeleteConnection(ctx, id, integration)
		},
		"trigger": func(c *Client, id, integration string) error {
			return c.TriggerSync(ctx, integration, id, []string{"repos"})
		},
	}
	for name, call := range calls {
		for _, ids := range [][2]string{{"", "github"}, {"conn-1", ""}, {"", ""}} {
			t.Run(name+"/"+ids[0]+"/"+ids[1], func(t *testing.T) {
				f := newFake(t, 200, `{"success":true}`)
				err := call(f.client(), ids[0], ids[1])
				if err == nil {
					t.Fatal("want an error for an empty ID")
				}
				if !strings.Contains(err.Error(), "empty") {
					t.Errorf("error %q does not say what is empty", err)
				}
				checkNoSecrets(t, err)
				if n := f.count(); n != 0 {
					t.Errorf("%d requests sent, want none", n)
				}
			})
		}
	}
}
