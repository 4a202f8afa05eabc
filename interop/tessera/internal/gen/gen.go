// Package gen produces deterministic log entries shaped like Reclaim ledger
// entries (UTF-8 JSON, fixed key order, no floats, amounts as strings), padded
// to an exact byte size so that benchmark runs are comparable.
package gen

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Entry returns entry number i of a deterministic sequence, exactly size bytes
// long. Entries are distinct for distinct i. If size is too small to hold the
// JSON skeleton (about 190 bytes), a compact binary form is used instead: the
// 8-byte big-endian index followed by filler.
func Entry(pool string, i uint64, size int) []byte {
	if size < 8 {
		size = 8
	}
	// Everything is derived from i with cheap integer mixing so that the
	// bytes vary from entry to entry (no compression-friendly runs apart from
	// the padding) without costing measurable CPU next to SHA-256.
	x := mix(i)
	amount := 1000 + x%9_000_000 // minor units
	principal := amount * 7 / 10
	day := 1 + x%28
	month := 1 + (x>>8)%12
	b := make([]byte, 0, size)
	b = append(b, `{"v":1,"pool":"`...)
	b = append(b, pool...)
	b = append(b, `","event_id":"`...)
	b = fmt.Appendf(b, "%016x-%08x", x, uint32(i))
	b = append(b, `","type":"loan.collection","effective":"2026-`...)
	b = fmt.Appendf(b, "%02d-%02d", month, day)
	b = append(b, `","loan":"L`...)
	b = fmt.Appendf(b, "%010d", i%10_000_000_000)
	b = append(b, `","amount":"`...)
	b = strconv.AppendUint(b, amount, 10)
	b = append(b, `","principal":"`...)
	b = strconv.AppendUint(b, principal, 10)
	b = append(b, `","interest":"`...)
	b = strconv.AppendUint(b, amount-principal, 10)
	b = append(b, `","channel":"bank","pad":"`...)
	const tail = `"}`
	if len(b)+len(tail) > size {
		// Too small for JSON: binary fallback.
		out := make([]byte, size)
		binary.BigEndian.PutUint64(out, i)
		for j := 8; j < size; j++ {
			out[j] = byte('a' + (j+int(x))%26)
		}
		return out
	}
	for len(b)+len(tail) < size {
		b = append(b, byte('a'+(len(b)+int(x))%26))
	}
	return append(b, tail...)
}

// mix is the SplitMix64 finaliser.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
