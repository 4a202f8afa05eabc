package date

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	want := Of(2024, 1, 31)
	ok := []struct {
		in   string
		want Date
	}{
		{"2024-01-31", want},
		{"2024/01/31", want},
		{"2024/1/31", want},
		{"2024-1-31", want},
		{"2024.01.31", want},
		{"2024.1.31", want},
		{"20240131", want},
		{"2024年1月31日", want},
		{"2024年01月31日", want},
		{"2024-01-31T00:00:00", want},
		{"2024-01-31T23:59:59Z", want},
		{"2024-01-31T08:00:00+08:00", want},
		{"2024-01-31T08:00:00.123-05:00", want},
		{"2024-01-31 08:00", want},
		{"2024/1/31 08:00:00", want},
		{"2024年1月31日 10:30", want},
		{"20240131T120000", want},
		{"  2024-01-31  ", want},
		{"2024-02-29", Of(2024, 2, 29)},
		{"2000-02-29", Of(2000, 2, 29)},
		{"0001-01-01", Of(1, 1, 1)},
		{"9999-12-31", Of(9999, 12, 31)},
		{"1900-03-01", Of(1900, 3, 1)},
	}
	for _, tt := range ok {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct {
		in  string
		err error
	}{
		{"2023-02-29", ErrInvalid},
		{"1900-02-29", ErrInvalid},
		{"2024-04-31", ErrInvalid},
		{"2024-13-01", ErrInvalid},
		{"2024-00-10", ErrInvalid},
		{"2024-01-00", ErrInvalid},
		{"0000-01-01", ErrInvalid},
		{"20230229", ErrInvalid},
		{"2023年2月29日", ErrInvalid},
		{"", ErrSyntax},
		{"garbage", ErrSyntax},
		{"2024-01", ErrSyntax},
		{"2024-01-31-01", ErrSyntax},
		{"24-01-31", ErrSyntax},
		{"2024-001-31", ErrSyntax},
		{"2024-01-031", ErrSyntax},
		{"2024-1/31", ErrSyntax},
		{"2024-01-3a", ErrSyntax},
		{"2024--31", ErrSyntax},
		{"2024-+1-31", ErrSyntax},
		{"2024013", ErrSyntax},
		{"202401311", ErrSyntax},
		{"31/01/2024", ErrSyntax},
		{"2024-01-31Tgarbage", ErrSyntax},
		{"2024-01-31 foo", ErrSyntax},
		{"2024-01-31T", ErrSyntax},
		{"2024年1月", ErrSyntax},
		{"１２３", ErrSyntax},
	}
	for _, tt := range bad {
		got, err := Parse(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.err)
		}
	}
}

func TestParseLayout(t *testing.T) {
	if d, err := ParseLayout("31/01/2024", "02/01/2006"); err != nil || d != Of(2024, 1, 31) {
		t.Errorf("ParseLayout dd/mm/yyyy = %v, %v", d, err)
	}
	if d, err := ParseLayout("Jan-2024", "Jan-2006"); err != nil || d != Of(2024, 1, 1) {
		t.Errorf("ParseLayout Jan-2006 = %v, %v", d, err)
	}
	if _, err := ParseLayout("2024-01-31", "02/01/2006"); !errors.Is(err, ErrSyntax) {
		t.Errorf("mismatched layout err = %v", err)
	}
	// Year 0 parses with time.Parse but is outside the supported range: an error, not a panic.
	if _, err := ParseLayout("0000-01-01", "2006-01-02"); !errors.Is(err, ErrInvalid) {
		t.Errorf("year 0 err = %v", err)
	}
}

func TestNewAndAccessors(t *testing.T) {
	if _, err := New(2023, 2, 29); !errors.Is(err, ErrInvalid) {
		t.Error("New(2023-02-29) accepted")
	}
	if _, err := New(10000, 1, 1); !errors.Is(err, ErrInvalid) {
		t.Error("New(10000-01-01) accepted")
	}
	d := Of(2024, 3, 15)
	if y, m, dd := d.Date(); y != 2024 || m != 3 || dd != 15 || d.Year() != 2024 || d.Month() != 3 || d.Day() != 15 {
		t.Errorf("Date() = %d %d %d", y, m, dd)
	}
	if (Date{}).String() != "" || !(Date{}).IsZero() || d.IsZero() {
		t.Error("zero Date handling wrong")
	}
	if got := Of(1970, 1, 1).Days(); got != 0 {
		t.Errorf("epoch Days = %d", got)
	}
	if got := Of(1969, 12, 31).Days(); got != -1 {
		t.Errorf("1969-12-31 Days = %d", got)
	}
	if got := Of(2024, 1, 31).Days(); got != 19753 {
		t.Errorf("2024-01-31 Days = %d", got)
	}
	if got := d.Time(); !got.Equal(time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Time = %v", got)
	}
	if got := FromTime(time.Date(2024, 3, 15, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))); got != d {
		t.Errorf("FromTime = %v", got)
	}
	if _, err := FromTimeChecked(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrInvalid) {
		t.Errorf("FromTimeChecked(year 0) err = %v", err)
	}
	if Of(2024, 1, 1).Compare(d) != -1 || d.Compare(d) != 0 || d.Compare(Of(2024, 1, 1)) != 1 {
		t.Error("Compare wrong")
	}
	if !Of(2024, 1, 1).Before(d) || !d.After(Of(2024, 1, 1)) || d.Before(d) {
		t.Error("Before/After wrong")
	}
	if got := Of(2024, 2, 28).AddDays(2); got != Of(2024, 3, 1) {
		t.Errorf("AddDays = %v", got)
	}
	if got := Of(2024, 3, 1).Sub(Of(2023, 3, 1)); got != 366 {
		t.Errorf("Sub = %d", got)
	}
	if Of(2024, 2, 10).StartOfMonth() != Of(2024, 2, 1) || Of(2024, 2, 10).EndOfMonth() != Of(2024, 2, 29) {
		t.Error("Start/EndOfMonth wrong")
	}
	if !Of(2023, 2, 28).IsEndOfMonth() || Of(2024, 2, 28).IsEndOfMonth() || !Of(2024, 12, 31).IsEndOfMonth() {
		t.Error("IsEndOfMonth wrong")
	}
	for y, leap := range map[int]bool{1900: false, 2000: true, 2023: false, 2024: true, 2100: false, 2400: true} {
		if IsLeap(y) != leap {
			t.Errorf("IsLeap(%d) = %v", y, !leap)
		}
	}
	if DaysIn(2024, 2) != 29 || DaysIn(2023, 2) != 28 || DaysIn(2023, 4) != 30 || DaysIn(2023, 12) != 31 {
		t.Error("DaysIn wrong")
	}
}

func TestOfPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Of(2023, 2, 29) did not panic")
		}
	}()
	Of(2023, 2, 29)
}

func TestWeekday(t *testing.T) {
	tests := []struct {
		d    Date
		want time.Weekday
	}{
		{Of(1970, 1, 1), time.Thursday},
		{Of(1969, 12, 31), time.Wednesday},
		{Of(1969, 12, 28), time.Sunday},
		{Of(2024, 1, 31), time.Wednesday},
		{Of(2000, 1, 1), time.Saturday},
		{Of(1900, 1, 1), time.Monday},
		{Of(1, 1, 1), time.Monday},
		{Of(9999, 12, 31), time.Friday},
	}
	for _, tt := range tests {
		if got := tt.d.Weekday(); got != tt.want {
			t.Errorf("%v.Weekday() = %v; want %v", tt.d, got, tt.want)
		}
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		d    Date
		n    int
		want Date
	}{
		{Of(2024, 1, 31), 1, Of(2024, 2, 29)},
		{Of(2023, 1, 31), 1, Of(2023, 2, 28)},
		{Of(2024, 1, 31), 2, Of(2024, 3, 31)},
		{Of(2024, 1, 31), 3, Of(2024, 4, 30)},
		{Of(2024, 3, 31), -1, Of(2024, 2, 29)},
		{Of(2024, 1, 15), -1, Of(2023, 12, 15)},
		{Of(2024, 1, 15), -13, Of(2022, 12, 15)},
		{Of(2024, 1, 15), 0, Of(2024, 1, 15)},
		{Of(2024, 12, 31), 1, Of(2025, 1, 31)},
		{Of(2024, 2, 29), 12, Of(2025, 2, 28)},
		{Of(2024, 2, 29), 48, Of(2028, 2, 29)},
		{Of(2024, 8, 31), 6, Of(2025, 2, 28)},
		{Of(2024, 10, 31), 1, Of(2024, 11, 30)},
	}
	for _, tt := range tests {
		if got := tt.d.AddMonths(tt.n); got != tt.want {
			t.Errorf("%v.AddMonths(%d) = %v; want %v", tt.d, tt.n, got, tt.want)
		}
	}
	if got := Of(2024, 2, 29).AddYears(1); got != Of(2025, 2, 28) {
		t.Errorf("AddYears = %v", got)
	}
	// Stepping from the anchor keeps the 31st; chaining loses it after February for good.
	anchor := Of(2024, 1, 31)
	chained := anchor
	wantAnchor := []Date{Of(2024, 2, 29), Of(2024, 3, 31), Of(2024, 4, 30), Of(2024, 5, 31)}
	wantChained := []Date{Of(2024, 2, 29), Of(2024, 3, 29), Of(2024, 4, 29), Of(2024, 5, 29)}
	for k := 1; k <= 4; k++ {
		chained = chained.AddMonths(1)
		if got := anchor.AddMonths(k); got != wantAnchor[k-1] {
			t.Errorf("anchor.AddMonths(%d) = %v; want %v", k, got, wantAnchor[k-1])
		}
		if chained != wantChained[k-1] {
			t.Errorf("chained step %d = %v; want %v", k, chained, wantChained[k-1])
		}
	}
}

