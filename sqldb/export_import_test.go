package sqldb

// SetRecentBorrowers lowers the number of borrowers an import keeps in memory, so that a small
// test exercises the look-ups of borrowers seen in earlier chunks; it returns the restore.
func SetRecentBorrowers(n int) (restore func()) {
	old := recentBorrowers
	recentBorrowers = n
	return func() { recentBorrowers = old }
}
