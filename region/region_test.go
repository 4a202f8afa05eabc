package region

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestEmbeddedData re-reads the CSV line by line, independently of load.
func TestEmbeddedData(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(divisionsCSV))
	seen := map[string]bool{}
	nProv, nPref := 0, 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "code,") {
			continue
		}
		f := strings.Split(line, ",")
		code := f[0]
		if !isDigits6(code) {
			t.Errorf("code %q is not 6 digits", code)
			continue
		}
		if seen[code] {
			t.Errorf("duplicate code %s", code)
		}
		seen[code] = true
		if code[4:] != "00" {
			t.Errorf("%s is not a province or prefecture code", code)
		}
		if code[2:] == "0000" {
			nProv++
		} else {
			nPref++
			if !seen[code[:2]+"0000"] {
				t.Errorf("%s: province %s0000 missing", code, code[:2])
			}
		}
		if d, ok := Lookup(code); !ok || d.Code != code || d.Name != f[1] || d.NameEN != f[2] {
			t.Errorf("Lookup(%s) = %+v, %v", code, d, ok)
		}
		if !Valid(code) {
			t.Errorf("Valid(%s) = false", code)
		}
	}
	if nProv != 31 {
		t.Errorf("%d provinces, want 31", nProv)
	}
	if nPref < 333 {
		t.Errorf("%d prefectures, want at least 333", nPref)
	}
	if got := len(byCode); got != nProv+nPref {
		t.Errorf("index holds %d divisions, CSV %d", got, nProv+nPref)
	}
}

func TestProvinces(t *testing.T) {
	ps := Provinces()
	if len(ps) != 31 {
		t.Fatalf("%d provinces", len(ps))
	}
	perRegion := map[MacroRegion]int{}
	var pop float64
	for i, p := range ps {
		if i > 0 && ps[i-1].Code >= p.Code {
			t.Errorf("not sorted at %s", p.Code)
		}
		if p.Level != LevelProvince || p.Region.English() == "" || p.Population <= 0 {
			t.Errorf("bad province %+v", p)
		}
		perRegion[p.Region]++
		pop += p.Population
		prefs := PrefecturesOf(p.Code)
		if len(prefs) == 0 {
			t.Errorf("%s has no prefectures", p.Code)
		}
		for _, d := range prefs {
			if d.Level != LevelPrefecture || d.Region != p.Region || d.Code[:2] != p.Code[:2] || d.Population != 0 {
				t.Errorf("bad prefecture %+v of %s", d, p.Code)
			}
		}
	}
	want := map[MacroRegion]int{North: 5, Northeast: 3, East: 7, SouthCentral: 6, Southwest: 5, Northwest: 5}
	for m, n := range want {
		if perRegion[m] != n {
			t.Errorf("%v has %d provinces, want %d", m, perRegion[m], n)
		}
	}
	// 2020 census: the 31 provinces hold 1,409.78 million (the 1,411.78 million headline adds
	// about 2 million active-duty military personnel who belong to no province).
	if math.Abs(pop-1409.78) > 0.05 {
		t.Errorf("total population %.2f million, want about 1409.78", pop)
	}
	ps[0].Name = "changed"
	if Provinces()[0].Name != "北京市" {
		t.Error("Provinces returned shared storage")
	}
}

func TestLookupKnown(t *testing.T) {
	tests := []struct {
		code, name, en string
		level          Level
		region         MacroRegion
	}{
		{"110000", "北京市", "Beijing", LevelProvince, North},
		{"310000", "上海市", "Shanghai", LevelProvince, East},
		{"440000", "广东省", "Guangdong", LevelProvince, SouthCentral},
		{"650000", "新疆维吾尔自治区", "Xinjiang", LevelProvince, Northwest},
		{"540000", "西藏自治区", "Tibet", LevelProvince, Southwest},
		{"230000", "黑龙江省", "Heilongjiang", LevelProvince, Northeast},
		{"440300", "深圳市", "Shenzhen", LevelPrefecture, SouthCentral},
		{"440100", "广州市", "Guangzhou", LevelPrefecture, SouthCentral},
		{"330100", "杭州市", "Hangzhou", LevelPrefecture, East},
		{"320100", "南京市", "Nanjing", LevelPrefecture, East},
		{"320500", "苏州市", "Suzhou (Jiangsu)", LevelPrefecture, East},
		{"510100", "成都市", "Chengdu", LevelPrefecture, Southwest},
		{"420100", "武汉市", "Wuhan", LevelPrefecture, SouthCentral},
		{"370200", "青岛市", "Qingdao", LevelPrefecture, East},
		{"610100", "西安市", "Xi'an", LevelPrefecture, Northwest},
		{"210200", "大连市", "Dalian", LevelPrefecture, Northeast},
		{"350200", "厦门市", "Xiamen", LevelPrefecture, East},
		{"222400", "延边朝鲜族自治州", "Yanbian Korean Autonomous Prefecture", LevelPrefecture, Northeast},
		{"152900", "阿拉善盟", "Alxa League", LevelPrefecture, North},
	}
	for _, tt := range tests {
		d, ok := Lookup(tt.code)
		if !ok || d.Name != tt.name || d.NameEN != tt.en || d.Level != tt.level || d.Region != tt.region {
			t.Errorf("Lookup(%s) = %+v, %v", tt.code, d, ok)
		}
	}
	for _, c := range []string{"320505", "990000", "1100", "", "371200", "110200"} {
		if d, ok := Lookup(c); ok {
			t.Errorf("Lookup(%q) = %+v", c, d)
		}
	}
}

