package github

import (
	"encoding/json"
	"testing"
	"time"
)

func TestFlexTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{`1557933591`, time.Unix(1557933591, 0), false},
		{`1557933591.5`, time.Unix(1557933591, 5e8), false},
		{`"2021-04-28T22:32:21.000-04:00"`, time.Date(2021, 4, 29, 2, 32, 21, 0, time.UTC), false},
		{`"2019-05-15T15:20:49Z"`, time.Date(2019, 5, 15, 15, 20, 49, 0, time.UTC), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`1e300`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got flexTime
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got.Time, tt.want)
			}
		})
	}
}

func TestFlexInt(t *testing.T) {
	tests := []struct {
		in      string
		want    flexInt
		wantErr bool
	}{
		{`28800`, 28800, false},
		{`"28800"`, 28800, false},
		{`null`, 0, false},
		{`"8h"`, 0, true},
		{`1.5`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got flexInt
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
