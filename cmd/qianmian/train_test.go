package main

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian/sim"
)

// qianmian train on the small synthetic world prints the validation table, and the learned
// model it publishes beats popularity there.
func TestTrain_PrintsValidationAndBeatsPopularity(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "qianmian.db")
	cfg := sim.SmallConfig()
	cfg.Seed = 3
	cfg.End = time.Now().UTC().Truncate(time.Second)
	world, err := sim.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := sim.WriteFiles(world, filepath.Join(dir, "world"))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(io.Discard)
	m.Config.DSN = dsn
	ctx := context.Background()
	if err := m.OpenStorage(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range files.Paths() {
		if _, err := m.loader(nil).LoadFile(ctx, f, kindOf(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, "train", "--dsn", dsn, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Log(out)
	ndcg := map[string]float64{}
	published := ""
	for _, m := range regexp.MustCompile(`(?m)^(\w+)( \*)?\s+([0-9.]+)\s+([0-9.]+)\s`).FindAllStringSubmatch(out, -1) {
		ndcg[m[1]], _ = strconv.ParseFloat(m[3], 64)
		if m[2] != "" {
			published = m[1]
		}
	}
	if !strings.Contains(out, "NDCG@10") || published == "" || ndcg["popularity"] == 0 {
		t.Fatalf("no validation table with a published model:\n%s", out)
	}
	if ndcg[published] <= ndcg["popularity"] {
		t.Fatalf("published %s NDCG@10 %.4f, popularity %.4f", published, ndcg[published], ndcg["popularity"])
	}
}
