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

func TestReceiptConfig(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		days    int
		cap     int
		key     string
		wantErr string
	}{
		{env: map[string]string{}, days: 0, cap: 0},
		{env: map[string]string{"PAPI_RECEIPT_DAYS": "3", "PAPI_RECEIPT_DAILY_CAP": "200", "PAPI_RECEIPT_KEY": strings.Repeat("k", 32)}, days: 3, cap: 200, key: strings.Repeat("k", 32)},
		{env: map[string]string{"PAPI_RECEIPT_DAYS": "0"}, wantErr: "PAPI_RECEIPT_DAYS"},
		{env: map[string]string{"PAPI_RECEIPT_DAYS": "7d"}, wantErr: "PAPI_RECEIPT_DAYS"},
		{env: map[string]string{"PAPI_RECEIPT_DAILY_CAP": "-1"}, wantErr: "PAPI_RECEIPT_DAILY_CAP"},
		{env: map[string]string{"PAPI_RECEIPT_KEY": "short"}, wantErr: "PAPI_RECEIPT_KEY"},
	} {
		cfg, err := loadConfig(func(k string) string { return tc.env[k] })
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: got %v, want an error naming %s", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || cfg.Receipts.Days != tc.days || cfg.Receipts.DailyCap != tc.cap || string(cfg.Receipts.Key) != tc.key {
			t.Errorf("%v: got %+v, %v", tc.env, cfg.Receipts, err)
		}
	}
}

// TestMinNConfig: PAPI_MIN_N is a whole number no smaller than the count
// that is always hidden; trailing text is refused, not cut off.
func TestMinNConfig(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int // -1: an error naming PAPI_MIN_N
	}{
		{"", 30}, // the default
		{"50", 50},
		{"5", 5},
		{"4", -1},
		{"30abc", -1},
		{"3.5", -1},
	} {
		cfg, err := loadConfig(func(k string) string {
			if k == "PAPI_MIN_N" {
				return tc.value
			}
			return ""
		})
		switch {
		case tc.want < 0 && (err == nil || !strings.Contains(err.Error(), "PAPI_MIN_N")):
			t.Errorf("PAPI_MIN_N=%q: got %v, want an error naming PAPI_MIN_N", tc.value, err)
		case tc.want >= 0 && (err != nil || cfg.MinN != tc.want):
			t.Errorf("PAPI_MIN_N=%q: got %d, %v; want %d", tc.value, cfg.MinN, err, tc.want)
		}
	}
}
