package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sim"
)

// demoInfo is what the demo prints and writes to DIR/demo.json.
type demoInfo struct {
	BaseURL string `json:"base_url"`
	Keys    struct {
		Operator string `json:"operator"`
		Store    string `json:"store"`
		Supplier string `json:"supplier"`
	} `json:"keys"`
	StoreID      string `json:"store_id"`
	OtherStoreID string `json:"other_store_id"`
	SupplierID   string `json:"supplier_id"`
	UserID       string `json:"user_id"`
}

// runDemo generates a synthetic world into the data directory, loads it through the same
// import path as real data, trains, serves, and prints how to reach it.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stderr)
	m.Config.TrainEvery = 5 * time.Minute
	fs := flag.NewFlagSet("qianmian demo", flag.ContinueOnError)
	m.Config.serveFlags(fs)
	dir := fs.String("data", envOr("QIANMIAN_DATA", ""), "directory for the world, database and demo.json (default: a new temporary directory) (env QIANMIAN_DATA)")
	scale := fs.String("scale", "default", "world size: small (tests), default (~5,000 items, 100 stores, 20,000 consumers) or large (100,000 items, 500 stores, 1,000,000 consumers, ~20M events, streamed into storage)")
	seed := fs.Uint64("seed", 1, "random seed of the world")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	var cfg sim.Config
	switch *scale {
	case "small":
		cfg = sim.SmallConfig()
	case "default":
		cfg = sim.DefaultConfig()
	case "large":
		cfg = sim.LargeConfig()
	default:
		return usagef("demo: --scale must be small, default or large, not %q", *scale)
	}
	cfg.Seed = *seed
	cfg.End = time.Now().UTC().Truncate(time.Second)
	if *dir == "" {
		d, err := os.MkdirTemp("", "qianmian-demo-")
		if err != nil {
			return err
		}
		*dir = d
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	m.Config.DSN = "sqlite:" + filepath.Join(*dir, "qianmian.db")
	m.Logger = m.Config.newLogger(stderr)
	defer m.Close()

	info, err := m.buildDemo(ctx, cfg, *scale, *dir, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "qianmian demo is serving at %s\n", info.BaseURL)
	fmt.Fprintf(stdout, "  data dir        %s (demo.json has everything below)\n", *dir)
	fmt.Fprintf(stdout, "  operator key    %s\n", info.Keys.Operator)
	fmt.Fprintf(stdout, "  store key       %s  (store %s)\n", info.Keys.Store, info.StoreID)
	fmt.Fprintf(stdout, "  supplier key    %s  (supplier %s)\n", info.Keys.Supplier, info.SupplierID)
	fmt.Fprintf(stdout, "  other store     %s (another region)\n", info.OtherStoreID)
	fmt.Fprintf(stdout, "  sample consumer %s\n\n", info.UserID)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' '%s/v1/stores/%s/recommendations?user=%s&n=10'\n",
		info.Keys.Store, info.BaseURL, info.StoreID, info.UserID)
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

// worldMark is DIR/world.json, written once a world is loaded into DIR's database. A demo
// started again on the same directory with the same scale and seed serves that database as
// it is instead of generating and loading the world again (the large world takes minutes).
type worldMark struct {
	Scale    string     `json:"scale"`
	Seed     uint64     `json:"seed"`
	Sample   sim.Sample `json:"sample"`
	LoadedAt time.Time  `json:"loaded_at"`
}

// loadedWorld returns the mark of a world loaded in dir with the given scale and seed, or nil.
func loadedWorld(dir, scale string, seed uint64) *worldMark {
	b, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil {
		return nil
	}
	var w worldMark
	if json.Unmarshal(b, &w) != nil || w.Scale != scale || w.Seed != seed {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "qianmian.db")); err != nil {
		return nil
	}
	return &w
}

