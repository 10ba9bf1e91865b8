package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Kinds of request, indexes of recorder.ops in a mixed run.
const (
	kindRecommend = 0
	kindIngest    = 1
)

// env is what every worker of a run shares: the transport, the subjects (and their JSON
// encodings, made once), the run's id for event ids.
type env struct {
	cfg          *Config
	rt           http.RoundTripper
	subj         *Subjects
	notes        *notes
	runID        string
	probeTimeout time.Duration

	usersQ, storesQ, itemsQ [][]byte   // JSON strings
	stockQ                  [][][]byte // by store index; nil: use itemsQ

	// The parts of a ranking request's URL, by store and by user index.
	recPaths, recRawPaths, recQueries []string
}

func newEnv(cfg *Config, rt http.RoundTripper, s *Subjects) *env {
	var id [4]byte
	_, _ = crand.Read(id[:])
	e := &env{cfg: cfg, rt: rt, subj: s, notes: &notes{log: cfg.Logger},
		runID:        "bench-" + strconv.FormatInt(time.Now().Unix(), 36) + hex.EncodeToString(id[:]),
		probeTimeout: min(FreshnessTimeout, grace(cfg.Duration)*3/4),
	}
	quote := func(ids []string) [][]byte {
		out := make([][]byte, len(ids))
		for i, id := range ids {
			out[i], _ = json.Marshal(id)
		}
		return out
	}
	e.usersQ, e.storesQ, e.itemsQ = quote(s.Users), quote(s.Stores), quote(s.Items)
	for _, store := range s.Stores {
		e.recPaths = append(e.recPaths, "/v1/stores/"+store+"/recommendations")
		e.recRawPaths = append(e.recRawPaths, "/v1/stores/"+url.PathEscape(store)+"/recommendations")
	}
	for _, user := range s.Users {
		e.recQueries = append(e.recQueries, recommendQuery(user))
	}
	e.stockQ = make([][][]byte, len(s.Stores))
	for k, store := range s.Stores {
		if st := s.Stock[store]; len(st) > 0 {
			e.stockQ[k] = quote(st)
		}
	}
	return e
}

func (e *env) newOp(ctx context.Context, w int) op {
	switch e.cfg.Scenario {
	case Ingest:
		return e.ingestOp(ctx, w, e.cfg.Batch, kindRecommend)
	case Mixed:
		return &mixedOp{rec: e.recommendOp(ctx, w, kindRecommend), ing: e.ingestOp(ctx, w, e.cfg.Batch, kindIngest)}
	case Freshness:
		return e.freshOp(ctx, w)
	}
	return e.recommendOp(ctx, w, kindRecommend)
}

// send round-trips req and reads the answer into keep (nil: discards it), closing it.
func (e *env) send(req *http.Request, keep *bytes.Buffer) (int, error) {
	resp, err := e.rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	if keep != nil {
		keep.Reset()
		_, err = keep.ReadFrom(resp.Body)
		resp.Body.Close()
	} else {
		err = drain(resp.Body)
	}
	return resp.StatusCode, err
}

func (e *env) newRequest(ctx context.Context, method, path string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, method, e.cfg.BaseURL+path, nil)
	if err != nil {
		panic(err) // the base URL was validated and paths are escaped
	}
	req.Header.Set("Authorization", "Bearer "+e.cfg.Key)
	return req
}

func recommendPath(store, user string) string {
	return "/v1/stores/" + url.PathEscape(store) + "/recommendations?" + recommendQuery(user)
}

func recommendQuery(user string) string {
	return "user=" + url.QueryEscape(user) + "&n=" + strconv.Itoa(recommendN)
}

// healthzOp sends GET /healthz.
type healthzOp struct {
	e   *env
	req *http.Request
}

func (e *env) healthzOp(ctx context.Context) op {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.cfg.BaseURL+"/healthz", nil)
	if err != nil {
		panic(err)
	}
	return &healthzOp{e: e, req: req}
}

