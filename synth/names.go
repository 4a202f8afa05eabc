package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// surnames are about 100 common Chinese surnames with their approximate shares (per cent) of
// the population (2020 census order).
var surnames = []struct {
	s string
	w float64
}{
	{"王", 7.1}, {"李", 7.0}, {"张", 6.4}, {"刘", 5.4}, {"陈", 4.6}, {"杨", 3.1}, {"黄", 2.5}, {"赵", 2.3},
	{"吴", 2.0}, {"周", 2.0}, {"徐", 1.5}, {"孙", 1.5}, {"马", 1.4}, {"朱", 1.3}, {"胡", 1.3}, {"郭", 1.2},
	{"何", 1.2}, {"林", 1.1}, {"高", 1.1}, {"罗", 1.1}, {"郑", 1.0}, {"梁", 0.9}, {"谢", 0.8}, {"宋", 0.8},
	{"唐", 0.8}, {"许", 0.7}, {"韩", 0.7}, {"冯", 0.7}, {"邓", 0.7}, {"曹", 0.7}, {"彭", 0.6}, {"曾", 0.6},
	{"肖", 0.6}, {"田", 0.6}, {"董", 0.5}, {"袁", 0.5}, {"潘", 0.5}, {"于", 0.5}, {"蒋", 0.5}, {"蔡", 0.5},
	{"余", 0.5}, {"杜", 0.5}, {"叶", 0.4}, {"程", 0.4}, {"苏", 0.4}, {"魏", 0.4}, {"吕", 0.4}, {"丁", 0.4},
	{"任", 0.4}, {"沈", 0.4}, {"姚", 0.4}, {"卢", 0.4}, {"姜", 0.3}, {"崔", 0.3}, {"钟", 0.3}, {"谭", 0.3},
	{"陆", 0.3}, {"汪", 0.3}, {"范", 0.3}, {"金", 0.3}, {"石", 0.3}, {"廖", 0.3}, {"贾", 0.3}, {"夏", 0.3},
	{"韦", 0.3}, {"付", 0.3}, {"方", 0.3}, {"白", 0.2}, {"邹", 0.2}, {"孟", 0.2}, {"熊", 0.2}, {"秦", 0.2},
	{"邱", 0.2}, {"江", 0.2}, {"尹", 0.2}, {"薛", 0.2}, {"闫", 0.2}, {"段", 0.2}, {"雷", 0.2}, {"侯", 0.2},
	{"龙", 0.2}, {"史", 0.2}, {"陶", 0.2}, {"黎", 0.2}, {"贺", 0.2}, {"顾", 0.2}, {"毛", 0.2}, {"郝", 0.2},
	{"龚", 0.2}, {"邵", 0.2}, {"万", 0.2}, {"钱", 0.2}, {"严", 0.2}, {"覃", 0.2}, {"武", 0.2}, {"戴", 0.2},
	{"莫", 0.2}, {"孔", 0.2}, {"向", 0.2}, {"汤", 0.2},
}

var surnameCum []float64

func init() {
	t := 0.0
	for _, s := range surnames {
		t += s.w
		surnameCum = append(surnameCum, t)
	}
}

