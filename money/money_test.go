package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want int64
		err  error
	}{
		{"0", CNY, 0, nil},
		{"1234.56", CNY, 123456, nil},
		{"1,234.56", CNY, 123456, nil},
		{"1,234,567.8", CNY, 123456780, nil},
		{"12,345", CNY, 1234500, nil},
		{"  42 ", CNY, 4200, nil},
		{"+7.5", CNY, 750, nil},
		{"-7.5", CNY, -750, nil},
		{".5", CNY, 50, nil},
		{"5.", CNY, 500, nil},
		{"007.10", CNY, 710, nil},
		{"1.2E+05", CNY, 12000000, nil},
		{"1.2e5", CNY, 12000000, nil},
		{"1.5E-2", CNY, 2, errSyntaxIs},
		{"1.2E-01", CNY, 12, nil},
		{"12.5万", CNY, 12500000, nil},
		{"12.5万元", CNY, 12500000, nil},
		{"3亿", CNY, 30000000000, nil},
		{"1.5亿元", CNY, 15000000000, nil},
		{"2千元", CNY, 200000, nil},
		{"88元", CNY, 8800, nil},
		{"１２３４．５６", CNY, 123456, nil},
		{"１，２３４．５６", CNY, 123456, nil},
		{"(1,234.56)", CNY, -123456, nil},
		{"（１２）", CNY, -1200, nil},
		{"( 5 )", CNY, -500, nil},
		{"¥1,234.56", CNY, 123456, nil},
		{"￥ 99", CNY, 9900, nil},
		{"-¥3", CNY, -300, nil},
		{"$10.25", USD, 1025, nil},
		{"-0", CNY, 0, nil},
		{"(0)", CNY, 0, nil},
		{"1.000000000000000000000000", CNY, 100, nil},
		{"1234", JPY, 1234, nil},
		{"1.234", "KWD", 1234, nil},
		{"1.5", JPY, 0, errSyntaxIs},
		{"1.234", CNY, 0, errSyntaxIs},
		{"1,23,4", CNY, 0, errSyntaxIs},
		{"1,2345", CNY, 0, errSyntaxIs},
		{",123", CNY, 0, errSyntaxIs},
		{"1234,567", CNY, 0, errSyntaxIs},
		{"1,234.5,6", CNY, 0, errSyntaxIs},
		{"", CNY, 0, errSyntaxIs},
		{"   ", CNY, 0, errSyntaxIs},
		{"-", CNY, 0, errSyntaxIs},
		{"()", CNY, 0, errSyntaxIs},
		{"(-5)", CNY, 0, errSyntaxIs},
		{".", CNY, 0, errSyntaxIs},
		{"1.2.3", CNY, 0, errSyntaxIs},
		{"abc", CNY, 0, errSyntaxIs},
		{"1 000", CNY, 0, errSyntaxIs},
		{"1e", CNY, 0, errSyntaxIs},
		{"1e5e3", CNY, 0, errSyntaxIs},
		{"1e999", CNY, 0, errSyntaxIs},
		{"--1", CNY, 0, errSyntaxIs},
		{"万", CNY, 0, errSyntaxIs},
		{"0x10", CNY, 0, errSyntaxIs},
		{"NaN", CNY, 0, errSyntaxIs},
		{"92233720368547758.07", CNY, math.MaxInt64, nil},
		{"-92233720368547758.08", CNY, math.MinInt64, nil},
		{"92233720368547758.08", CNY, 0, ErrOverflow},
		{"-92233720368547758.09", CNY, 0, ErrOverflow},
		{"1e20", CNY, 0, ErrOverflow},
		{"100000000000000000000", CNY, 0, ErrOverflow},
		{"1e300", CNY, 0, ErrOverflow},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, tt.cur)
		switch {
		case tt.err == errSyntaxIs:
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q) = %v, %v; want ErrSyntax", tt.in, got, err)
			}
		case tt.err != nil:
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): unexpected error %v", tt.in, err)
		case got != New(tt.want, tt.cur):
			t.Errorf("Parse(%q) = %d %s; want %d", tt.in, got.Minor(), got.Currency(), tt.want)
		}
	}
}

