package tape

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// The borrower claims a HeaderBuilder spills to sorted runs give the same header as the same loans
// summed in memory: borrowers whose loans are scattered over the tape and over several runs are
// counted once, and the largest claim per borrower is their total across runs.
func TestHeaderSpilledRunsEqualInMemory(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 400).Draw(rt, "loans")
		nb := rapid.IntRange(1, 60).Draw(rt, "borrowers")
		spill := rapid.IntRange(1, 20).Draw(rt, "spill")
		mem, spilled := NewHeaderBuilder(), (*HeaderBuilder)(nil)
		defer mem.Close()
		old := borrowerSpill
		borrowerSpill = spill
		spilled = NewHeaderBuilder()
		defer spilled.Close()
		distinct := map[int]bool{}
		for i := 0; i < n; i++ {
			b := rapid.IntRange(0, nb-1).Draw(rt, "borrower")
			distinct[b] = true
			p := rapid.Int64Range(0, 1_000_000).Draw(rt, "principal")
			l := loanFor(fmt.Sprintf("L%d", i), fmt.Sprintf("B%03d", b), p, p/7, 200+i%900, 30, "110101")
			borrowerSpill = spill
			spilled.Add(&l)
			borrowerSpill = old
			mem.Add(&l)
		}
		borrowerSpill = old
		if len(distinct) >= spill && len(spilled.runs) == 0 {
			rt.Fatalf("no run was spilled with %d borrowers and a bound of %d", len(distinct), spill)
		}
		for _, f := range spilled.runs { // unlinked at once: a crash leaves no file behind
			if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
				rt.Fatalf("run %s is still in the directory: %v", f.Name(), err)
			}
		}
		hm, err := mem.Header()
		if err != nil {
			rt.Fatal(err)
		}
		hs, err := spilled.Header()
		if err != nil {
			rt.Fatal(err)
		}
		if !reflect.DeepEqual(hm, hs) {
			rt.Fatalf("spilled header differs:\n%+v\n%+v", hs, hm)
		}
		if hs2, _ := spilled.Header(); !reflect.DeepEqual(hs, hs2) {
			rt.Fatalf("a second Header() differs")
		}
	})
}

// The reader of spilled runs never panics or loops on a damaged file: it stops with an error.
func FuzzRunCursor(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 'c', 4, 1, 'x', 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{5, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &runCursor{r: bufio.NewReader(bytes.NewReader(data))}
		for n := 0; c.next(); n++ {
			if n > len(data) {
				t.Fatalf("more entries than bytes")
			}
		}
	})
}
