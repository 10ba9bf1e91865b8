package main

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "0": 0, "1073741824": 1 << 30, "6GiB": 6 << 30, "512MiB": 512 << 20, "1.5GiB": 3 << 29,
		"6GB": 6_000_000_000, "64KiB": 64 << 10, " 2 GiB ": 2 << 30, "100B": 100,
	} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "GiB", "-1GiB", "1e400", "NaN", "6 gigs", "9e18GiB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}
