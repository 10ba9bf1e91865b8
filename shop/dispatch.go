package shop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/qianmian/qianmian"
)

// Backoff is the wait between delivery attempts: Base after the first failure, doubling
// after each further one, at most Max, each scaled by a factor drawn uniformly from
// [1−Jitter, 1+Jitter] so that receivers that failed together are not retried together.
type Backoff struct {
	Base   time.Duration
	Max    time.Duration
	Jitter float64 // 0 to 1
}

// DefaultBackoff waits 1 s, 2 s, 4 s … up to 5 min, ±20%.
func DefaultBackoff() Backoff {
	return Backoff{Base: time.Second, Max: 5 * time.Minute, Jitter: 0.2}
}

// Delay returns the wait after failed attempt n (1 for the first), with u in [0, 1) the
// random draw of the jitter.
func (b Backoff) Delay(n int, u float64) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	j := min(max(b.Jitter, 0), 1)
	return time.Duration(float64(d) * (1 - j + 2*j*u))
}

// Dispatcher delivers store alerts from the outbox to each store's webhook: a signed POST
// (see HeaderSignature), acknowledged by any 2xx, otherwise retried with Backoff until
// GiveUpAfter has passed since the alert was made. Deliveries are leased while in flight,
// so a dispatcher that dies mid-attempt leaves them for the next one after Lease. Set its
// fields, then Open; Close when done.
type Dispatcher struct {
	Webhooks qianmian.AlertService
	Outbox   qianmian.AlertOutbox
	// Client sends the POSTs. NewDispatcher's follows no redirects, times out after 10 s and
	// refuses to connect to link-local addresses (cloud metadata services).
	Client *http.Client
	// Backoff spaces the attempts; GiveUpAfter ends them.
	Backoff     Backoff
	GiveUpAfter time.Duration
	// Lease is how long a claimed delivery is not handed out again: more than an attempt
	// takes (the Client's timeout).
	Lease time.Duration
	// MaxInFlight bounds concurrent attempts, so one slow receiver cannot delay the others.
	MaxInFlight int

	Logger  *slog.Logger     // defaults to discarding
	Now     func() time.Time // defaults to time.Now
	Metrics *Metrics         // nil records nothing

	kick   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	rngMu  sync.Mutex
	rng    *mrand.Rand
}

// NewDispatcher returns a Dispatcher with the defaults: DefaultBackoff, giving up after a
// day, a one-minute lease and 16 attempts in flight.
func NewDispatcher() *Dispatcher {
	return &Dispatcher{
		Client:      newWebhookClient(),
		Backoff:     DefaultBackoff(),
		GiveUpAfter: 24 * time.Hour,
		Lease:       time.Minute,
		MaxInFlight: 16,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         time.Now,
	}
}

// webhookTimeout bounds one attempt.
const webhookTimeout = 10 * time.Second

func newWebhookClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: refuseLinkLocal}
	return &http.Client{
		Timeout: webhookTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: webhookTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		// A redirect would send the alert where the store did not say: not followed, so a
		// 3xx is a failed attempt.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refuseLinkLocal refuses connections to link-local and unspecified addresses, where cloud
// metadata services answer: a store's key sets its webhook URL, and must not reach them.
func refuseLinkLocal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("webhook address %s refused", host)
	}
	return nil
}

// Open starts delivering: whatever is due in the outbox, at once.
func (d *Dispatcher) Open() error {
	if d.cancel != nil {
		return errors.New("shop: Dispatcher already open")
	}
	if d.Webhooks == nil || d.Outbox == nil {
		return errors.New("shop: Dispatcher needs Webhooks and Outbox")
	}
	if d.Client == nil {
		d.Client = newWebhookClient()
	}
	if d.Backoff.Base <= 0 {
		d.Backoff = DefaultBackoff()
	}
	if d.Backoff.Max < d.Backoff.Base {
		d.Backoff.Max = d.Backoff.Base
	}
	if d.GiveUpAfter <= 0 {
		d.GiveUpAfter = 24 * time.Hour
	}
	if d.Lease <= 0 {
		d.Lease = time.Minute
	}
	if d.MaxInFlight <= 0 {
		d.MaxInFlight = 16
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails
	d.rng = mrand.New(mrand.NewChaCha8(seed))
	d.kick = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.run(ctx)
	}()
	return nil
}

// Close stops the dispatcher. Attempts in flight are cut short and left due at once, without
// counting, for the next start.
func (d *Dispatcher) Close() error {
	if d.cancel != nil {
		d.cancel()
		d.wg.Wait()
		d.cancel = nil
	}
	return nil
}