func (o *healthzOp) do(_ context.Context, r *recorder, from time.Time) {
	status, err := o.e.send(o.req, nil)
	r.done(kindRecommend, time.Since(from), status, err)
}

// recommendOp asks for the ranking of a random (user, store) pair each time, so a run
// meets as many distinct visitors and shops as it has subjects and a server-side cache
// helps only as much as real repeats would. One request is reused, its URL rewritten, so
// the loop allocates only what the transport does.
type recommendOp struct {
	e    *env
	rng  *rand.Rand
	req  *http.Request
	kind int
}

func (e *env) recommendOp(ctx context.Context, w int, kind int) *recommendOp {
	rng := rand.New(rand.NewPCG(uint64(w)+1, 0x9e3779b97f4a7c15))
	return &recommendOp{e: e, rng: rng, kind: kind, req: e.newRequest(ctx, http.MethodGet, recommendPath(e.subj.Stores[0], e.subj.Users[0]))}
}

func (o *recommendOp) do(_ context.Context, r *recorder, from time.Time) {
	e := o.e
	s, u := o.rng.IntN(len(e.subj.Stores)), o.rng.IntN(len(e.subj.Users))
	o.req.URL.Path, o.req.URL.RawPath = e.recPaths[s], e.recRawPaths[s]
	o.req.URL.RawQuery = e.recQueries[u]
	status, err := e.send(o.req, nil)
	r.done(o.kind, time.Since(from), status, err)
}

// body is a request body whose buffer is reused once the transport has closed it.
type body struct {
	bytes.Reader
	buf   []byte
	inUse bool
	done  chan struct{} // receives when the transport closes the body
}

func newBody() *body { return &body{done: make(chan struct{}, 1)} }

// Close tells the owner the transport is done with the buffer. The transport closes a
// body once; a second Close is harmless.
func (b *body) Close() error {
	select {
	case b.done <- struct{}{}:
	default:
	}
	return nil
}

// take waits until the transport has closed the body's last use and returns its buffer,
// emptied; when it takes too long the old buffer is abandoned.
func (b *body) take() []byte {
	if b.inUse {
		select {
		case <-b.done:
		default:
			t := time.NewTimer(5 * time.Second)
			select {
			case <-b.done:
			case <-t.C:
				b.buf = nil
			}
			t.Stop()
		}
		b.inUse = false
	}
	return b.buf[:0]
}

func (b *body) use(buf []byte) {
	b.buf = buf
	b.Reset(buf)
	b.inUse = true
}

// ingestOp posts batches of synthetic NDJSON events with fresh ids: known users, stores,
// and items of the store's sampled stock.
type ingestOp struct {
	e      *env
	req    *http.Request
	bodies [2]*body
	cur    int
	batch  int
	kind   int
	rng    *rand.Rand
	prefix []byte // "bench-RUN-W-"
	seq    uint64
	resp   bytes.Buffer
	answer ingestAnswer
}

