package sqlite_test

import (
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sqlite"
)

// TestModelStore_LatestModelVersion: the newest version of a name, without reading its data;
// ENOTFOUND before the first.
func TestModelStore_LatestModelVersion(t *testing.T) {
	t.Parallel()
	s := sqlite.NewModelStore(mustOpen(t, newDB(t, nil)))
	ctx := t.Context()
	if _, err := s.LatestModelVersion(ctx, "hybrid-v1"); qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("before any model: %v, want ENOTFOUND", err)
	}
	for k := 1; k <= 3; k++ {
		if err := s.SaveModel(ctx, &qianmian.ModelBlob{Name: "hybrid-v1", Data: []byte{byte(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveModel(ctx, &qianmian.ModelBlob{Name: "other", Data: []byte{9}}); err != nil {
		t.Fatal(err)
	}
	v, err := s.LatestModelVersion(ctx, "hybrid-v1")
	if err != nil || v != 3 {
		t.Fatalf("LatestModelVersion = %d, %v; want 3", v, err)
	}
	m, err := s.LatestModel(ctx, "hybrid-v1")
	if err != nil || m.Version != v || m.Data[0] != 3 {
		t.Fatalf("LatestModel = version %d data %v, %v; want version %d", m.Version, m.Data, err, v)
	}
}
