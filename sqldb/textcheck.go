package sqldb

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"reclaim"
)

// PostgreSQL refuses text that is not valid UTF-8 or holds a NUL (SQLSTATE 22021,
// character_not_in_repertoire; 22P05, untranslatable_character) while SQLite stores it. sqldb
// makes both engines answer alike: Tx.Exec and Tx.Query refuse such a string argument before the
// database sees it, and dbError reports PostgreSQL's refusal of one that reached it by another
// path as EINVALID, never as an internal error. httpapi refuses such text at the edge first; this
// is the last line.

// errBadText is the validation error for a string argument that cannot be stored as text.
func errBadText(arg int, why string) error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: "text must be valid UTF-8 without NUL characters",
		Fields: map[string]string{"text": "argument " + strconv.Itoa(arg) + " " + why}}
}

// checkArgs refuses a string argument that is not valid UTF-8 or contains a NUL (EINVALID).
// []byte arguments are binary and pass.
func checkArgs(args []any) error {
	for i, a := range args {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case *string:
			if v == nil {
				continue
			}
			s = *v
		default:
			continue
		}
		if !utf8.ValidString(s) {
			return errBadText(i+1, "is not valid UTF-8")
		}
		for j := 0; j < len(s); j++ {
			if s[j] == 0 {
				return errBadText(i+1, "contains a NUL character")
			}
		}
	}
	return nil
}

// isBadText reports whether err is PostgreSQL refusing text for its encoding.
func isBadText(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05")
}
