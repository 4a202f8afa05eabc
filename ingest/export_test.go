package ingest

// ExactOnly returns opts set to skip the optimistic first attempt of an import.
func ExactOnly(opts Options) Options {
	opts.exactOnly = true
	return opts
}
