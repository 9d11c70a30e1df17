package nango

import (
	"context"
	"testing"
	"time"
)

// sessionToken is a connect session token as Nango issues them.
const sessionToken = "nango_connect_session_9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestCreateConnectSession(t *testing.T) {
	const answer = `{"data":{"token":"` + sessionToken + `","connect_link":"https://connect.nango.dev/?session_token=` + sessionToken + `","expires_at":"2026-08-21T10:30:00.000Z"}}`
	tests := []struct {
		name     string
		req      SessionRequest
		wantBody string
	}{
		{
			name: "tags only",
			req: SessionRequest{
				Tags:                map[string]string{"end_user_id": "u_1", "end_user_email": "a@b.c", "organization_id": "org_1"},
				AllowedIntegrations: []string{"github", "github-app-oauth"},
			},
			wantBody: `{"tags":{"end_user_email":"a@b.c","end_user_id":"u_1","organization_id":"org_1"},"allowed_integrations":["github","github-app-oauth"]}`,
		},
		{
			name: "tags and deprecated end user",
			req: SessionRequest{
				Tags:    map[string]string{"end_user_id": "u_1"},
				EndUser: &EndUser{ID: "u_1", Email: "a@b.c", DisplayName: "A"},
			},
			wantBody: `{"tags":{"end_user_id":"u_1"},"end_user":{"id":"u_1","email":"a@b.c","display_name":"A"}}`,
		},
		{
			name:     "end user without optional fields",
			req:      SessionRequest{EndUser: &EndUser{ID: "u_2"}},
			wantBody: `{"end_user":{"id":"u_2"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 201, answer)
			got, err := f.client().CreateConnectSession(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("CreateConnectSession: %v", err)
			}
			// No query string at all: Nango answers 400 invalid_query_params.
			checkRequest(t, f.only(t), "POST", "/connect/sessions", tt.wantBody)
			want := ConnectSession{
				Token:       sessionToken,
				ConnectLink: "https://connect.nango.dev/?session_token=" + sessionToken,
				ExpiresAt:   time.Date(2026, 8, 21, 10, 30, 0, 0, time.UTC),
			}
			if got.Token != want.Token || got.ConnectLink != want.ConnectLink || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("got %+v, want %+v", *got, want)
			}
		})
	}
}

func TestCreateConnectSessionAnswers(t *testing.T) {
	for _, tt := range []answer{
		{name: "null expiry", status: 201, body: `{"data":{"token":"t","connect_link":"l","expires_at":null}}`},
		{name: "absent expiry", status: 201, body: `{"data":{"token":"t","connect_link":"l"}}`},
		{name: "offset expiry", status: 201, body: `{"data":{"token":"t","connect_link":"l","expires_at":"2026-08-21T12:00:00+02:00"}}`,
			wantExp: time.Date(2026, 8, 21, 10, 0, 0, 0, time.UTC)},
		{name: "no data", status: 201, body: `{}`, wantErr: true},
		{name: "null data", status: 201, body: `{"data":null}`, wantErr: true},
		{name: "empty token", status: 201, body: `{"data":{"token":"","connect_link":"l"}}`, wantErr: true},
		{name: "bad expiry", status: 201, body: `{"data":{"token":"` + sessionToken + `","expires_at":"tomorrow"}}`, wantErr: true},
		{name: "numeric expiry", status: 201, body: `{"data":{"token":"` + sessionToken + `","expires_at":1787306400}}`, wantErr: true},
		{name: "not JSON", status: 201, body: `<html></html>`, wantErr: true},
		{name: "resource capped", status: 400, body: `{"error":{"code":"resource_capped","message":"Reached maximum number of connections"}}`, wantErr: true},
		{name: "server error", status: 500, body: `{"error":{"code":"server_error","message":"An unexpected error occurred"}}`, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fake(t)
			got, err := f.client().CreateConnectSession(context.Background(), SessionRequest{Tags: map[string]string{"end_user_id": "u_1"}})
			tt.check(t, err)
			checkNoSecrets(t, err, sessionToken)
			if err == nil && !got.ExpiresAt.Equal(tt.wantExp) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tt.wantExp)
			}
		})
	}
}
