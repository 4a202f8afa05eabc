package main

import (
	"os"
	"syscall"
)

// sysRSS returns the child's peak resident set in MB.
func sysRSS(st *os.ProcessState) (float64, bool) {
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return float64(ru.Maxrss) / 1024, true
}
