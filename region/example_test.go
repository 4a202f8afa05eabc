package region_test

import (
	"fmt"

	"reclaim/region"
)

func ExampleProvince() {
	p, _ := region.Province("320505")
	fmt.Println(p.Name, p.NameEN, p.Region.Chinese(), region.Prefecture("320505"), region.Valid("320505"))
	// Output: 江苏省 Jiangsu 华东 320500 true
}
