package sqldb

import "time"

// SetRecentBorrowers lowers the number of borrowers an import keeps in memory, so that a small
// test exercises the look-ups of borrowers seen in earlier chunks; it returns the restore.
func SetRecentBorrowers(n int) (restore func()) {
	old := recentBorrowers
	recentBorrowers = n
	return func() { recentBorrowers = old }
}

// SetImportDriverBindForTest makes imports bind their INSERTs through the driver rather than
// below database/sql; it returns the restore.
func SetImportDriverBindForTest(on bool) (restore func()) {
	old := importDriverBind
	importDriverBind = on
	return func() { importDriverBind = old }
}

// ImportBindsRawForTest reports whether the session's INSERTs went below database/sql.
func ImportBindsRawForTest(imp *Import) bool { return imp.rawMode == 1 }

// LoanColumnsForTest lists the loans columns an import writes.
const LoanColumnsForTest = loanColumns

// ImportLookupsForTest returns how many chunks of a session looked borrowers up in the
// transaction, and how many of those first waited for every queued chunk to be stored.
func ImportLookupsForTest(imp *Import) (lookups, drained int) { return imp.lookups, imp.lookupDrains }

// SetPipeStoreDelayForTest makes a pipelined import's goroutine wait d before each chunk, so that
// the session's caller runs ahead and finds chunks queued; it returns the restore.
func SetPipeStoreDelayForTest(d time.Duration) (restore func()) {
	old := pipeStoreDelay
	pipeStoreDelay = d
	return func() { pipeStoreDelay = old }
}
