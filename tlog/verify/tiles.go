package verify

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of every Reclaim tile: 2^8 = 256 hashes or entries per full tile, as
// C2SP tlog-tiles requires.
const TileHeight = 8

// TileWidth is the number of hashes (or entries) in a full tile.
const TileWidth = 1 << TileHeight

// TilePath returns the C2SP tlog-tiles path of t: "tile/<L>/<N>[.p/<W>]" for hash tiles and
// "tile/entries/<N>[.p/<W>]" for entry bundles (t.L == -1, as in sumdb). N is written in
// three-digit groups, all but the last prefixed with x (1234067 is x001/x234/067); the .p/<W>
// suffix appears only for partial tiles (W < 256). It returns "" for a tile that has no path:
// H other than 8, L outside -1..63, negative N, or W outside 1..256.
func TilePath(t tlog.Tile) string {
	if t.H != TileHeight || t.L < -1 || t.L > 63 || t.N < 0 || t.W < 1 || t.W > TileWidth {
		return ""
	}
	var b strings.Builder
	b.WriteString("tile/")
	if t.L == -1 {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.L))
	}
	b.WriteByte('/')
	n := t.N
	var groups []int64
	for {
		groups = append(groups, n%1000)
		n /= 1000
		if n == 0 {
			break
		}
	}
	for i := len(groups) - 1; i >= 0; i-- {
		if i > 0 {
			fmt.Fprintf(&b, "x%03d/", groups[i])
		} else {
			fmt.Fprintf(&b, "%03d", groups[i])
		}
	}
	if t.W < TileWidth {
		fmt.Fprintf(&b, ".p/%d", t.W)
	}
	return b.String()
}

// ParseTilePath parses a path written by TilePath (with or without a leading "/") and returns
// the tile with H = 8. It accepts only the canonical form: L from 0 to 63 without leading
// zeros (or "entries", giving L = -1), N in x-prefixed three-digit groups with no leading zero
// group, and W from 1 to 255 without leading zeros.
func ParseTilePath(p string) (tlog.Tile, error) {
	bad := func(why string) (tlog.Tile, error) {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q: %s", p, why)
	}
	s := strings.TrimPrefix(p, "/")
	if len(s) > 128 {
		return bad("too long")
	}
	f := strings.Split(s, "/")
	if len(f) < 3 || f[0] != "tile" {
		return bad(`want tile/<L>/<N>[.p/<W>]`)
	}
	t := tlog.Tile{H: TileHeight, W: TileWidth}
	if f[1] == "entries" {
		t.L = -1
	} else {
		l, ok := smallDecimal(f[1], 63)
		if !ok {
			return bad("level must be 0 to 63 without leading zeros")
		}
		t.L = l
	}
	f = f[2:]
	if last := f[len(f)-1]; len(f) >= 2 && strings.HasSuffix(f[len(f)-2], ".p") {
		w, ok := smallDecimal(last, TileWidth-1)
		if !ok || w == 0 {
			return bad("partial width must be 1 to 255 without leading zeros")
		}
		t.W = w
		f[len(f)-2] = strings.TrimSuffix(f[len(f)-2], ".p")
		f = f[:len(f)-1]
	}
	if len(f) > 7 {
		return bad("index too large")
	}
	for i, g := range f {
		if i < len(f)-1 {
			if !strings.HasPrefix(g, "x") {
				return bad("index groups other than the last must start with x")
			}
			g = g[1:]
		}
		if len(g) != 3 || g[0] < '0' || g[0] > '9' || g[1] < '0' || g[1] > '9' || g[2] < '0' || g[2] > '9' {
			return bad("index groups must be three digits")
		}
		d := int64(g[0]-'0')*100 + int64(g[1]-'0')*10 + int64(g[2]-'0')
		if i == 0 && d == 0 && len(f) > 1 {
			return bad("leading zero index group")
		}
		if t.N > (1<<63-1-d)/1000 {
			return bad("index too large")
		}
		t.N = t.N*1000 + d
	}
	if TilePath(t) != s {
		return bad("not in canonical form")
	}
	return t, nil
}

// smallDecimal parses a decimal in 0..max without sign or leading zeros.
func smallDecimal(s string, max int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= max
}

// ParseHashTile splits the data of hash tile t (L >= 0) into its t.W hashes. The data must be
// exactly t.W*32 bytes: a truncated or padded tile is an error.
func ParseHashTile(t tlog.Tile, data []byte) ([]tlog.Hash, error) {
	if t.L < 0 || t.W < 1 || t.W > TileWidth {
		return nil, fmt.Errorf("tile %+v is not a hash tile", t)
	}
	if len(data) != t.W*tlog.HashSize {
		return nil, fmt.Errorf("tile %s is %d bytes, want %d (%d hashes)", TilePath(t), len(data), t.W*tlog.HashSize, t.W)
	}
	out := make([]tlog.Hash, t.W)
	for i := range out {
		copy(out[i][:], data[i*tlog.HashSize:])
	}
	return out, nil
}

// MaxBundleEntry is the largest entry an entry bundle can hold (its length is a uint16).
const MaxBundleEntry = 1<<16 - 1

// AppendEntryBundle appends entry to the entry bundle dst as a big-endian uint16 length followed
// by the entry's bytes, and returns the extended bundle. It fails for an entry longer than
// MaxBundleEntry bytes.
func AppendEntryBundle(dst, entry []byte) ([]byte, error) {
	if len(entry) > MaxBundleEntry {
		return dst, fmt.Errorf("entry of %d bytes does not fit in an entry bundle (max %d)", len(entry), MaxBundleEntry)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(entry)))
	return append(dst, entry...), nil
}

// ParseEntryBundle splits an entry bundle into exactly width entries (1 to 256; the W of its
// tile). A bundle that ends inside an entry, has bytes after the last entry, or holds a
// different number of entries is an error naming the offset. The returned slices alias data.
func ParseEntryBundle(data []byte, width int) ([][]byte, error) {
	if width < 1 || width > TileWidth {
		return nil, fmt.Errorf("entry bundle width %d is outside 1..%d", width, TileWidth)
	}
	out := make([][]byte, 0, width)
	for off := 0; off < len(data); {
		if len(out) == width {
			return nil, fmt.Errorf("entry bundle has %d bytes after its %d entries (at offset %d)", len(data)-off, width, off)
		}
		if off+2 > len(data) {
			return nil, fmt.Errorf("entry bundle truncated in the length of entry %d (offset %d)", len(out), off)
		}
		n := int(binary.BigEndian.Uint16(data[off:]))
		off += 2
		if off+n > len(data) {
			return nil, fmt.Errorf("entry bundle truncated in entry %d: %d of %d bytes (offset %d)", len(out), len(data)-off, n, off)
		}
		out = append(out, data[off:off+n:off+n])
		off += n
	}
	if len(out) != width {
		return nil, fmt.Errorf("entry bundle has %d entries, want %d", len(out), width)
	}
	return out, nil
}