// Notify tells the dispatcher the outbox has new deliveries. It never blocks.
func (d *Dispatcher) Notify() {
	if d.kick == nil {
		return
	}
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// idlePoll bounds the dispatcher's sleep: the outbox is looked at this often even without a
// Notify (an alert made by another process).
const idlePoll = 30 * time.Second

// run claims due deliveries while it has room for them, sleeping until the next is due, a
// Notify, or an attempt ending.
func (d *Dispatcher) run(ctx context.Context) {
	var inflight sync.WaitGroup
	defer inflight.Wait()
	finished := make(chan struct{}, d.MaxInFlight)
	busy := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-timer.C:
		case <-finished:
			busy--
		}
		for drained := false; !drained; {
			select {
			case <-finished:
				busy--
			default:
				drained = true
			}
		}
		wait := idlePoll
		if busy < d.MaxInFlight {
			list, err := d.Outbox.ClaimDeliveries(ctx, d.Now(), d.Lease, d.MaxInFlight-busy)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d.Logger.Error("shop: claim deliveries", "err", err)
				timer.Reset(time.Second)
				continue
			}
			for _, a := range list {
				busy++
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					d.deliver(ctx, a)
					finished <- struct{}{}
				}()
			}
			if busy < d.MaxInFlight {
				next, err := d.Outbox.NextDeliveryAt(ctx)
				switch {
				case err != nil && ctx.Err() == nil:
					d.Logger.Error("shop: next delivery", "err", err)
					wait = time.Second
				case err == nil && !next.IsZero():
					wait = min(max(next.Sub(d.Now()), 0), idlePoll)
				}
			}
		}
		timer.Reset(wait)
	}
}

// deliver makes one attempt at delivering a and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, a *qianmian.StoreAlert) {
	n := 1
	if a.Delivery != nil {
		n = a.Delivery.Attempts + 1
	}
	reason, msg := d.post(ctx, a)
	// Record even while shutting down: the database outlives the dispatcher.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if reason == "canceled" {
		// Cut short by Close before the receiver answered: not an attempt.
		if err := d.Outbox.ReleaseDelivery(rctx, a.Seq, d.Now()); err != nil {
			d.Logger.Warn("shop: release delivery", "alert_id", a.ID, "err", err)
		}
		return
	}
	rec := qianmian.DeliveryAttempt{At: d.Now(), Delivered: reason == "", Error: msg}
	d.Metrics.attempt(n, rec.Delivered, reason, rec.At.Sub(a.CreatedAt))
	switch {
	case rec.Delivered:
		d.Logger.Info("store alert delivered", "alert_id", a.ID, "store_id", a.StoreID, "attempt", n,
			"latency", rec.At.Sub(a.CreatedAt))
	case reason == "no_webhook" || rec.At.Sub(a.CreatedAt) >= d.GiveUpAfter:
		d.Metrics.deliveryAbandoned()
		d.Logger.Warn("store alert given up", "alert_id", a.ID, "store_id", a.StoreID, "attempts", n, "last_error", msg)
	default:
		rec.NextAttemptAt = rec.At.Add(d.Backoff.Delay(n, d.random()))
		d.Logger.Info("store alert delivery failed; will retry", "alert_id", a.ID, "store_id", a.StoreID,
			"attempt", n, "error", msg, "next_attempt_at", rec.NextAttemptAt)
	}
	if err := d.Outbox.RecordAttempt(rctx, a.Seq, rec); err != nil {
		// The lease runs out and the alert is tried again: at least once, never lost.
		d.Logger.Error("shop: record delivery attempt", "alert_id", a.ID, "err", err)
	}
}

func (d *Dispatcher) random() float64 {
	d.rngMu.Lock()
	defer d.rngMu.Unlock()
	return d.rng.Float64()
}

// post sends a to its store's webhook. It returns "" when acknowledged, "canceled" when ctx
// ended before an answer, else a metric label and a message for the store that names no
// address.
func (d *Dispatcher) post(ctx context.Context, a *qianmian.StoreAlert) (reason, msg string) {
	wh, err := d.Webhooks.FindWebhook(ctx, a.StoreID)
	if ctx.Err() != nil {
		return "canceled", ""
	}
	if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
		return "no_webhook", "no webhook configured"
	} else if err != nil {
		d.Logger.Error("shop: find webhook", "store_id", a.StoreID, "err", err)
		return "internal", "internal error"
	}
	req, err := d.request(ctx, wh, a)
	if err != nil {
		d.Logger.Error("shop: webhook request", "store_id", a.StoreID, "err", err)
		return "internal", "internal error"
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "canceled", ""
		}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return "timeout", "timeout"
		}
		return "connection", "connection failed"
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return "", ""
	case resp.StatusCode >= 500:
		return "http_5xx", "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return "http_4xx", "HTTP " + strconv.Itoa(resp.StatusCode) // 3xx counted with 4xx: not followed
}

// request returns the signed POST of a to wh.
func (d *Dispatcher) request(ctx context.Context, wh *qianmian.Webhook, a *qianmian.StoreAlert) (*http.Request, error) {
	payload := *a
	payload.Delivery = nil
	body, err := json.Marshal(&payload)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(d.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "qianmian-webhook/1")
	req.Header.Set(HeaderAlertID, a.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(wh.Secret, ts, body))
	return req, nil
}
