package synth

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// decodeIf decodes GBK/GB18030 bytes to UTF-8.
func decodeIf(t *testing.T, b []byte, enc string) []byte {
	t.Helper()
	switch strings.ToLower(enc) {
	case "gbk", "gb18030":
		out, err := io.ReadAll(transform.NewReader(bytes.NewReader(b), simplifiedchinese.GB18030.NewDecoder()))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return b
}
