package cnid_test

import (
	"fmt"

	"reclaim/cnid"
	"reclaim/date"
)

func ExampleValidate() {
	info, err := cnid.Validate("11010519491231002x")
	fmt.Println(info.ID, info.Region, info.Birth, info.Male, err)
	fmt.Println(cnid.Mask(info.ID))
	_, err = cnid.Validate("110105194912310021")
	fmt.Println(err)
	// Output:
	// 11010519491231002X 110105 1949-12-31 false <nil>
	// 1101**************
	// cnid: check digit mismatch: the check character does not match the first 17 digits
}

func ExampleGenerate() {
	id := cnid.Generate("440300", date.Of(1985, 6, 15), 123, true)
	fmt.Println(id, cnid.MaskPhone("+86 138-1234-5678"))
	// Output: 440300198506151231 138****5678
}