// errSyntaxIs marks table rows that expect ErrSyntax.
var errSyntaxIs = errors.New("want ErrSyntax")

func TestParseDefaultCurrency(t *testing.T) {
	a, err := Parse("1", "")
	if err != nil || a != New(100, CNY) {
		t.Fatalf("Parse with no currency = %v %v; want 1.00 CNY", a, err)
	}
}

func TestParseUnit(t *testing.T) {
	tests := []struct {
		in   string
		u    Unit
		mode RoundingMode
		want int64
		err  bool
	}{
		{"12.5", Wan, Exact, 12500000, false},
		{"12.5万", Wan, Exact, 12500000, false},    // the suffix says the unit: 12.5万元, not 亿
		{"12.5万元", Major, Exact, 12500000, false}, // in a yuan column too
		{"800元", Wan, Exact, 80000, false},        // 800 yuan in a 万元 column
		{"0.5亿", Wan, Exact, 5000000000, false},   // 0.5亿元 in a 万元 column
		{"(1.5万元)", Wan, Exact, -1500000, false},  // accounting negative with its unit
		{"3千元", Thousand, Exact, 300000, false},   // 3千元, not 3百万元
		{"1,234.5678", Wan, Exact, 1234567800, false},
		{"0.000001", Wan, Exact, 1, false},
		{"0.0000001", Wan, Exact, 0, true},
		{"0.0000005", Wan, HalfUp, 1, false},
		{"3", Thousand, Exact, 300000, false},
		{"2", Yi, Exact, 20000000000, false},
		{"12345", Cent, Exact, 12345, false},
		{"12345.5", Cent, Exact, 0, true},
		{"12345.5", Cent, HalfUp, 12346, false},
		{"12345.5", Cent, HalfEven, 12346, false},
		{"12346.5", Cent, HalfEven, 12346, false},
		// Half cases in every mode.
		{"0.125", Major, HalfUp, 13, false},
		{"0.125", Major, HalfEven, 12, false},
		{"0.135", Major, HalfEven, 14, false},
		{"0.125", Major, Down, 12, false},
		{"0.125", Major, Exact, 0, true},
		{"-0.125", Major, HalfUp, -13, false},
		{"-0.125", Major, HalfEven, -12, false},
		{"-0.135", Major, HalfEven, -14, false},
		{"-0.125", Major, Down, -12, false},
		{"-0.129", Major, Down, -12, false},
		{"0.1250000001", Major, HalfEven, 13, false},
		{"0.1249999999", Major, HalfUp, 12, false},
		{"0.005", Major, HalfUp, 1, false},
		{"0.005", Major, HalfEven, 0, false},
		{"0.0049", Major, HalfUp, 0, false},
		{"0.0005", Major, HalfUp, 0, false},
		{"-0.005", Major, HalfUp, -1, false},
		{"-0.004", Major, HalfUp, 0, false},
		{"2.5", Cent, HalfUp, 3, false},
		{"2.5", Cent, HalfEven, 2, false},
		{"3.5", Cent, HalfEven, 4, false},
		{"-2.5", Cent, HalfUp, -3, false},
		{"-2.5", Cent, HalfEven, -2, false},
		{"-3.5", Cent, HalfEven, -4, false},
		{"1", Major, RoundingMode(99), 100, false},
		{"0.125", Major, RoundingMode(99), 0, true},
		{"92233720368547758.075", Major, HalfUp, 0, true}, // rounds past MaxInt64
		{"92233720368547758.075", Major, Down, math.MaxInt64, false},
		{"9223372036854775.807", Major, Exact, 0, true},
		{"922337203685477.5807", Wan, HalfUp, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseUnit(tt.in, CNY, tt.u, tt.mode)
		if tt.err {
			if err == nil {
				t.Errorf("ParseUnit(%q, %d, %v) = %d; want error", tt.in, tt.u, tt.mode, got.Minor())
			}
			continue
		}
		if err != nil || got != New(tt.want, CNY) {
			t.Errorf("ParseUnit(%q, %d, %v) = %d, %v; want %d", tt.in, tt.u, tt.mode, got.Minor(), err, tt.want)
		}
	}
}

func TestRoundingModeString(t *testing.T) {
	for m, want := range map[RoundingMode]string{HalfUp: "HALF_UP", HalfEven: "HALF_EVEN", Down: "DOWN", Exact: "EXACT", 9: "RoundingMode(9)"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int(m), got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		a                 Amount
		str, grouped, plv string
	}{
		{New(0, CNY), "0.00", "0.00", "0.00 CNY"},
		{New(5, CNY), "0.05", "0.05", "0.05 CNY"},
		{New(-5, CNY), "-0.05", "-0.05", "-0.05 CNY"},
		{New(123456, CNY), "1234.56", "1,234.56", "1234.56 CNY"},
		{New(-123456780, CNY), "-1234567.80", "-1,234,567.80", "-1234567.80 CNY"},
		{New(100000, CNY), "1000.00", "1,000.00", "1000.00 CNY"},
		{New(99999, CNY), "999.99", "999.99", "999.99 CNY"},
		{New(12345678900, CNY), "123456789.00", "123,456,789.00", "123456789.00 CNY"},
		{New(1234567, JPY), "1234567", "1,234,567", "1234567 JPY"},
		{New(1234, "KWD"), "1.234", "1.234", "1.234 KWD"},
		{New(math.MaxInt64, CNY), "92233720368547758.07", "92,233,720,368,547,758.07", "92233720368547758.07 CNY"},
		{New(math.MinInt64, CNY), "-92233720368547758.08", "-92,233,720,368,547,758.08", "-92233720368547758.08 CNY"},
		{Amount{}, "", "", " "},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.str {
			t.Errorf("String(%d) = %q; want %q", tt.a.Minor(), got, tt.str)
		}
		if got := tt.a.Grouped(); got != tt.grouped {
			t.Errorf("Grouped(%d) = %q; want %q", tt.a.Minor(), got, tt.grouped)
		}
		if got := fmt.Sprintf("%+v", tt.a); got != tt.plv {
			t.Errorf("%%+v(%d) = %q; want %q", tt.a.Minor(), got, tt.plv)
		}
		if got := fmt.Sprintf("%v|%s|%d", tt.a, tt.a, tt.a); got != tt.str+"|"+tt.str+"|"+fmt.Sprint(tt.a.Minor()) {
			t.Errorf("%%v|%%s|%%d(%d) = %q", tt.a.Minor(), got)
		}
	}
}

func TestInUnit(t *testing.T) {
	tests := []struct {
		a        Amount
		u        Unit
		decimals int
		mode     RoundingMode
		want     string
	}{
		{Yuan(123456), Wan, 2, HalfUp, "12.35"},
		{Yuan(123456), Wan, 2, Down, "12.34"},
		{Yuan(123456), Wan, 2, Exact, "12.35"},
		{Yuan(123450), Wan, 1, HalfUp, "12.3"},
		{Yuan(122500), Wan, 1, HalfEven, "12.2"},
		{Yuan(122500), Wan, 1, HalfUp, "12.3"},
		{Yuan(-123456), Wan, 2, HalfUp, "-12.35"},
		{Yuan(150000000), Yi, 2, HalfUp, "1.50"},
		{Yuan(1234), Thousand, 0, HalfUp, "1"},
		{Yuan(1500), Thousand, 0, HalfUp, "2"},
		{Yuan(1500), Thousand, -3, HalfUp, "2"},
		{New(12345, CNY), Major, 2, HalfUp, "123.45"},
		{New(12345, CNY), Cent, 0, HalfUp, "12345"},
		{New(12345, CNY), Major, 4, HalfUp, "123.4500"},
		{New(math.MinInt64, CNY), Wan, 2, HalfUp, "-9223372036854.78"},
		{New(math.MaxInt64, CNY), Major, 4, HalfUp, "?"},
		{Amount{}, Wan, 2, HalfUp, ""},
	}
	for _, tt := range tests {
		if got := tt.a.InUnit(tt.u, tt.decimals, tt.mode); got != tt.want {
			t.Errorf("%v.InUnit(%d, %d, %v) = %q; want %q", tt.a, tt.u, tt.decimals, tt.mode, got, tt.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	max, min := New(math.MaxInt64, CNY), New(math.MinInt64, CNY)
	one, minus1 := New(1, CNY), New(-1, CNY)
	type op func() (Amount, error)
	tests := []struct {
		name string
		f    op
		want Amount
		err  error
	}{
		{"add", func() (Amount, error) { return Yuan(1).Add(Yuan(2)) }, Yuan(3), nil},
		{"add neg", func() (Amount, error) { return Yuan(1).Add(Yuan(-2)) }, Yuan(-1), nil},
		{"add absent", func() (Amount, error) { return Amount{}.Add(New(5, USD)) }, New(5, USD), nil},
		{"add to absent", func() (Amount, error) { return New(5, USD).Add(Amount{}) }, New(5, USD), nil},
		{"absent+absent", func() (Amount, error) { return Amount{}.Add(Amount{}) }, Amount{}, nil},
		{"add max+0", func() (Amount, error) { return max.Add(Zero(CNY)) }, max, nil},
		{"add max+1", func() (Amount, error) { return max.Add(one) }, Amount{}, ErrOverflow},
		{"add min-1", func() (Amount, error) { return min.Add(minus1) }, Amount{}, ErrOverflow},
		{"add max+min", func() (Amount, error) { return max.Add(min) }, minus1, nil},
		{"add mismatch", func() (Amount, error) { return Yuan(1).Add(New(1, USD)) }, Amount{}, ErrCurrency},
		{"sub", func() (Amount, error) { return Yuan(1).Sub(Yuan(3)) }, Yuan(-2), nil},
		{"sub min-1", func() (Amount, error) { return min.Sub(one) }, Amount{}, ErrOverflow},
		{"sub max-(-1)", func() (Amount, error) { return max.Sub(minus1) }, Amount{}, ErrOverflow},
		{"sub -1-min", func() (Amount, error) { return minus1.Sub(min) }, max, nil},
		{"sub 0-min", func() (Amount, error) { return Zero(CNY).Sub(min) }, Amount{}, ErrOverflow},
		{"sub min-min", func() (Amount, error) { return min.Sub(min) }, Zero(CNY), nil},
		{"sub mismatch", func() (Amount, error) { return Yuan(1).Sub(New(1, EUR)) }, Amount{}, ErrCurrency},
		{"sub mismatch min", func() (Amount, error) { return Yuan(1).Sub(New(math.MinInt64, EUR)) }, Amount{}, ErrCurrency},
		{"neg", func() (Amount, error) { return Yuan(4).Neg() }, Yuan(-4), nil},
		{"neg min", func() (Amount, error) { return min.Neg() }, Amount{}, ErrOverflow},
		{"mul", func() (Amount, error) { return New(250, CNY).Mul(-4) }, New(-1000, CNY), nil},
		{"mul 0", func() (Amount, error) { return max.Mul(0) }, Zero(CNY), nil},
		{"mul max*2", func() (Amount, error) { return max.Mul(2) }, Amount{}, ErrOverflow},
		{"mul min*-1", func() (Amount, error) { return min.Mul(-1) }, Amount{}, ErrOverflow},
		{"mul -1*min", func() (Amount, error) { return minus1.Mul(math.MinInt64) }, Amount{}, ErrOverflow},
		{"mul 1*min", func() (Amount, error) { return one.Mul(math.MinInt64) }, min, nil},
		{"mul max*-1", func() (Amount, error) { return max.Mul(-1) }, New(-math.MaxInt64, CNY), nil},
		{"mul big", func() (Amount, error) { return New(1<<32, CNY).Mul(1 << 30) }, New(1<<62, CNY), nil},
		{"mul big overflow", func() (Amount, error) { return New(1<<32, CNY).Mul(1 << 31) }, Amount{}, ErrOverflow},
		{"mul -2^32*2^31", func() (Amount, error) { return New(-1<<32, CNY).Mul(1 << 31) }, min, nil},
		{"sum", func() (Amount, error) { return Sum(Yuan(1), Yuan(2), New(3, CNY)) }, New(303, CNY), nil},
		{"sum empty", func() (Amount, error) { return Sum() }, Amount{}, nil},
		{"sum overflow", func() (Amount, error) { return Sum(max, one) }, Amount{}, ErrOverflow},
		{"sum mismatch", func() (Amount, error) { return Sum(Yuan(1), New(1, HKD)) }, Amount{}, ErrCurrency},
	}
	for _, tt := range tests {
		got, err := tt.f()
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v (%d), %v; want %+v", tt.name, got, got.Minor(), err, tt.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	a := New(-250, USD)
	if a.Minor() != -250 || a.Currency() != USD || a.Sign() != -1 || a.IsZero() || a.IsAbsent() {
		t.Errorf("accessors of %+v wrong", a)
	}
	if Zero(CNY).Sign() != 0 || !Zero(CNY).IsZero() || Zero(CNY).IsAbsent() {
		t.Error("Zero(CNY) must be a present zero")
	}
	if !(Amount{}).IsAbsent() || !(Amount{}).IsZero() {
		t.Error("the zero Amount must be absent")
	}
	if Yuan(2).Sign() != 1 || Yuan(2).Cmp(Yuan(3)) != -1 || Yuan(3).Cmp(Yuan(2)) != 1 || Yuan(2).Cmp(Yuan(2)) != 0 {
		t.Error("Sign/Cmp wrong")
	}
	if !Yuan(2).Equal(New(200, CNY)) || Yuan(2).Equal(New(200, USD)) {
		t.Error("Equal wrong")
	}
	if f := New(-123456, CNY).Float(); f != -1234.56 {
		t.Errorf("Float = %v", f)
	}
	if f := New(1234, JPY).Float(); f != 1234 {
		t.Errorf("JPY Float = %v", f)
	}
	if CNY.Digits() != 2 || JPY.Digits() != 0 || Currency("KWD").Digits() != 3 {
		t.Error("Digits wrong")
	}
	for c, ok := range map[Currency]bool{CNY: true, "usd": false, "CN": false, "CNYY": false, "": false, "C1Y": false} {
		if c.Valid() != ok {
			t.Errorf("Valid(%q) = %v", c, !ok)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Yuan(MaxInt64) did not panic")
		}
	}()
	Yuan(math.MaxInt64)
}

func TestFromFloat(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables, so that the sum is float64 arithmetic, not constant
	tests := []struct {
		f    float64
		mode RoundingMode
		want int64
		err  bool
	}{
		{0.285, HalfUp, 29, false}, // binary 0.28499999999999998: rounds as written
		{1.005, HalfUp, 101, false},
		{1.005, HalfEven, 100, false},
		{-1.005, HalfUp, -101, false},
		{2.675, HalfUp, 268, false},
		{1234.56, Exact, 123456, false},
		{tenth + fifth, HalfUp, 30, false},
		{tenth + fifth, Exact, 0, true},
		{1e6, Exact, 100000000, false},
		{1e-7, HalfUp, 0, false},
		{-0.0, Exact, 0, false},
		{9.2e16, HalfUp, 9200000000000000000, false},
		{1e17, HalfUp, 0, true},
		{math.NaN(), HalfUp, 0, true},
		{math.Inf(1), HalfUp, 0, true},
		{math.Inf(-1), HalfUp, 0, true},
	}
	for _, tt := range tests {
		got, err := FromFloat(tt.f, CNY, tt.mode)
		if tt.err {
			if err == nil {
				t.Errorf("FromFloat(%v, %v) = %v; want error", tt.f, tt.mode, got)
			}
			continue
		}
		if err != nil || got != New(tt.want, CNY) {
			t.Errorf("FromFloat(%v, %v) = %d, %v; want %d", tt.f, tt.mode, got.Minor(), err, tt.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		a       int64
		weights []int64
		want    []int64
		err     error
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}, nil},
		{-100, []int64{1, 1, 1}, []int64{-34, -33, -33}, nil},
		{5, []int64{1, 0, 1}, []int64{3, 0, 2}, nil},
		{1, []int64{0, 1, 1}, []int64{0, 1, 0}, nil},
		{100, []int64{70, 20, 10}, []int64{70, 20, 10}, nil},
		{10, []int64{1, 2}, []int64{3, 7}, nil},
		{0, []int64{3, 4}, []int64{0, 0}, nil},
		{7, []int64{5}, []int64{7}, nil},
		{math.MinInt64, []int64{1}, []int64{math.MinInt64}, nil},
		{math.MinInt64, []int64{1, 1}, []int64{math.MinInt64 / 2, math.MinInt64 / 2}, nil},
		{math.MaxInt64, []int64{math.MaxInt64, 1}, nil, ErrOverflow},
		{100, nil, nil, ErrNoParts},
		{100, []int64{0, 0}, nil, ErrNoParts},
		{100, []int64{1, -1}, nil, ErrNoParts},
	}
	for _, tt := range tests {
		got, err := New(tt.a, CNY).Allocate(tt.weights...)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Allocate(%d, %v) err = %v; want %v", tt.a, tt.weights, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Allocate(%d, %v): %v", tt.a, tt.weights, err)
			continue
		}
		gm := make([]int64, len(got))
		for i, p := range got {
			gm[i] = p.Minor()
			if p.Currency() != CNY {
				t.Errorf("part currency %q", p.Currency())
			}
		}
		if fmt.Sprint(gm) != fmt.Sprint(tt.want) {
			t.Errorf("Allocate(%d, %v) = %v; want %v", tt.a, tt.weights, gm, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	parts, err := Yuan(100).Split(3)
	if err != nil || fmt.Sprint(parts) != "[33.34 33.33 33.33]" {
		t.Errorf("Split(3) = %v, %v", parts, err)
	}
	if _, err := Yuan(1).Split(0); !errors.Is(err, ErrNoParts) {
		t.Errorf("Split(0) err = %v", err)
	}
}

func TestJSON(t *testing.T) {
	type row struct {
		Claim   Amount  `json:"claim"`
		Paid    Amount  `json:"paid"`
		Missing Amount  `json:"missing"`
		Ptr     *Amount `json:"ptr"`
	}
	in := row{Claim: New(123456, CNY), Paid: New(-5, CNY), Ptr: &Amount{}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"claim":"1234.56","paid":"-0.05","missing":null,"ptr":null}`; string(b) != want {
		t.Errorf("Marshal = %s; want %s", b, want)
	}
	var out row
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Claim != in.Claim || out.Paid != in.Paid || !out.Missing.IsAbsent() || out.Ptr != nil {
		t.Errorf("round trip = %+v", out)
	}
	// Bare numbers, grouped strings and the receiver's currency.
	usd := Zero(USD)
	if err := json.Unmarshal([]byte(`12.5`), &usd); err != nil || usd != New(1250, USD) {
		t.Errorf("bare number into USD = %+v, %v", usd, err)
	}
	var a Amount
	if err := json.Unmarshal([]byte(`"1,000.10"`), &a); err != nil || a != New(100010, CNY) {
		t.Errorf("grouped string = %+v, %v", a, err)
	}
	for _, bad := range []string{`"1.234"`, `"abc"`, `""`, `true`, `"\u0000"`, `"\xff"`} {
		var a Amount
		if err := a.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) = %+v; want error", bad, a)
		}
	}
}
