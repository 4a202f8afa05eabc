package sqldb

import (
	"bytes"
	"slices"
	"testing"

	"reclaim/workout"
)

func TestBlindTermsRoundTrip(t *testing.T) {
	h := func(c byte) []byte { return bytes.Repeat([]byte{c}, 32) }
	terms := []workout.BlindTerm{
		{Kind: "nid", Hash: h(1)},
		{Kind: "phone", Hash: h(2)},
		{Kind: "nid", Hash: h(1)},                     // the same term again: kept once
		{Kind: "", Hash: h(3)},                        // no kind: skipped
		{Kind: "phone", Hash: nil},                    // no hash: skipped
		{Kind: "phone", Hash: h(4)},                   // a second phone
		{Kind: string(make([]byte, 256)), Hash: h(5)}, // too long to be a kind: skipped
	}
	enc := encodeBlindTerms(terms)
	got, err := decodeBlindTerms(enc)
	if err != nil {
		t.Fatal(err)
	}
	want := []workout.BlindTerm{terms[0], terms[1], terms[5]}
	if !slices.EqualFunc(got, want, workout.SameTerms) || len(got) != len(want) {
		t.Fatalf("decoded %v, want %v", got, want)
	}
	if len(enc) != 3*(1+1+32)+3+5+5 {
		t.Errorf("encoding is %d bytes", len(enc))
	}
	if encodeBlindTerms(terms[3:5]) != nil || encodeBlindTerms(nil) != nil {
		t.Error("no kept term must encode as NULL")
	}
	enc[len(enc)-1] ^= 0xff // the driver may reuse the column's buffer
	if !bytes.Equal(got[2].Hash, h(4)) {
		t.Error("the decoded hash is a view of the column's bytes")
	}
	for _, bad := range [][]byte{{0}, {3, 'n', 'i'}, {3, 'n', 'i', 'd'}, {3, 'n', 'i', 'd', 0}, {3, 'n', 'i', 'd', 2, 1}} {
		if _, err := decodeBlindTerms(bad); err == nil {
			t.Errorf("decodeBlindTerms(%v) accepted a malformed value", bad)
		}
	}
}

// FuzzBlindTerms: decoding never panics; whatever decodes encodes back to the same bytes when its
// terms are distinct, and every encoding decodes to the terms that were kept.
func FuzzBlindTerms(f *testing.F) {
	f.Add(encodeBlindTerms([]workout.BlindTerm{{Kind: "nid", Hash: []byte("0123456789abcdef0123456789abcdef")}}))
	f.Add([]byte{3, 'n', 'i', 'd', 1, 7, 5, 'p', 'h', 'o', 'n', 'e', 1, 9})
	f.Add([]byte{255})
	f.Fuzz(func(t *testing.T, b []byte) {
		terms, err := decodeBlindTerms(b)
		if err != nil {
			return
		}
		re := encodeBlindTerms(terms)
		back, err := decodeBlindTerms(re)
		if err != nil {
			t.Fatalf("re-encoding %x does not decode: %v", re, err)
		}
		kept := 0
		for i := range terms {
			if blindKept(terms, i) {
				if !workout.SameTerms(terms[i], back[kept]) {
					t.Fatalf("term %d: %v came back as %v", i, terms[i], back[kept])
				}
				kept++
			}
		}
		if kept != len(back) {
			t.Fatalf("%d terms kept, %d came back", kept, len(back))
		}
		if kept == len(terms) && len(b) > 0 && !bytes.Equal(re, b) {
			t.Fatalf("distinct terms %x re-encoded as %x", b, re)
		}
	})
}