type ingestAnswer struct {
	Accepted   int64 `json:"accepted"`
	Duplicates int64 `json:"duplicates"`
	Rejected   []struct {
		Index  int    `json:"index"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

func (e *env) ingestOp(ctx context.Context, w, batch, kind int) *ingestOp {
	req := e.newRequest(ctx, http.MethodPost, "/v1/events")
	req.Header.Set("Content-Type", "application/x-ndjson")
	o := &ingestOp{e: e, req: req, batch: batch, kind: kind,
		rng:    rand.New(rand.NewPCG(uint64(w)+1, 0x5851f42d4c957f2d)),
		prefix: []byte(e.runID + "-" + strconv.Itoa(w) + "-")}
	o.bodies = [2]*body{newBody(), newBody()}
	return o
}

var (
	eventTypes = [...]struct {
		name   string
		weight int // in 100
	}{{"view", 70}, {"click", 15}, {"cart", 6}, {"favorite", 4}, {"purchase", 5}}
	channels = [...]string{"app", "miniprogram", "web", "offline"}
)

// appendEvents appends n NDJSON events occurring at at.
func (o *ingestOp) appendEvents(buf []byte, n int, at time.Time) []byte {
	e := o.e
	for range n {
		o.seq++
		s := o.rng.IntN(len(e.storesQ))
		items := e.stockQ[s]
		if items == nil {
			items = e.itemsQ
		}
		typ, roll := eventTypes[0].name, o.rng.IntN(100)
		for _, t := range eventTypes {
			if roll < t.weight {
				typ = t.name
				break
			}
			roll -= t.weight
		}
		buf = append(buf, `{"id":"`...)
		buf = append(buf, o.prefix...)
		buf = strconv.AppendUint(buf, o.seq, 10)
		buf = append(buf, `","type":"`...)
		buf = append(buf, typ...)
		buf = append(buf, `","user_id":`...)
		buf = append(buf, e.usersQ[o.rng.IntN(len(e.usersQ))]...)
		buf = append(buf, `,"item_id":`...)
		buf = append(buf, items[o.rng.IntN(len(items))]...)
		buf = append(buf, `,"store_id":`...)
		buf = append(buf, e.storesQ[s]...)
		buf = append(buf, `,"channel":"`...)
		buf = append(buf, channels[o.rng.IntN(len(channels))]...)
		buf = append(buf, `","occurred_at":"`...)
		buf = at.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, "\"}\n"...)
	}
	return buf
}

func (o *ingestOp) do(_ context.Context, r *recorder, from time.Time) {
	b := o.bodies[o.cur]
	o.cur ^= 1
	buf := o.appendEvents(b.take(), o.batch, time.Now().UTC())
	b.use(buf)
	o.req.Body, o.req.ContentLength = b, int64(len(buf))
	status, err := o.e.send(o.req, &o.resp)
	if !r.done(o.kind, time.Since(from), status, err) {
		if err == nil {
			o.e.notes.warnOnce("ingest-status", "an events batch failed", "status", status, "body", string(o.resp.Bytes()[:min(o.resp.Len(), 300)]))
		}
		return
	}
	o.answer = ingestAnswer{Rejected: o.answer.Rejected[:0]}
	if err := json.Unmarshal(o.resp.Bytes(), &o.answer); err != nil {
		o.e.notes.warnOnce("ingest-answer", "cannot read the answer to an events batch", "err", err.Error())
		return
	}
	r.events += o.answer.Accepted
	r.duplicates += o.answer.Duplicates
	r.rejected += int64(len(o.answer.Rejected))
	if len(o.answer.Rejected) > 0 {
		rej := o.answer.Rejected[0]
		o.e.notes.warnOnce("ingest-rejected", "the server rejected synthetic events", "count", len(o.answer.Rejected),
			"field", rej.Field, "reason", rej.Reason)
	}
}

// mixedOp sends nine rankings, then one small events batch.
type mixedOp struct {
	rec *recommendOp
	ing *ingestOp
	n   int
}

func (o *mixedOp) do(ctx context.Context, r *recorder, from time.Time) {
	o.n++
	if o.n%10 == 0 {
		o.ing.do(ctx, r, from)
		return
	}
	o.rec.do(ctx, r, from)
}

// freshOp measures freshness. A probe takes a visitor with a personalised ranking at a
// store, posts a purchase of the item ranked first, and polls the ranking until that item
// is gone: the engine excludes items the visitor has bought (recommend.query.blend) unless
// they are due for a restock, which is days after the purchase. The delay recorded is from
// the 2xx of the POST to the answer of the first GET without the item.
type freshOp struct {
	e       *env
	users   []string // this worker's share, so probes of two workers never share a visitor
	next    int
	misses  int // visitors in a row without a personalised ranking
	done    bool
	rng     *rand.Rand
	prefix  string
	seq     int
	buf     bytes.Buffer
	ranking struct {
		Personalized bool         `json:"personalized"`
		Items        []rankedItem `json:"items"`
	}
}

type rankedItem struct {
	ItemID string `json:"item_id"`
}

