package tape

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkRecordReader reads data with recordReader (through a bufio.Reader of size bufSize) and
// with encoding/csv, and fails unless both give the same records, lines and errors.
func checkRecordReader(t *testing.T, data []byte, comma rune, bufSize int) {
	t.Helper()
	ref := csv.NewReader(bytes.NewReader(data))
	ref.FieldsPerRecord = -1
	ref.Comma = comma
	rr := newRecordReader(bufio.NewReaderSize(bytes.NewReader(data), bufSize), comma, 1<<40)
	for i := 0; ; i++ {
		if i > len(data)+2 {
			t.Fatal("no end")
		}
		want, werr := ref.Read()
		got, line, valid, err := rr.read()
		var wpe, pe *csv.ParseError
		switch {
		case werr == io.EOF:
			if err != io.EOF {
				t.Fatalf("record %d: got %q %v, want io.EOF", i, got, err)
			}
			return
		case errors.As(werr, &wpe):
			if !errors.As(err, &pe) || *pe != *wpe {
				t.Fatalf("record %d: got error %#v, want %#v", i, err, werr)
			}
		case werr != nil:
			if err == nil || err == io.EOF {
				t.Fatalf("record %d: got %q %v, want error %v", i, got, err, werr)
			}
			return
		default:
			wline, _ := ref.FieldPos(0)
			if err != nil || !slices.Equal(got, want) || line != wline {
				t.Fatalf("record %d: got %q line %d %v, want %q line %d", i, got, line, err, want, wline)
			}
			if valid {
				for _, c := range got {
					if !utf8.ValidString(c) {
						t.Fatalf("record %d: %q called valid", i, got)
					}
				}
			}
		}
	}
}

func TestRecordReader(t *testing.T) {
	inputs := []string{
		"", "\n", "\r\n", "\r", "a", "a\r", "a\r\r", "a\n", "a\r\n", "a\r\r\n", "a\rb,c\n",
		"a,b\n\nc,d\n", "a,b\r\n\r\nc,d", "a,b\n\"c\nd\",e\n\nf,g\n", "a,\"b\"\"c\",d\nx,y\n",
		"a,b\"c\nd,e\n", "a,\"b\"c\nd,e\n", "a,\"b\nc,d\n", "a,\"b\"\r\nc,d\r\n", ",,\n,\n",
		" a , b \n", "\"\"\n", "a,b\n\"", "x\xff,y\n\xe4\xb8,z\n", "长,度\n中,文\n",
		"a;b|c\td,e\n" + strings.Repeat("x", 100) + ",y\n" + strings.Repeat("z\n", 3),
		"\"a\",\"b\"\n\"c\nd\",e\r\n",
	}
	for _, in := range inputs {
		for _, comma := range []rune{',', ';', '\t', '|', '，', '"', '\n', 0} {
			for _, size := range []int{16, 17, 40, 4096} {
				checkRecordReader(t, []byte(in), comma, size)
			}
		}
	}
}

func FuzzRecordReader(f *testing.F) {
	for _, name := range []string{"basic.csv", "utf8_bom_zh.csv", "truncated.csv", "ragged.csv", "empty_rows.csv", "multiline.csv", "bare_quote.csv", "semicolon.csv"} {
		b, err := readTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), uint8(0))
	}
	f.Add([]byte("a,b\r\n\"x\"\"y\",z\r\n\r\n1,2"), uint8(0), uint8(3))
	f.Add([]byte("a;b\n\"c\nd\";e\nf\"g;h\n"), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, c, size uint8) {
		commas := []rune{',', ';', '\t', '|', '，', 'a'}
		checkRecordReader(t, data, commas[int(c)%len(commas)], 16+int(size%64))
		checkRecordReader(t, data, commas[int(c)%len(commas)], 4096)
	})
}

// TestRecordReaderLimit: a record longer than the limit stops reading (quoted or not, one line or
// several); one of exactly the limit does not.
func TestRecordReaderLimit(t *testing.T) {
	tests := []struct {
		data string
		ok   int // records read before the limit trips (-1: none trips)
	}{
		{"ab,c\n0123456789\nx\n", 1},
		{"ab,c\n012345678\nx\n", -1},
		{"ab,c\n\"01\n34567\"\nx\n", 1},
		{"ab,c\n\"01\n3456\"\nx\n", -1},
		{"ab,c\n\"0123456789", 1},
	}
	for _, tt := range tests {
		for _, size := range []int{16, 4096} {
			rr := newRecordReader(bufio.NewReaderSize(strings.NewReader(tt.data), size), ',', 10)
			n := 0
			var err error
			for {
				if _, _, _, err = rr.read(); err != nil {
					break
				}
				n++
			}
			if tt.ok < 0 && (err != io.EOF || rr.feed.tripped) || tt.ok >= 0 && (n != tt.ok || !rr.feed.tripped || err != errRecordTooLarge) {
				t.Errorf("%q (buffer %d): %d records, then %v (tripped %v)", tt.data, size, n, err, rr.feed.tripped)
			}
		}
	}
}

// BenchmarkRecordReader reads 20,000 records shaped like a synthetic bank tape's (42 cells, some
// Chinese text, no quotes).
func BenchmarkRecordReader(b *testing.B) {
	var buf bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&buf, "SYN-bank_mixed-7,2025-06-30,LN%010d,C%09d,consumer_loan,2023-04-25,29700.00,CNY,16493.69,1657.12,362.92,18513.73,"+
			"2024-09-25,278,doubtful,false,,unsecured,2024-09-02,763.58,not_sued,,,2027-09-25,1975-12-22,49,430681,false,false,true,"+
			"2025-05-13,0,false,0,false,邹燕,430681197512224845,17065074194,湖南省岳阳市长江路104号丽都花园30栋3单元404室,无固定工作,"+
			"6212260761240535366,夏刚(同事)17587016666; 陈阳(配偶)15385799002\n", i, i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for range b.N {
		rr := newRecordReader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10), ',', 1<<30)
		for {
			if _, _, _, err := rr.read(); err != nil {
				break
			}
		}
	}
}

// FuzzSplitCells: splitCells cuts as strings.Split does, whatever the delimiter byte (bytes
// next to it that differ by one bit, as '-' does from ',', included).
func FuzzSplitCells(f *testing.F) {
	f.Add("a,-1,,b-,c,,,,,,,,,d,,", byte(','))
	f.Add("\x00\x01\x00\x80\xff\x00", byte(0))
	f.Add("长,度\t中,文", byte('\t'))
	f.Fuzz(func(t *testing.T, s string, c byte) {
		want := strings.Split(s, string([]byte{c}))
		got := make([]string, len(want))
		splitCells(got, s, []byte(s), c)
		if !slices.Equal(got, want) {
			t.Fatalf("splitCells(%q, %q) = %q, want %q", s, c, got, want)
		}
	})
}
