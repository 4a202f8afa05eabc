// Package region holds the GB/T 2260 administrative division codes of mainland China at the
// provincial and prefecture level, with English names, the six statistical macro-regions and 2020
// census populations, for validating tape columns and for sampling realistic synthetic borrowers.
//
// A division code has six digits: two for the province, two for the prefecture within it and two
// for the county within that ("320505": 江苏省 32, 苏州市 3205, 虎丘区 320505). The embedded table
// (data/divisions.csv) lists all 31 provincial-level divisions and all of their prefecture-level
// divisions, including the "xx9000" groups of county-level divisions administered directly by a
// province (such as 仙桃市 429004) and the "xx0100" district groups of the four municipalities.
// County-level codes are not listed; Valid accepts any county number under a known prefecture.
// Codes are current ones; codes of abolished divisions (371200 莱芜市) are not valid here.
package region

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Level is the tier of a division.
type Level int

// Division tiers. The zero Level is invalid.
const (
	LevelProvince   Level = iota + 1 // 省级: province, autonomous region or municipality
	LevelPrefecture                  // 地级: prefecture-level city, prefecture, league or autonomous prefecture
)

// String returns "province" or "prefecture".
func (l Level) String() string {
	switch l {
	case LevelProvince:
		return "province"
	case LevelPrefecture:
		return "prefecture"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// MacroRegion is one of the six statistical macro-regions (六大区) of mainland China.
type MacroRegion int

// The macro-regions. The zero MacroRegion is invalid.
const (
	North        MacroRegion = iota + 1 // 华北: Beijing, Tianjin, Hebei, Shanxi, Inner Mongolia
	Northeast                           // 东北: Liaoning, Jilin, Heilongjiang
	East                                // 华东: Shanghai, Jiangsu, Zhejiang, Anhui, Fujian, Jiangxi, Shandong
	SouthCentral                        // 中南: Henan, Hubei, Hunan, Guangdong, Guangxi, Hainan
	Southwest                           // 西南: Chongqing, Sichuan, Guizhou, Yunnan, Tibet
	Northwest                           // 西北: Shaanxi, Gansu, Qinghai, Ningxia, Xinjiang
)

var macroNames = [...]struct{ en, zh, key string }{
	{},
	{"North China", "华北", "North"},
	{"Northeast China", "东北", "Northeast"},
	{"East China", "华东", "East"},
	{"South-Central China", "中南", "SouthCentral"},
	{"Southwest China", "西南", "Southwest"},
	{"Northwest China", "西北", "Northwest"},
}

// MacroRegions returns the six macro-regions in their conventional order.
func MacroRegions() []MacroRegion {
	return []MacroRegion{North, Northeast, East, SouthCentral, Southwest, Northwest}
}

// English returns the English name ("East China"), or "" for an invalid value.
func (m MacroRegion) English() string {
	if m < North || m > Northwest {
		return ""
	}
	return macroNames[m].en
}

// Chinese returns the Chinese name ("华东"), or "" for an invalid value.
func (m MacroRegion) Chinese() string {
	if m < North || m > Northwest {
		return ""
	}
	return macroNames[m].zh
}

// String returns the English name, or "MacroRegion(n)" for an invalid value.
func (m MacroRegion) String() string {
	if s := m.English(); s != "" {
		return s
	}
	return "MacroRegion(" + strconv.Itoa(int(m)) + ")"
}

// Division is a provincial- or prefecture-level administrative division.
type Division struct {
	// Code is the 6-digit GB/T 2260 code ("320500").
	Code string
	// Name is the official Chinese name ("苏州市").
	Name string
	// NameEN is the English name ("Suzhou (Jiangsu)"); ambiguous names carry their province.
	NameEN string
	// Level is LevelProvince or LevelPrefecture.
	Level Level
	// Region is the macro-region of the division's province.
	Region MacroRegion
	// Population is the 2020 census population in millions for a province; 0 for a prefecture.
	Population float64
}

//go:embed data/divisions.csv
var divisionsCSV []byte

var (
	byCode map[string]Division
	// byNumber mirrors byCode for the codes "nnnn00" by their first four digits: Province and
	// Valid, asked for every loan of an import, index it instead of building a key to hash.
	byNumber [10000]struct {
		d  Division
		ok bool
	}
	provinces   []Division
	prefectures map[string][]Division // province code -> its prefectures, by code
	sampler     struct {
		east, other     []Division // prefectures, by code
		eastCum, othCum []float64  // cumulative weights
	}
)

func init() {
	if err := load(divisionsCSV); err != nil {
		panic("region: embedded data: " + err.Error())
	}
}

// load parses and checks the division table and builds the indexes.
func load(data []byte) error {
	var lines [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > 0 && l[0] != '#' {
			lines = append(lines, l)
		}
	}
	rd := csv.NewReader(bytes.NewReader(bytes.Join(lines, []byte("\n"))))
	rd.FieldsPerRecord = 5
	header, err := rd.Read()
	if err != nil {
		return err
	}
	if strings.Join(header, ",") != "code,name,name_en,macro,population" {
		return fmt.Errorf("unexpected header %q", header)
	}
	byCode = map[string]Division{}
	clear(byNumber[:])
	provinces = nil
	prefectures = map[string][]Division{}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		d := Division{Code: rec[0], Name: rec[1], NameEN: rec[2]}
		if !isDigits6(d.Code) || d.Name == "" || d.NameEN == "" {
			return fmt.Errorf("bad row %q", rec)
		}
		if _, dup := byCode[d.Code]; dup {
			return fmt.Errorf("duplicate code %s", d.Code)
		}
		switch {
		case d.Code[2:] == "0000":
			d.Level = LevelProvince
			for m := North; m <= Northwest; m++ {
				if macroNames[m].key == rec[3] {
					d.Region = m
				}
			}
			if d.Region == 0 {
				return fmt.Errorf("%s: unknown macro-region %q", d.Code, rec[3])
			}
			d.Population, err = strconv.ParseFloat(rec[4], 64)
			if err != nil || !(d.Population > 0) {
				return fmt.Errorf("%s: bad population %q", d.Code, rec[4])
			}
			provinces = append(provinces, d)
		case d.Code[4:] == "00":
			p, ok := byCode[d.Code[:2]+"0000"]
			if !ok {
				return fmt.Errorf("%s: province not listed before it", d.Code)
			}
			if rec[3] != "" || rec[4] != "" {
				return fmt.Errorf("%s: prefecture rows carry no macro-region or population", d.Code)
			}
			d.Level, d.Region = LevelPrefecture, p.Region
			prefectures[p.Code] = append(prefectures[p.Code], d)
		default:
			return fmt.Errorf("%s: county-level codes are not listed", d.Code)
		}
		byCode[d.Code] = d
		n := digits4(d.Code)
		byNumber[n].d, byNumber[n].ok = d, true
	}
	sort.Slice(provinces, func(i, j int) bool { return provinces[i].Code < provinces[j].Code })
	for _, p := range provinces {
		ps := prefectures[p.Code]
		if len(ps) == 0 {
			return fmt.Errorf("%s has no prefectures", p.Code)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].Code < ps[j].Code })
	}
	buildSampler()
	return nil
}

