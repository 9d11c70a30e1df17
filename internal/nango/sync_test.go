package nango

import (
	"context"
	"testing"
)

func TestTriggerSync(t *testing.T) {
	tests := []struct {
		name     string
		syncs    []string
		wantBody string
	}{
		{"one sync", []string{"repos"}, `{"provider_config_key":"github-app-oauth","connection_id":"conn-1","syncs":["repos"]}`},
		{"two syncs", []string{"repos", "teams"}, `{"provider_config_key":"github-app-oauth","connection_id":"conn-1","syncs":["repos","teams"]}`},
		{"nil syncs", nil, `{"provider_config_key":"github-app-oauth","connection_id":"conn-1","syncs":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 200, `{"success":true}`)
			if err := f.client().TriggerSync(context.Background(), "github-app-oauth", "conn-1", tt.syncs); err != nil {
				t.Fatalf("TriggerSync: %v", err)
			}
			checkRequest(t, f.only(t), "POST", "/sync/trigger", tt.wantBody)
		})
	}
}

func TestTriggerSyncErrors(t *testing.T) {
	t.Run("empty sync name", func(t *testing.T) {
		f := newFake(t, 200, `{"success":true}`)
		err := f.client().TriggerSync(context.Background(), "github", "conn-1", []string{"repos", ""})
		if err == nil {
			t.Fatal("want an error")
		}
		if f.count() != 0 {
			t.Error("a request was sent")
		}
	})
	t.Run("missing provider config key", func(t *testing.T) {
		f := newFake(t, 400, `{"error":{"code":"missing_provider_config_key","message":"Missing provider_config_key"}}`)
		err := f.client().TriggerSync(context.Background(), "github", "conn-1", []string{"repos"})
		var apiErr *APIError
		if !asAPIError(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "missing_provider_config_key" {
			t.Fatalf("err = %v, want a 400 missing_provider_config_key APIError", err)
		}
		checkNoSecrets(t, err)
	})
}