func surname(r *rand.Rand) string {
	u := r.Float64() * surnameCum[len(surnameCum)-1]
	lo, hi := 0, len(surnameCum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if surnameCum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return surnames[lo].s
}

var (
	maleChars   = []rune("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文海东峰亮成德春晨")
	femaleChars = []rune("芳娜敏静丽艳娟霞秀燕玲桂丹萍红玉兰琳婷雪慧莉颖倩洁琴梅晶佳欣怡月霞蕾薇璐")
	neutral     = []rune("子嘉思雨晓梓一天立安家永金红")
)

func givenName(r *rand.Rand, male bool) string {
	chars := femaleChars
	if male {
		chars = maleChars
	}
	var b strings.Builder
	if r.Float64() < 0.7 { // two-character given names are the majority
		if r.Float64() < 0.35 {
			b.WriteRune(neutral[r.IntN(len(neutral))])
		} else {
			b.WriteRune(chars[r.IntN(len(chars))])
		}
	}
	b.WriteRune(chars[r.IntN(len(chars))])
	return b.String()
}

// chineseName returns a fake full name.
func chineseName(r *rand.Rand, male bool) string { return surname(r) + givenName(r, male) }

var (
	streets    = []string{"人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "工业路", "朝阳路", "青年路", "光明路", "幸福路", "长江路", "黄河路", "东风路", "友谊路", "滨河路", "迎宾大道", "世纪大道", "复兴路", "学府路", "花园路", "车站路", "春晖路"}
	estates    = []string{"阳光花园", "锦绣家园", "翠苑", "金色家园", "幸福里", "江南名苑", "碧水湾", "春天花园", "紫荆苑", "书香门第", "怡景小区", "东方名城", "香樟园", "丽都花园", "新城小区"}
	firmWords  = []string{"华", "宏", "鑫", "泰", "盛", "达", "隆", "安", "祥", "瑞", "恒", "通", "远", "丰", "源", "信", "诚", "兴", "邦", "凯"}
	industries = []string{"商贸", "建筑工程", "物流", "电子", "餐饮管理", "科技", "机械制造", "纺织", "装饰工程", "汽车服务", "食品", "物业管理", "广告传媒", "家具", "医药连锁"}
	selfWork   = []string{"个体经营", "自由职业", "无固定工作", "务农", "退休"}
	relations  = []string{"配偶", "父亲", "母亲", "朋友", "同事", "兄弟", "姐妹", "子女"}
	cardBINs   = []string{"622848", "621700", "622202", "622588", "621483", "623668", "621226", "622700", "621661", "622155"}
)

// address builds a fake street address inside the named province and prefecture.
func address(r *rand.Rand, province, prefecture string) string {
	var b strings.Builder
	if province != prefecture {
		b.WriteString(province)
	}
	b.WriteString(prefecture)
	b.WriteString(streets[r.IntN(len(streets))])
	b.WriteString(strconv.Itoa(between(r, 1, 999)))
	b.WriteString("号")
	if r.Float64() < 0.75 {
		b.WriteString(estates[r.IntN(len(estates))])
		b.WriteString(strconv.Itoa(between(r, 1, 30)))
		b.WriteString("栋")
		b.WriteString(strconv.Itoa(between(r, 1, 6)))
		b.WriteString("单元")
		b.WriteString(strconv.Itoa(between(r, 1, 32)*100 + between(r, 1, 4))) // floor and door
		b.WriteString("室")
	}
	return b.String()
}

// employer returns a fake employer: a local company, or self-employment.
func employer(r *rand.Rand, prefecture string) string {
	if r.Float64() < 0.22 {
		return selfWork[r.IntN(len(selfWork))]
	}
	city := strings.TrimSuffix(prefecture, "市")
	if n := []rune(city); len(n) > 3 {
		city = string(n[:2])
	}
	return city + firmWords[r.IntN(len(firmWords))] + firmWords[r.IntN(len(firmWords))] + industries[r.IntN(len(industries))] + "有限公司"
}

// luhnDigit returns the check digit that makes digits+check pass the Luhn test.
func luhnDigit(digits string) byte {
	sum := 0
	double := true // the digit left of the check digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// luhnValid reports whether s is all digits and passes the Luhn test.
func luhnValid(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return luhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

// bankCard returns a fake UnionPay debit-card number of 16 or 19 digits with a valid Luhn check
// digit.
func bankCard(r *rand.Rand) string {
	n := 19
	if r.Float64() < 0.35 {
		n = 16
	}
	b := make([]byte, 0, n)
	b = append(b, cardBINs[r.IntN(len(cardBINs))]...)
	for len(b) < n-1 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(append(b, luhnDigit(string(b))))
}
