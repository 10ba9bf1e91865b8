package profile

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// BenchmarkStats_Memory reports the live heap held by the population statistics, the
// accumulator and its snapshot together, per buyer: 200,000 buyers over 12 top-level
// categories, each buying in 2 to 4 of them.
func BenchmarkStats_Memory(b *testing.B) {
	const nBuyers, nCats = 200_000, 12
	items := make([]*itemInfo, nCats)
	for c := range items {
		top := fmt.Sprintf("category-%02d", c)
		items[c] = &itemInfo{cats: []string{top, top + "/sub"}, price: float64(5 + 3*c)}
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var accBytes, snapBytes uint64
	for b.Loop() {
		r := rand.New(rand.NewPCG(1, 2))
		base := heap()
		acc := newAccumulator()
		var seq int64
		for u := range nBuyers {
			id := fmt.Sprintf("user-%07d", u)
			for _, c := range r.Perm(nCats)[:2+r.IntN(3)] {
				for range 1 + r.IntN(2) {
					seq++
					e := &qianmian.Event{Seq: seq, Type: qianmian.EventPurchase, UserID: id, ItemID: "item",
						Quantity: 1 + r.IntN(3), Amount: float64(r.IntN(10_000)) / 100,
						OccurredAt: at.Add(time.Duration(r.IntN(90*24)) * time.Hour)}
					acc.lastSeq = seq
					acc.add(e, items[c])
				}
			}
		}
		withAcc := heap()
		st := acc.snapshot(map[string]bool{"user-0000007": true}, at)
		withSnap := heap()
		runtime.KeepAlive(acc)
		runtime.KeepAlive(st)
		accBytes, snapBytes = withAcc-base, withSnap-withAcc
	}
	b.ReportMetric(float64(accBytes+snapBytes)/nBuyers, "B/buyer")
	b.ReportMetric(float64(accBytes)/nBuyers, "acc-B/buyer")
	b.ReportMetric(float64(snapBytes)/nBuyers, "snap-B/buyer")
}