func (e *env) freshOp(_ context.Context, w int) *freshOp {
	o := &freshOp{e: e, rng: rand.New(rand.NewPCG(uint64(w)+1, 0xda3e39cb94b95bdb)),
		prefix: e.runID + "-f" + strconv.Itoa(w) + "-"}
	for k := w; k < len(e.subj.Users); k += max(e.cfg.Concurrency, 1) {
		o.users = append(o.users, e.subj.Users[k])
	}
	o.done = len(o.users) == 0
	return o
}

func (o *freshOp) finished() bool { return o.done }

// get fetches the ranking of path into o.ranking; false when the request failed.
func (o *freshOp) get(ctx context.Context, r *recorder, path string) bool {
	start := time.Now()
	status, err := o.e.send(o.e.newRequest(ctx, http.MethodGet, path), &o.buf)
	if !r.done(kindRecommend, time.Since(start), status, err) {
		return false
	}
	o.ranking.Personalized, o.ranking.Items = false, o.ranking.Items[:0]
	if err := json.Unmarshal(o.buf.Bytes(), &o.ranking); err != nil {
		r.bad(kindRecommend, "bad_answer")
		o.e.notes.warnOnce("fresh-answer", "cannot read a ranking", "err", err.Error())
		return false
	}
	return true
}

func (o *freshOp) has(item string) bool {
	return slices.Contains(o.ranking.Items, rankedItem{item})
}

func (o *freshOp) do(ctx context.Context, r *recorder, _ time.Time) {
	// A visitor whose ranking is personalised (consent given, some history) at a store.
	var path, user, store string
	for {
		if o.misses >= len(o.users) {
			o.done = true
			o.e.notes.warnOnce("fresh-none", "no visitor of a freshness worker has a personalised ranking: nothing to probe")
			return
		}
		user = o.users[o.next%len(o.users)]
		o.next++
		store = o.e.subj.Stores[o.rng.IntN(len(o.e.subj.Stores))]
		path = recommendPath(store, user)
		if !o.get(ctx, r, path) {
			return
		}
		if o.ranking.Personalized && len(o.ranking.Items) > 0 {
			o.misses = 0
			break
		}
		o.misses++
		r.skipped++
	}
	item := o.ranking.Items[0].ItemID

	o.seq++
	ev, _ := json.Marshal(map[string]any{
		"id": o.prefix + strconv.Itoa(o.seq), "type": "purchase", "user_id": user, "item_id": item,
		"store_id": store, "channel": "app", "quantity": 1, "occurred_at": time.Now().UTC().Format(time.RFC3339Nano),
	})
	post := o.e.newRequest(ctx, http.MethodPost, "/v1/events")
	post.Header.Set("Content-Type", "application/json")
	post.Body, post.ContentLength = io.NopCloser(bytes.NewReader(ev)), int64(len(ev))
	start := time.Now()
	status, err := o.e.send(post, &o.buf)
	if !r.done(kindIngest, time.Since(start), status, err) {
		return
	}
	t0 := time.Now() // the POST's 2xx is in
	var ans ingestAnswer
	if err := json.Unmarshal(o.buf.Bytes(), &ans); err != nil || ans.Accepted != 1 {
		r.bad(kindIngest, "not_accepted")
		o.e.notes.warnOnce("fresh-post", "the freshness event was not accepted", "answer", o.buf.String())
		return
	}
	r.events++

	for {
		if !o.get(ctx, r, path) {
			return
		}
		if !o.has(item) {
			r.fresh.RecordDuration(time.Since(t0))
			r.reflections++
			r.live.reflections.Add(1)
			return
		}
		if time.Since(t0) > o.e.probeTimeout {
			r.timeouts++
			o.e.notes.warnOnce("fresh-timeout", "a purchase did not show in the ranking in time",
				"timeout", o.e.probeTimeout.String(), "user", user, "store", store, "item", item)
			return
		}
		t := time.NewTimer(freshnessPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}