// buildDemo generates, loads, trains and starts serving; it returns what the demo prints.
// A world loaded in dir before (loadedWorld) is served again as it is.
func (m *Main) buildDemo(ctx context.Context, cfg sim.Config, scale, dir string, progress io.Writer) (*demoInfo, error) {
	start := time.Now()
	log := m.Logger
	if w := loadedWorld(dir, scale, cfg.Seed); w != nil {
		log.Info("serving the world loaded before", "dir", dir, "scale", scale, "seed", cfg.Seed, "loaded_at", w.LoadedAt)
		if err := m.OpenStorage(ctx); err != nil {
			return nil, err
		}
		return m.serveDemo(ctx, w.Sample, dir, start, false)
	}
	if err := os.Remove(filepath.Join(dir, "world.json")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	log.Info("generating world", "seed", cfg.Seed, "items", cfg.Items, "stores", cfg.Stores, "users", cfg.Users, "end", cfg.End)
	world, err := sim.Generate(cfg)
	if err != nil {
		return nil, fmt.Errorf("generate world: %w", err)
	}
	// Worlds past a few million events stream them into storage instead of writing a file.
	stream := int64(cfg.Users)*int64(cfg.Weeks) > 2_000_000
	write := sim.WriteFiles
	if stream {
		write = sim.WriteReferenceFiles
	}
	files, err := write(world, filepath.Join(dir, "world"))
	if err != nil {
		return nil, fmt.Errorf("write world: %w", err)
	}
	log.Info("world generated", "seconds", time.Since(start).Seconds(), "streamed_events", stream)

	if err := m.OpenStorage(ctx); err != nil {
		return nil, err
	}
	l := m.loader(progress)
	for _, f := range files.Paths() {
		sum, err := l.LoadFile(ctx, f, kindOf(f))
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", f, err)
		}
		log.Info("loaded", "file", filepath.Base(f), "accepted", sum.Accepted, "duplicates", sum.Duplicates, "rejected", sum.Rejected, "seconds", sum.Seconds)
	}
	if stream {
		// About 20 events per consumer over six weeks (sim.Config.ActivityScale).
		total := int(float64(cfg.Users) * 20 * cfg.ActivityScale * float64(cfg.Weeks) / 6)
		sum, err := l.LoadEvents(ctx, "events (streamed)", world.Events(), total)
		if err != nil {
			return nil, fmt.Errorf("load events: %w", err)
		}
		log.Info("loaded", "file", "events (streamed)", "accepted", sum.Accepted, "duplicates", sum.Duplicates,
			"rejected", sum.Rejected, "seconds", sum.Seconds, "events_per_s", float64(sum.Accepted)/max(sum.Seconds, 1e-9))
	}

	mark, _ := json.MarshalIndent(worldMark{Scale: scale, Seed: cfg.Seed, Sample: world.Truth.Sample, LoadedAt: time.Now().UTC()}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "world.json"), append(mark, '\n'), 0o600); err != nil {
		return nil, err
	}
	return m.serveDemo(ctx, world.Truth.Sample, dir, start, true)
}

// serveDemo trains (a new world) and serves; it creates the demo's keys and writes demo.json.
// A reused world serves the model it has stored and learns again only on the train-every
// schedule.
func (m *Main) serveDemo(ctx context.Context, s sim.Sample, dir string, start time.Time, fresh bool) (*demoInfo, error) {
	log := m.Logger
	if fresh {
		// The fast artefact first, so the demo serves within seconds; OpenServing then
		// trains the learned model in the background and hot-reloads it.
		blob, err := m.newFastTrainer().TrainOnce(ctx)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		log.Info("trained the fast model; the learned one follows in the background", "model", blob.Name, "version", blob.Version)
		m.learnAtStart = true
	}
	if err := m.OpenServing(ctx); err != nil {
		return nil, err
	}

	info := &demoInfo{BaseURL: m.Server.URL(), StoreID: s.StoreID, OtherStoreID: s.OtherStoreID, SupplierID: s.SupplierID, UserID: s.UserID}
	for _, k := range []struct {
		p   qianmian.Principal
		dst *string
	}{
		{qianmian.Principal{Role: qianmian.RoleOperator}, &info.Keys.Operator},
		{qianmian.Principal{Role: qianmian.RoleStore, ID: s.StoreID}, &info.Keys.Store},
		{qianmian.Principal{Role: qianmian.RoleSupplier, ID: s.SupplierID}, &info.Keys.Supplier},
	} {
		_, token, err := m.Keys.CreateKey(ctx, k.p)
		if err != nil {
			return nil, fmt.Errorf("create %s key: %w", k.p.Role, err)
		}
		*k.dst = token
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "demo.json"), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	log.Info("demo ready", "seconds", time.Since(start).Seconds(), "url", info.BaseURL)
	return info, nil
}
