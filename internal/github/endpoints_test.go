package github

import "testing"

func TestEndpointsWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Endpoints
		want Endpoints
	}{
		{"zero is github.com", Endpoints{}, Endpoints{"https://github.com", "https://api.github.com"}},
		{"enterprise server", Endpoints{WebURL: "https://ghe.example.com"}, Endpoints{"https://ghe.example.com", "https://ghe.example.com/api/v3"}},
		{"trailing slash", Endpoints{WebURL: "https://ghe.example.com/"}, Endpoints{"https://ghe.example.com", "https://ghe.example.com/api/v3"}},
		{"both set", Endpoints{WebURL: "https://w.example", APIURL: "https://api.example/"}, Endpoints{"https://w.example", "https://api.example"}},
		{"only API", Endpoints{APIURL: "https://api.example"}, Endpoints{"https://github.com", "https://api.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.WithDefaults(); got != tt.want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