func TestMonthsBetween(t *testing.T) {
	tests := []struct {
		a, b Date
		want int
	}{
		{Of(2024, 1, 31), Of(2024, 2, 29), 1},
		{Of(2024, 1, 31), Of(2024, 2, 28), 0},
		{Of(2024, 1, 31), Of(2024, 3, 30), 1},
		{Of(2024, 1, 31), Of(2024, 3, 31), 2},
		{Of(2024, 1, 15), Of(2024, 1, 15), 0},
		{Of(2024, 1, 15), Of(2025, 1, 14), 11},
		{Of(2024, 1, 15), Of(2025, 1, 15), 12},
		{Of(2024, 1, 31), Of(2024, 1, 15), -1},
		{Of(2024, 3, 15), Of(2024, 2, 15), -1},
		{Of(2024, 3, 15), Of(2024, 2, 14), -2},
		{Of(2024, 3, 31), Of(2024, 2, 29), -1},
		{Of(2024, 3, 31), Of(2024, 2, 28), -2},
		{Of(2020, 6, 30), Of(2010, 6, 30), -120},
	}
	for _, tt := range tests {
		if got := MonthsBetween(tt.a, tt.b); got != tt.want {
			t.Errorf("MonthsBetween(%v, %v) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		birth, at Date
		want      int
	}{
		{Of(1980, 5, 20), Of(2024, 5, 19), 43},
		{Of(1980, 5, 20), Of(2024, 5, 20), 44},
		{Of(2000, 2, 29), Of(2001, 2, 28), 1},
		{Of(2000, 2, 29), Of(2001, 2, 27), 0},
		{Of(2000, 2, 29), Of(2004, 2, 28), 3},
		{Of(2000, 2, 29), Of(2004, 2, 29), 4},
		{Of(2000, 1, 1), Of(2000, 1, 1), 0},
		{Of(2000, 1, 1), Of(1999, 1, 1), 0},
	}
	for _, tt := range tests {
		if got := Age(tt.birth, tt.at); got != tt.want {
			t.Errorf("Age(%v, %v) = %d; want %d", tt.birth, tt.at, got, tt.want)
		}
	}
}

func TestFromExcelSerial(t *testing.T) {
	tests := []struct {
		serial float64
		is1904 bool
		want   Date
		err    error
	}{
		{1, false, Of(1900, 1, 1), nil},
		{59, false, Of(1900, 2, 28), nil},
		{60, false, Date{}, ErrInvalid},
		{61, false, Of(1900, 3, 1), nil},
		{25569, false, Of(1970, 1, 1), nil},
		{36526, false, Of(2000, 1, 1), nil},
		{45322, false, Of(2024, 1, 31), nil},
		{45322.75, false, Of(2024, 1, 31), nil},
		{2958465, false, Of(9999, 12, 31), nil},
		{2958465.5, false, Of(9999, 12, 31), nil},
		{2958466, false, Date{}, ErrRange},
		{0, false, Date{}, ErrRange},
		{-1, false, Date{}, ErrRange},
		{math.NaN(), false, Date{}, ErrRange},
		{math.Inf(1), false, Date{}, ErrRange},
		{0, true, Of(1904, 1, 1), nil},
		{43860, true, Of(2024, 1, 31), nil},
		{2957003, true, Of(9999, 12, 31), nil},
		{2957004, true, Date{}, ErrRange},
		{-0.5, true, Date{}, ErrRange},
	}
	for _, tt := range tests {
		got, err := FromExcelSerial(tt.serial, tt.is1904)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("FromExcelSerial(%v, %v) = %v, %v; want %v", tt.serial, tt.is1904, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FromExcelSerial(%v, %v) = %v, %v; want %v", tt.serial, tt.is1904, got, err, tt.want)
		}
	}
}

func TestDayCounts(t *testing.T) {
	const eps = 1e-12
	tests := []struct {
		dc         DayCount
		start, end Date
		days       int
		frac       float64
	}{
		{Act365F, Of(2024, 1, 1), Of(2025, 1, 1), 366, 366.0 / 365},
		{Act365F, Of(2024, 1, 31), Of(2024, 3, 1), 30, 30.0 / 365},
		{Act360, Of(2024, 1, 1), Of(2024, 7, 1), 182, 182.0 / 360},
		{Act360, Of(2024, 7, 1), Of(2024, 1, 1), -182, -182.0 / 360},
		// 30/360 Bond Basis.
		{Thirty360, Of(2024, 1, 31), Of(2024, 3, 31), 60, 60.0 / 360},
		{Thirty360, Of(2024, 1, 30), Of(2024, 3, 31), 60, 60.0 / 360},
		{Thirty360, Of(2024, 1, 29), Of(2024, 3, 31), 62, 62.0 / 360},
		{Thirty360, Of(2024, 2, 29), Of(2024, 3, 31), 32, 32.0 / 360},
		{Thirty360, Of(2024, 1, 15), Of(2025, 1, 15), 360, 1},
		{Thirty360, Of(2023, 2, 28), Of(2023, 8, 31), 183, 183.0 / 360},
		{Thirty360, Of(2024, 3, 31), Of(2024, 1, 31), -60, -60.0 / 360},
		// ACT/ACT ISDA: the ISDA 1998 memo example, 2003-11-01 to 2004-05-01.
		{ActAct, Of(2003, 11, 1), Of(2004, 5, 1), 182, 61.0/365 + 121.0/366},
		{ActAct, Of(2024, 1, 1), Of(2025, 1, 1), 366, 1},
		{ActAct, Of(2023, 1, 1), Of(2024, 1, 1), 365, 1},
		{ActAct, Of(2023, 7, 1), Of(2026, 7, 1), 1096, 184.0/365 + 2 + 181.0/365},
		{ActAct, Of(2024, 3, 1), Of(2024, 3, 31), 30, 30.0 / 366},
		{ActAct, Of(2004, 5, 1), Of(2003, 11, 1), -182, -(61.0/365 + 121.0/366)},
	}
	for _, tt := range tests {
		if got := tt.dc.Days(tt.start, tt.end); got != tt.days {
			t.Errorf("%s.Days(%v, %v) = %d; want %d", tt.dc.Name(), tt.start, tt.end, got, tt.days)
		}
		if got := tt.dc.YearFraction(tt.start, tt.end); math.Abs(got-tt.frac) > eps {
			t.Errorf("%s.YearFraction(%v, %v) = %v; want %v", tt.dc.Name(), tt.start, tt.end, got, tt.frac)
		}
	}
	if got := 61.0/365 + 121.0/366; math.Abs(got-0.497724380567) > 1e-9 {
		t.Errorf("ISDA example fraction = %v", got)
	}
	for _, n := range []string{"ACT/365F", "ACT/360", "30/360", "ACT/ACT"} {
		if dc := DayCountByName(n); dc == nil || dc.Name() != n {
			t.Errorf("DayCountByName(%q) = %v", n, dc)
		}
	}
	if DayCountByName("ACT/364") != nil {
		t.Error("unknown name found")
	}
}

func TestTextAndJSON(t *testing.T) {
	type row struct {
		Cut  Date  `json:"cut"`
		None Date  `json:"none"`
		Ptr  *Date `json:"ptr,omitempty"`
	}
	in := row{Cut: Of(2024, 1, 31)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"cut":"2024-01-31","none":null}` {
		t.Errorf("Marshal = %s", b)
	}
	var out row
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"cut":"2024年1月31日","none":""}`), &out); err != nil || out.Cut != Of(2024, 1, 31) || !out.None.IsZero() {
		t.Errorf("lenient Unmarshal = %+v, %v", out, err)
	}
	for _, bad := range []string{`{"cut":"2023-02-29"}`, `{"cut":20240131}`, `{"cut":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	var d Date
	if err := d.UnmarshalJSON([]byte(`"`)); !errors.Is(err, ErrSyntax) {
		t.Errorf(`UnmarshalJSON(") err = %v`, err)
	}
	// Text: map keys use MarshalText.
	m := map[Date]int{Of(2024, 2, 29): 1}
	b, err = json.Marshal(m)
	if err != nil || string(b) != `{"2024-02-29":1}` {
		t.Errorf("map key Marshal = %s, %v", b, err)
	}
	var m2 map[Date]int
	if err := json.Unmarshal(b, &m2); err != nil || m2[Of(2024, 2, 29)] != 1 {
		t.Errorf("map key Unmarshal = %v, %v", m2, err)
	}
	if txt, _ := (Date{}).MarshalText(); len(txt) != 0 {
		t.Errorf("zero MarshalText = %q", txt)
	}
	if err := d.UnmarshalText(nil); err != nil || !d.IsZero() {
		t.Errorf("empty UnmarshalText = %v, %v", d, err)
	}
}

