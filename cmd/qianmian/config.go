package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// Config is everything qianmian can be told at startup. Every flag takes its default from a
// QIANMIAN_* environment variable.
type Config struct {
	DSN           string        // "sqlite:PATH" (or a bare path); postgres:// is the scale-out store
	HTTPAddr      string        // listen address, "127.0.0.1:0" picks a free port
	DebugAddr     string        // listen address of net/http/pprof; "" serves none
	TrainEvery    time.Duration // background retraining interval; 0 disables it
	ReloadEvery   time.Duration // how often to look for a model trained by another process; 0 never
	EncryptionKey string        // 32-byte key for personal fields, hex or base64
	KeyFile       string        // where the key is kept when EncryptionKey is empty
	LogLevel      string        // debug, info, warn, error
	LogFormat     string        // json or text
	MemoryLimit   string        // soft limit of the Go heap ("6GiB"); "" leaves GOMEMLIMIT's
}

// DefaultConfig returns a Config that runs one node on SQLite in the working directory.
func DefaultConfig() Config {
	return Config{
		DSN:        "sqlite:qianmian.db",
		HTTPAddr:   "127.0.0.1:8080",
		TrainEvery: 10 * time.Minute,
		LogLevel:   "info",
		LogFormat:  "json",
	}
}

// Validate reports the first bad setting, naming its flag.
func (c Config) Validate() error {
	if c.DSN == "" {
		return qianmian.Invalid("dsn", "required")
	}
	if c.TrainEvery < 0 {
		return qianmian.Invalid("train-every", "must not be negative")
	}
	if c.ReloadEvery < 0 {
		return qianmian.Invalid("reload-every", "must not be negative")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return qianmian.Invalid("log-format", "must be json or text, not %q", c.LogFormat)
	}
	if _, err := parseBytes(c.MemoryLimit); err != nil {
		return err
	}
	return nil
}

// parseBytes reads a size such as 6GiB, 512MiB, 6GB or 1073741824 (bytes); "" and "0" are 0,
// no limit. Errors name the memory-limit flag.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || v != v || v*mult > math.MaxInt64/2 {
		return 0, qianmian.Invalid("memory-limit", "must be a size such as 6GiB, 512MiB or a number of bytes, not %q", s)
	}
	return int64(v * mult), nil
}

// storageFlags registers the flags that say where data lives.
func (c *Config) storageFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DSN, "dsn", envOr("QIANMIAN_DSN", c.DSN), "database: sqlite:PATH (env QIANMIAN_DSN)")
	fs.StringVar(&c.EncryptionKey, "encryption-key", envOr("QIANMIAN_ENCRYPTION_KEY", c.EncryptionKey),
		"AES-256 key for personal fields, 64 hex chars or base64 (env QIANMIAN_ENCRYPTION_KEY)")
	fs.StringVar(&c.KeyFile, "key-file", envOr("QIANMIAN_KEY_FILE", c.KeyFile),
		"file holding the encryption key when -encryption-key is empty; created if missing (default: beside the database) (env QIANMIAN_KEY_FILE)")
	fs.StringVar(&c.MemoryLimit, "memory-limit", envOr("QIANMIAN_MEMORY_LIMIT", c.MemoryLimit),
		"soft limit of the Go heap, e.g. 6GiB: the collector works harder as the heap nears it, which keeps a training run's transient garbage from doubling the process (default: GOMEMLIMIT, else none) (env QIANMIAN_MEMORY_LIMIT)")
	c.logFlags(fs)
}

// logFlags registers the logging flags.
func (c *Config) logFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogLevel, "log-level", envOr("QIANMIAN_LOG_LEVEL", c.LogLevel), "debug, info, warn or error (env QIANMIAN_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("QIANMIAN_LOG_FORMAT", c.LogFormat), "json or text (env QIANMIAN_LOG_FORMAT)")
}

// serveFlags registers the flags of a serving process.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.storageFlags(fs)
	fs.StringVar(&c.HTTPAddr, "addr", envOr("QIANMIAN_ADDR", c.HTTPAddr), "HTTP listen address (env QIANMIAN_ADDR)")
	fs.StringVar(&c.DebugAddr, "debug-addr", envOr("QIANMIAN_DEBUG_ADDR", c.DebugAddr),
		"listen address of the Go profiler (/debug/pprof/), e.g. 127.0.0.1:6060; empty serves none (env QIANMIAN_DEBUG_ADDR)")
	fs.DurationVar(&c.TrainEvery, "train-every", envDuration("QIANMIAN_TRAIN_EVERY", c.TrainEvery),
		"retrain in the background this often; 0 disables (env QIANMIAN_TRAIN_EVERY)")
	fs.DurationVar(&c.ReloadEvery, "reload-every", envDuration("QIANMIAN_RELOAD_EVERY", c.ReloadEvery),
		"look this often for a model published by another process (qianmian train) and the catalogue, and serve them; 0 never (env QIANMIAN_RELOAD_EVERY)")
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, qianmian.Invalid("log-level", "must be debug, info, warn or error, not %q", s)
}

// newLogger returns the structured logger the config asks for, writing to w.
func (c Config) newLogger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// usageError is a mistake in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }
