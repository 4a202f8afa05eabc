package date_test

import (
	"fmt"

	"reclaim/date"
)

// Build a monthly schedule by stepping from the anchor, never from the previous date.
func ExampleDate_AddMonths() {
	anchor := date.Of(2024, 1, 31)
	for k := 1; k <= 3; k++ {
		fmt.Println(anchor.AddMonths(k))
	}
	// Output:
	// 2024-02-29
	// 2024-03-31
	// 2024-04-30
}

func ExampleParse() {
	for _, s := range []string{"2024/1/31", "2024年1月31日", "20240131", "2023-02-29"} {
		d, err := date.Parse(s)
		fmt.Println(d, err)
	}
	// Output:
	// 2024-01-31 <nil>
	// 2024-01-31 <nil>
	// 2024-01-31 <nil>
	//  date: invalid date: 2023-02-29
}
