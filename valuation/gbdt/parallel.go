package gbdt

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// resolveThreads maps the Threads parameter to a worker count.
func resolveThreads(t int) int {
	if t <= 0 {
		t = runtime.GOMAXPROCS(0)
	}
	return max(t, 1)
}

// parallelFor runs fn(0..n-1) on up to threads goroutines. Tasks write only to their own
// outputs, so results never depend on which worker ran which task.
func parallelFor(threads, n int, fn func(i int)) {
	if threads <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(threads, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// sumBlocks sums f over fixed blocks of [0, n) in block order, so the float result does not
// depend on the thread count.
func sumBlocks(threads, n, block int, f func(lo, hi int) (float64, float64)) (float64, float64) {
	nb := (n + block - 1) / block
	a := make([]float64, nb)
	b := make([]float64, nb)
	parallelFor(threads, nb, func(t int) {
		a[t], b[t] = f(t*block, min(n, (t+1)*block))
	})
	var sa, sb float64
	for t := range a {
		sa += a[t]
		sb += b[t]
	}
	return sa, sb
}
