package tape

import (
	"strings"

	"golang.org/x/text/currency"

	"reclaim/money"
)

// newISOCodes are the ISO 4217 codes issued after the CLDR release whose table
// golang.org/x/text/currency carries (CLDR 32, 2017), with their ISO numeric codes: without them a
// tape in Venezuela's or Sierra Leone's current currency would be refused.
var newISOCodes = map[money.Currency]bool{
	"MRU": true, // 929, Mauritanian ouguiya (2018)
	"VES": true, // 928, Venezuelan bolívar soberano (2018)
	"UYW": true, // 927, Uruguayan unidad previsional (2018)
	"VED": true, // 926, Venezuelan bolívar digital (2021)
	"SLE": true, // 925, Sierra Leonean leone (2022)
	"ZWG": true, // 924, Zimbabwe gold (2024)
	"XCG": true, // 532, Caribbean guilder (2025)
}

// isoCurrency reports whether c is an ISO 4217 alphabetic code, as design/tape.md types the
// currency field. money.Currency.Valid only checks the shape (three upper-case letters), which
// let "ABC" or "RMB" through as a currency; the codes are those of golang.org/x/text/currency
// (current and withdrawn ones, so an older tape still reads) and newISOCodes. c must already be
// upper case.
func isoCurrency(c money.Currency) bool {
	if !c.Valid() {
		return false
	}
	if c == money.DefaultCurrency || newISOCodes[c] {
		return true
	}
	_, err := currency.ParseISO(string(c))
	return err == nil
}

// currencyCode returns the currency a currency cell or mapping constant names, upper case: the
// cell itself, or CNY for the ways Chinese tapes write the yuan instead of its ISO code
// (人民币, 元, RMB, the renminbi's common abbreviation, which is not an ISO 4217 code). Anything else
// is checked by isoCurrency as it is.
func currencyCode(raw string) string {
	up := strings.ToUpper(strings.TrimSpace(raw))
	switch up {
	case "人民币", "元", "RMB":
		return string(money.CNY)
	}
	return up
}
