package model

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// An array read from memory is allocated at its length at once; a length that the bytes
// left cannot hold, or any length from a stream, allocates at most 65,536 up front.
func TestDecoder_CapFor(t *testing.T) {
	t.Parallel()
	mem := newDecoder(bytes.NewReader(make([]byte, 400_000)))
	stream := newDecoder(io.MultiReader(strings.NewReader(strings.Repeat("x", 400))))
	for _, c := range []struct {
		d    *decoder
		n    int
		want int
	}{
		{mem, 100_000, 100_000},
		{mem, 100_001, 1 << 16}, // 400,004 bytes, more than remain: corrupt or truncated
		{mem, 100_000_000, 1 << 16},
		{stream, 100, 100},
		{stream, 100_000, 1 << 16},
	} {
		if got := c.d.capFor(c.n); got != c.want {
			t.Fatalf("capFor(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
