package sqldb

// ImportCopyColumnsForTest returns, for each table the PostgreSQL import fills with binary COPY,
// its columns and the type each is encoded as (format_type's name).
func ImportCopyColumnsForTest() map[string][][2]string {
	out := map[string][][2]string{}
	for _, t := range []*copyTable{loansCopy, borrowersCopy, piiCopy} {
		for i, c := range t.cols {
			out[t.name] = append(out[t.name], [2]string{c, t.types[i]})
		}
	}
	return out
}
