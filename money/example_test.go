package money_test

import (
	"fmt"

	"reclaim/money"
)

// A tape column headed 金额(万元) holds values in Wan; ParseUnit scales them to fen.
func ExampleParseUnit() {
	a, err := money.ParseUnit("1,234.5678", money.CNY, money.Wan, money.Exact)
	fmt.Println(a.Grouped(), err)
	b, _ := money.ParseUnit("0.125", money.CNY, money.Major, money.HalfEven)
	c, _ := money.ParseUnit("0.125", money.CNY, money.Major, money.HalfUp)
	fmt.Println(b, c)
	// Output:
	// 12,345,678.00 <nil>
	// 0.12 0.13
}

// Allocate splits a collection between three investors so that nothing is lost or invented.
func ExampleAmount_Allocate() {
	parts, _ := money.Yuan(100).Allocate(1, 1, 1)
	fmt.Println(parts)
	// Output: [33.34 33.33 33.33]
}

// Parse accepts what spreadsheets and Chinese tapes write.
func ExampleParse() {
	for _, s := range []string{"(1,234.56)", "12.5万", "１２３．４５", "1.2E+05"} {
		a, _ := money.Parse(s, money.CNY)
		fmt.Printf("%+v\n", a)
	}
	// Output:
	// -1234.56 CNY
	// 125000.00 CNY
	// 123.45 CNY
	// 120000.00 CNY
}
