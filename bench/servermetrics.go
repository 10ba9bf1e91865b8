package bench

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
)

// The server's response-cache counters on GET /metrics (see cmd/qianmian).
const (
	metricCacheHits   = "qianmian_recommend_cache_hits_total"
	metricCacheMisses = "qianmian_recommend_cache_misses_total"
)

// cacheCounts are the server's response-cache counters at one moment.
type cacheCounts struct {
	hits, misses int64
}

// scrapeCache reads the response-cache counters from the server's /metrics. ok is false
// when the server does not expose them (or /metrics cannot be read): the run then reports
// no hit rate rather than a wrong one.
func scrapeCache(ctx context.Context, c *http.Client, cfg *Config) (cacheCounts, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.BaseURL+"/metrics", nil)
	if err != nil {
		return cacheCounts{}, false
	}
	req.Header.Set("Authorization", "Bearer "+cfg.Key)
	resp, err := c.Do(req)
	if err != nil {
		return cacheCounts{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return cacheCounts{}, false
	}
	return parseCacheCounts(bufio.NewScanner(resp.Body))
}

// parseCacheCounts finds both counters in Prometheus text exposition lines.
func parseCacheCounts(sc *bufio.Scanner) (cacheCounts, bool) {
	var cc cacheCounts
	var seen int
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case metricCacheHits:
			dst = &cc.hits
		case metricCacheMisses:
			dst = &cc.misses
		default:
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return cacheCounts{}, false
		}
		*dst = int64(f)
		seen++
	}
	return cc, seen == 2 && sc.Err() == nil
}
