// Package qr encodes QR symbols for the receipt encoder and the displays.
//
// A symbol is encoded once: Matrix keeps the last few symbols it encoded,
// shared by every caller in the process, so a payment's merchant and
// customer receipts (the same payment number on both) cost one encode, and
// a display showing the same code again costs none. Encoding is most of
// what a raster QR receipt or a display's QR costs (the 2026-12-01
// performance review: 70-285 µs a symbol, run twice per payment).
//
// PNG writes a symbol as a 1-bit grayscale PNG directly, row by row: the
// image is black and white, and image/png spent two thirds of the
// display QR's time going through a paletted image pixel by pixel.
//
// The cache holds the symbols' data (a merchant QR's payload among them)
// in memory only, as the callers do; it is never written or logged.
package qr

import (
	"fmt"
	"sync"

	"github.com/skip2/go-qrcode"
)

// Level is the error correction level.
type Level int

// Error correction levels (ISO/IEC 18004): about 7, 15, 25 and 30 % of
// the symbol may be lost.
const (
	L Level = iota
	M
	Q
	H
)

func (l Level) recovery() (qrcode.RecoveryLevel, error) {
	switch l {
	case L:
		return qrcode.Low, nil
	case M:
		return qrcode.Medium, nil
	case Q:
		return qrcode.High, nil
	case H:
		return qrcode.Highest, nil
	}
	return 0, fmt.Errorf("qr: error correction level %d (want L, M, Q or H)", int(l))
}

// Symbol is an encoded QR code: Size×Size modules, no quiet zone. It is
// shared: callers must not change it.
type Symbol struct {
	modules [][]bool
}

// Size is the number of modules per side.
func (s Symbol) Size() int { return len(s.modules) }

// Dark reports whether the module at column x, row y is dark.
func (s Symbol) Dark(x, y int) bool { return s.modules[y][x] }

// Rows returns the modules, row by row, true for dark. The slices are
// shared: read them, never write them.
func (s Symbol) Rows() [][]bool { return s.modules }

// cacheSize is how many symbols are kept: the few a till has on the go at
// once (a payment number printed twice, a merchant QR on one or more
// displays).
const cacheSize = 8

type key struct {
	data  string
	level Level
}

var cache struct {
	mu      sync.Mutex
	entries []cacheEntry // most recently used last
	encodes int          // symbols encoded (for tests)
}

type cacheEntry struct {
	k key
	s Symbol
}

// Encode returns data's QR symbol (model 2) at level, encoding it only
// when it is not among the last symbols encoded. The error never contains
// the data.
func Encode(data string, level Level) (Symbol, error) {
	rl, err := level.recovery()
	if err != nil {
		return Symbol{}, err
	}
	k := key{data, level}
	if s, ok := lookup(k); ok {
		return s, nil
	}
	// Encoded outside the lock: two callers racing for a new symbol may
	// both encode it, which is harmless and rare.
	q, err := qrcode.New(data, rl)
	if err != nil {
		return Symbol{}, fmt.Errorf("qr: encoding %d bytes failed", len(data))
	}
	q.DisableBorder = true
	s := Symbol{modules: q.Bitmap()}
	store(k, s)
	return s, nil
}

func lookup(k key) (Symbol, bool) {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	for i, e := range cache.entries {
		if e.k == k {
			// Most recently used last.
			cache.entries = append(append(cache.entries[:i:i], cache.entries[i+1:]...), e)
			return e.s, true
		}
	}
	return Symbol{}, false
}

func store(k key, s Symbol) {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	cache.encodes++
	for _, e := range cache.entries {
		if e.k == k {
			return
		}
	}
	if len(cache.entries) == cacheSize {
		cache.entries = append(cache.entries[:0:0], cache.entries[1:]...)
	}
	cache.entries = append(cache.entries, cacheEntry{k, s})
}

// Encodes is how many symbols this process has encoded, as opposed to
// found among those it had (for tests and benchmarks).
func Encodes() int {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	return cache.encodes
}
