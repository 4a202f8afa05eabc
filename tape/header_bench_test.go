package tape

import (
	"fmt"
	"testing"

	"reclaim"
)

// BenchmarkHeaderBuilder adds 300,000 loans of some 250,000 borrowers (a fifth of them repeated).
func BenchmarkHeaderBuilder(b *testing.B) {
	loans := make([]reclaim.Loan, 300000)
	for i := range loans {
		bid := i
		if i%5 == 0 {
			bid = (i * 7919) % 240000
		}
		loans[i] = loanFor(fmt.Sprintf("L%d", i), fmt.Sprintf("C%09d", bid), 100000, 2000, 300, 40, "110101")
	}
	b.ResetTimer()
	for range b.N {
		h := NewHeaderBuilder()
		for i := range loans {
			h.Add(&loans[i])
		}
		h.Header()
		h.Close()
	}
}