func TestProvinceAndPrefecture(t *testing.T) {
	if p, ok := Province("320505"); !ok || p.Code != "320000" || p.Name != "江苏省" {
		t.Errorf("Province(320505) = %+v, %v", p, ok)
	}
	if p, ok := Province("371200"); !ok || p.Code != "370000" {
		t.Errorf("Province of an abolished prefecture = %+v, %v", p, ok)
	}
	for _, c := range []string{"990000", "1100", "11000a", "", "１１００００"} {
		if _, ok := Province(c); ok {
			t.Errorf("Province(%q) found", c)
		}
	}
	if got := Prefecture("320505"); got != "320500" {
		t.Errorf("Prefecture = %q", got)
	}
	for _, c := range []string{"3205", "32050x", "3205050"} {
		if got := Prefecture(c); got != "" {
			t.Errorf("Prefecture(%q) = %q", c, got)
		}
	}
	if PrefecturesOf("990000") != nil {
		t.Error("PrefecturesOf unknown province")
	}
	if ps := PrefecturesOf("440305"); len(ps) != 21 || ps[0].Code != "440100" {
		t.Errorf("PrefecturesOf(440305) = %d divisions", len(ps))
	}
}

func TestValid(t *testing.T) {
	for _, c := range []string{"110000", "110100", "110101", "110105", "320500", "320505", "330106", "440305",
		"429004", "469027", "659001", "419001", "500230", "542521"} {
		if !Valid(c) {
			t.Errorf("Valid(%s) = false", c)
		}
	}
	for _, c := range []string{"990000", "1100", "110", "", "abcdef", "11010a", "1101051", " 110000", "110001",
		"119900", "371200", "371202", "320000 ", "-11000", "１１００００", "000000", "710000", "810000"} {
		if Valid(c) {
			t.Errorf("Valid(%q) = true", c)
		}
	}
}

func TestNames(t *testing.T) {
	if East.Chinese() != "华东" || East.English() != "East China" || East.String() != "East China" {
		t.Error("East names")
	}
	if SouthCentral.Chinese() != "中南" || Northwest.Chinese() != "西北" {
		t.Error("Chinese names")
	}
	if MacroRegion(0).String() != "MacroRegion(0)" || MacroRegion(9).Chinese() != "" {
		t.Error("invalid macro-region names")
	}
	if len(MacroRegions()) != 6 {
		t.Error("MacroRegions")
	}
	if LevelProvince.String() != "province" || LevelPrefecture.String() != "prefecture" || Level(0).String() != "Level(0)" {
		t.Error("Level names")
	}
}

func TestSample(t *testing.T) {
	const n = 100_000
	share := func(bias float64, seed uint64) (float64, map[string]int) {
		r := rand.New(rand.NewPCG(seed, 7))
		counts := map[string]int{}
		east := 0
		for i := 0; i < n; i++ {
			d := Sample(r, bias)
			if d.Level != LevelPrefecture || !Valid(d.Code) {
				t.Fatalf("Sample returned %+v", d)
			}
			counts[d.Code]++
			if d.Region == East {
				east++
			}
		}
		return float64(east) / n, counts
	}
	s1, c1 := share(0.2, 1)
	s2, c2 := share(0.2, 1)
	if s1 != s2 || len(c1) != len(c2) {
		t.Fatal("Sample is not deterministic for a seed")
	}
	for k, v := range c1 {
		if c2[k] != v {
			t.Fatal("Sample is not deterministic for a seed")
		}
	}
	if s1 <= 0.30 {
		t.Errorf("East China share with bias 0.2 = %.3f; want > 0.30", s1)
	}
	s0, c0 := share(0, 2)
	if math.Abs(s0-0.30) > 0.01 {
		t.Errorf("East China share with bias 0 = %.3f; want about 0.30 (its census share)", s0)
	}
	if len(c0) < 300 {
		t.Errorf("only %d prefectures drawn", len(c0))
	}
	// Guangdong (126.01M) should be drawn about 126.01/1409.78 = 8.9% of the time.
	gd := 0
	for code, k := range c0 {
		if code[:2] == "44" {
			gd += k
		}
	}
	if got := float64(gd) / n; math.Abs(got-126.01/1409.78) > 0.005 {
		t.Errorf("Guangdong share %.4f", got)
	}
	if s, _ := share(-1, 3); s != 0 {
		t.Errorf("bias -1 still drew East China: %.3f", s)
	}
	if s, _ := share(-5, 3); s != 0 {
		t.Errorf("bias -5 drew East China: %.3f", s)
	}
	if s, _ := share(math.NaN(), 3); math.Abs(s-0.30) > 0.01 {
		t.Errorf("NaN bias share %.3f", s)
	}
}

