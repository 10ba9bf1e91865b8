package main

import (
	"context"
	"iter"
	"time"

	"github.com/qianmian/qianmian"
)

// streamBatch is how many streamed events go to storage in one call.
const streamBatch = 10000

// LoadEvents stores a stream of events — a world too large to write out as a file —
// through the same validation as the API (Event.Validate) and the same CreateEvents path
// as an import, generating the next batch while storage writes the last. total, if known,
// scales the progress bar.
func (l *loader) LoadEvents(ctx context.Context, name string, events iter.Seq[*qianmian.Event], total int) (*loadSummary, error) {
	start := time.Now()
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	sum := &loadSummary{File: name, Kind: "events"}
	bar := newProgress(l.Progress, name, int64(total))
	type chunk struct {
		events  []*qianmian.Event
		rejects []error
		records int
	}
	ch := make(chan chunk, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(ch)
		var c chunk
		for e := range events {
			c.records++
			if err := e.Validate(now); err != nil {
				c.rejects = append(c.rejects, err)
			} else {
				c.events = append(c.events, e)
			}
			if len(c.events) >= streamBatch {
				select {
				case ch <- c:
				case <-ctx.Done():
					return
				}
				c = chunk{events: make([]*qianmian.Event, 0, streamBatch)}
			}
		}
		select {
		case ch <- c:
		case <-ctx.Done():
		}
	}()
	for c := range ch {
		sum.Records += c.records
		for _, err := range c.rejects {
			sum.reject(err)
		}
		if len(c.events) > 0 {
			res, err := l.Events.CreateEvents(ctx, c.events)
			if err != nil {
				return sum, err
			}
			sum.Accepted += res.Accepted
			sum.Duplicates += res.Duplicates
		}
		bar.update(int64(sum.Records), sum.Records)
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	bar.done(int64(sum.Records), sum.Records)
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}