// directWeight is the sampling weight of a province's group of directly administered county-level
// divisions (xx9000) relative to one ordinary prefecture.
const directWeight = 0.25

func buildSampler() {
	sampler.east, sampler.other, sampler.eastCum, sampler.othCum = nil, nil, nil, nil
	var eastTotal, othTotal float64
	for _, p := range provinces {
		ps := prefectures[p.Code]
		var shares float64
		for _, d := range ps {
			shares += prefectureShare(d)
		}
		for _, d := range ps {
			w := p.Population * prefectureShare(d) / shares
			if p.Region == East {
				eastTotal += w
				sampler.east = append(sampler.east, d)
				sampler.eastCum = append(sampler.eastCum, eastTotal)
			} else {
				othTotal += w
				sampler.other = append(sampler.other, d)
				sampler.othCum = append(sampler.othCum, othTotal)
			}
		}
	}
}

func prefectureShare(d Division) float64 {
	if d.Code[2:4] == "90" {
		return directWeight
	}
	return 1
}

// digits4 is the number the first four characters of a 6-digit code make.
func digits4(code string) int {
	return int(code[0]-'0')*1000 + int(code[1]-'0')*100 + int(code[2]-'0')*10 + int(code[3]-'0')
}

func isDigits6(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Lookup returns the province or prefecture with exactly this code, and false for any other
// string (including county-level codes; use Province or Prefecture for those).
func Lookup(code string) (Division, bool) {
	d, ok := byCode[code]
	return d, ok
}

// Province returns the province of any 6-digit code (its first two digits followed by "0000"),
// and false when code is not 6 ASCII digits or no such province exists. The rest of the code is
// not checked, so it also works for county codes and for codes of abolished prefectures.
func Province(code string) (Division, bool) {
	if !isDigits6(code) {
		return Division{}, false
	}
	p := &byNumber[int(code[0]-'0')*1000+int(code[1]-'0')*100]
	return p.d, p.ok
}

// Prefecture returns the prefecture code of a 6-digit code (its first four digits followed by
// "00"), or "" when code is not 6 ASCII digits. It does not check that the prefecture exists.
func Prefecture(code string) string {
	if !isDigits6(code) {
		return ""
	}
	return code[:4] + "00"
}

// Valid reports whether code is a division code this package knows: 6 ASCII digits whose
// province exists; when the prefecture digits (3-4) are not "00", that prefecture exists; and
// when the county digits (5-6) are not "00", the prefecture digits are not "00" (a county always
// belongs to a prefecture). Any county number under a known prefecture is accepted.
func Valid(code string) bool {
	if _, ok := Province(code); !ok {
		return false
	}
	switch {
	case code[2:4] == "00":
		return code[4:] == "00"
	default:
		return byNumber[digits4(code)].ok
	}
}

// Provinces returns the 31 provincial-level divisions of the mainland in code order. The slice is
// a copy.
func Provinces() []Division { return append([]Division(nil), provinces...) }

// PrefecturesOf returns the prefecture-level divisions of a province in code order, given the
// province code or any 6-digit code inside the province; nil when there is no such province. The
// slice is a copy.
func PrefecturesOf(province string) []Division {
	p, ok := Province(province)
	if !ok {
		return nil
	}
	return append([]Division(nil), prefectures[p.Code]...)
}

// Sample draws a prefecture-level division. Each province is chosen in proportion to its 2020
// census population, and East China provinces' weights are multiplied by 1+eastBias (values below
// -1 count as -1, which never draws East China; NaN counts as 0); within a province the ordinary
// prefectures are equally likely and its group of directly administered county-level divisions
// (xx9000) has a quarter of that weight. With eastBias 0 East China carries about 30% of draws; with
// 0.2 about 34%. The draw depends only on r's state, so a seeded r gives a reproducible sequence.
// r must not be nil.
func Sample(r *rand.Rand, eastBias float64) Division {
	if math.IsNaN(eastBias) {
		eastBias = 0
	}
	eastBias = max(eastBias, -1)
	eastW := sampler.eastCum[len(sampler.eastCum)-1] * (1 + eastBias)
	othW := sampler.othCum[len(sampler.othCum)-1]
	u := r.Float64() * (eastW + othW)
	if u < eastW {
		return pick(sampler.east, sampler.eastCum, u/(1+eastBias))
	}
	return pick(sampler.other, sampler.othCum, u-eastW)
}

// pick returns the division whose cumulative weight interval contains u.
func pick(ds []Division, cum []float64, u float64) Division {
	i := sort.SearchFloat64s(cum, u)
	if i < len(cum) && cum[i] == u {
		i++ // intervals are half-open [cum[i-1], cum[i])
	}
	if i >= len(ds) {
		i = len(ds) - 1
	}
	return ds[i]
}

// directCounties lists real county-level codes under the xx9000 groups.
var directCounties = map[string][]string{
	"419000": {"419001"},
	"429000": {"429004", "429005", "429006", "429021"},
	"469000": {"469001", "469002", "469005", "469006", "469007", "469021", "469022", "469023", "469024",
		"469025", "469026", "469027", "469028", "469029", "469030"},
	"659000": {"659001", "659002", "659003", "659004", "659005", "659006", "659007", "659008", "659009",
		"659010", "659011", "659012"},
}

// countySuffixes are county numbers common to most prefectures: districts (02-05), counties
// (21-24) and county-level cities (81-82).
var countySuffixes = []string{"02", "03", "04", "05", "21", "22", "23", "24", "81", "82"}

// CountyCode returns a plausible county-level code under a prefecture, drawn with r: a real code
// for the xx9000 groups, a district number 01-16 for the municipalities' district groups, a
// county number 29-43 for 500200, and otherwise one of the usual district, county or county-level
// city numbers (02-05, 21-24, 81-82). The code always satisfies Valid, but for ordinary
// prefectures it need not name a county that exists today. It returns false when prefecture is not
// a known prefecture-level code. r must not be nil.
func CountyCode(r *rand.Rand, prefecture string) (string, bool) {
	d, ok := byCode[prefecture]
	if !ok || d.Level != LevelPrefecture {
		return "", false
	}
	if list, ok := directCounties[prefecture]; ok {
		return list[r.IntN(len(list))], true
	}
	switch {
	case prefecture == "500200":
		return fmt.Sprintf("5002%02d", 29+r.IntN(15)), true
	case prefecture[4:] == "00" && prefecture[2:4] == "01" && (prefecture[:2] == "11" || prefecture[:2] == "12" ||
		prefecture[:2] == "31" || prefecture[:2] == "50"):
		return fmt.Sprintf("%s%02d", prefecture[:4], 1+r.IntN(16)), true
	}
	return prefecture[:4] + countySuffixes[r.IntN(len(countySuffixes))], true
}