// FuzzParseISO: parseISO agrees with reading the eight digits and asking New.
func FuzzParseISO(f *testing.F) {
	for _, s := range []string{"2024-09-25", "2024-02-29", "2023-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "2024-13-01", "2024-00-10", "2024-1-010", "2024/09/25", "20a4-09-25", "2024-09-2/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseISO(s)
		var want Date
		wok := len(s) == 10 && s[4] == '-' && s[7] == '-'
		var n []int
		for i := 0; wok && i < 10; i++ {
			if i == 4 || i == 7 {
				continue
			}
			if s[i] < '0' || s[i] > '9' {
				wok = false
			}
			n = append(n, int(s[i]-'0'))
		}
		if wok {
			var err error
			want, err = New(n[0]*1000+n[1]*100+n[2]*10+n[3], time.Month(n[4]*10+n[5]), n[6]*10+n[7])
			wok = err == nil
		}
		if got != want || ok != wok {
			t.Fatalf("parseISO(%q) = %v %v, want %v %v", s, got, ok, want, wok)
		}
	})
}

// TestAppendISO: AppendISO appends, and String returns, YYYY-MM-DD, for every day of years 1 to
// 9999.
func TestAppendISO(t *testing.T) {
	for d := Of(1, 1, 1); !d.After(Of(9999, 12, 31)); d = d.AddDays(1) {
		y, m, dd := d.Date()
		want := fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
		if got := string(d.AppendISO([]byte("x"))); got != "x"+want || d.String() != want {
			t.Fatalf("AppendISO(%v) = %q, String %q, want %q", want, got, d.String(), want)
		}
	}
	if got := (Date{}).AppendISO(nil); len(got) != 0 {
		t.Fatalf("zero Date: %q", got)
	}
}

// TestParseMonth: the forms repayment histories write a month in, the first day of that month,
// and the texts that are not a month.
func TestParseMonth(t *testing.T) {
	for s, want := range map[string]string{
		"2024-01": "2024-01-01", "2024/1": "2024-01-01", "2024.12": "2024-12-01", "202402": "2024-02-01",
		"2024年1月": "2024-01-01", "2024年12月": "2024-12-01", " 2024-03 ": "2024-03-01",
		"2024-01-31": "2024-01-01", "2024年2月29日": "2024-02-01", "20240315": "2024-03-01",
	} {
		d, err := ParseMonth(s)
		if err != nil || d.String() != want {
			t.Errorf("ParseMonth(%q) = %v, %v; want %s", s, d, err, want)
		}
	}
	for _, s := range []string{"2024-13", "2024-00", "2024/", "24-01", "202413", "2024年月", "2024年1月1月",
		"2024-001", "2023-02-29", "January 2024", "2024", "", "２０２４年１月"} {
		if d, err := ParseMonth(s); err == nil {
			t.Errorf("ParseMonth(%q) = %v, want an error", s, d)
		}
	}
}