func TestCountyCode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	if _, ok := CountyCode(r, "320000"); ok {
		t.Error("CountyCode of a province")
	}
	if _, ok := CountyCode(r, "990100"); ok {
		t.Error("CountyCode of an unknown prefecture")
	}
	for i := 0; i < 50; i++ {
		if c, _ := CountyCode(r, "429000"); c != "429004" && c != "429005" && c != "429006" && c != "429021" {
			t.Errorf("CountyCode(429000) = %s", c)
		}
		if c, _ := CountyCode(r, "110100"); c < "110101" || c > "110116" {
			t.Errorf("CountyCode(110100) = %s", c)
		}
		if c, _ := CountyCode(r, "500200"); c < "500229" || c > "500243" {
			t.Errorf("CountyCode(500200) = %s", c)
		}
	}
}

func TestPropCountyCode(t *testing.T) {
	var all []string
	for _, p := range Provinces() {
		for _, d := range PrefecturesOf(p.Code) {
			all = append(all, d.Code)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		pref := rapid.SampledFrom(all).Draw(t, "prefecture")
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0))
		c, ok := CountyCode(r, pref)
		if !ok || !Valid(c) || c == pref || Prefecture(c) != pref || c[4:] == "00" {
			t.Fatalf("CountyCode(%s) = %q, %v", pref, c, ok)
		}
	})
}

func TestPropValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rapid.StringMatching(`[0-9]{6}`).Draw(t, "code")
		v := Valid(c)
		_, provOK := Province(c)
		_, prefOK := Lookup(Prefecture(c))
		want := provOK && ((c[2:4] == "00" && c[4:] == "00") || (c[2:4] != "00" && prefOK))
		if v != want {
			t.Fatalf("Valid(%s) = %v; want %v", c, v, want)
		}
	})
}

func TestLoadRejectsBadData(t *testing.T) {
	defer func() {
		if err := load(divisionsCSV); err != nil {
			t.Fatal(err)
		}
	}()
	head := "code,name,name_en,macro,population\n"
	bad := []string{
		"",
		"id,name\n",
		head + "11000,北京市,Beijing,North,21.89\n110100,x,x,,\n",
		head + "110000,北京市,Beijing,North,21.89\n110000,北京市,Beijing,North,21.89\n",
		head + "110000,北京市,Beijing,Middle,21.89\n110100,x,x,,\n",
		head + "110000,北京市,Beijing,North,-1\n110100,x,x,,\n",
		head + "110000,北京市,Beijing,North,21.89\n120100,x,x,,\n",
		head + "110000,北京市,Beijing,North,21.89\n110101,x,x,,\n",
		head + "110000,北京市,Beijing,North,21.89\n",
		head + "110000,北京市,Beijing,North,21.89\n110100,x,x,North,\n",
		head + "110000,北京市,,North,21.89\n110100,x,x,,\n",
	}
	for _, b := range bad {
		if err := load([]byte(b)); err == nil {
			t.Errorf("load accepted %q", b)
		}
	}
	if err := load([]byte("# c\n" + head + "110000,北京市,Beijing,North,21.89\n110100,x,x,,\n")); err != nil {
		t.Errorf("minimal table: %v", err)
	}
}

// TestIndexedLookups: Province and Valid, which index byNumber, answer as look-ups in byCode do,
// for every 6-digit code and a few that are not.
func TestIndexedLookups(t *testing.T) {
	codes := []string{"", "11000", "1100000", "11000a", "a10000", "１10000"}
	for n := 0; n < 1000000; n++ {
		codes = append(codes, fmt.Sprintf("%06d", n))
	}
	for _, code := range codes {
		var want Division
		ok := isDigits6(code)
		if ok {
			want, ok = byCode[code[:2]+"0000"]
		}
		if got, gok := Province(code); got != want || gok != ok {
			t.Fatalf("Province(%q) = %v %v, want %v %v", code, got, gok, want, ok)
		}
		valid := ok
		if valid && code[2:4] == "00" {
			valid = code[4:] == "00"
		} else if valid {
			_, valid = byCode[code[:4]+"00"]
		}
		if Valid(code) != valid {
			t.Fatalf("Valid(%q) = %v", code, !valid)
		}
	}
}
