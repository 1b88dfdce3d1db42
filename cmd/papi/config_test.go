package main

import (
	"strings"
	"testing"
)

func TestTrustedProxiesConfig(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, false},
		{" 10.1.2.3 , 192.168.0.0/16,2001:db8::1 ", []string{"10.1.2.3/32", "192.168.0.0/16", "2001:db8::1/128"}, false},
		{"10.0.0.0/33", nil, true},
		{"proxy.example", nil, true},
	} {
		cfg, err := loadConfig(func(k string) string {
			if k == "PAPI_TRUSTED_PROXIES" {
				return tc.value
			}
			return ""
		})
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), "PAPI_TRUSTED_PROXIES") {
				t.Errorf("%q: got %v, want an error naming PAPI_TRUSTED_PROXIES", tc.value, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.value, err)
		}
		var got []string
		for _, n := range cfg.TrustedProxies {
			got = append(got, n.String())
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: got %v, want %v", tc.value, got, tc.want)
		}
	}
}
