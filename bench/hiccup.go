package bench

import (
	"sync/atomic"
	"time"
)

const (
	// hiccupSleep is the sleep of the hiccup meter.
	hiccupSleep = time.Millisecond
	// hiccupStall is the oversleep counted in Result.HiccupOver5ms.
	hiccupStall = 5 * time.Millisecond
)

// hiccupMeter measures the stalls of the generator's own process, in the manner of jHiccup:
// a goroutine sleeps hiccupSleep in a loop and records by how much each sleep overran.
// Whatever delays it (the OS or hypervisor not running the process, GC pauses, the Go
// scheduler with every P busy) delays the workers' timestamps alike, so large oversleeps
// are latency the server did not cause. A tick does not allocate.
type hiccupMeter struct {
	stopping atomic.Bool
	done     chan struct{}
	h        Histogram // oversleeps in ns; read only after stop
	stalls   int64     // oversleeps above hiccupStall
}

// startHiccupMeter starts a meter; stop it with stop.
func startHiccupMeter() *hiccupMeter {
	m := &hiccupMeter{done: make(chan struct{})}
	go m.run()
	return m
}

func (m *hiccupMeter) run() {
	defer close(m.done)
	for !m.stopping.Load() {
		t0 := time.Now()
		time.Sleep(hiccupSleep)
		over := max(time.Since(t0)-hiccupSleep, 0)
		m.h.RecordDuration(over)
		if over > hiccupStall {
			m.stalls++
		}
	}
}

// stop ends the meter and waits for its last sleep; its figures are then final.
func (m *hiccupMeter) stop() {
	m.stopping.Store(true)
	<-m.done
}
