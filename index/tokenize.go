package index

import "github.com/blevesearch/bleve/v2/analysis"

// tokenizeASCII is what Bleve's unicode tokenizer returns for input made
// of ASCII bytes alone, found without running the Unicode word-boundary
// machine, which was the larger part of building the index. Its rules are
// those of Unicode's word boundaries (UAX #29) restricted to ASCII: runs
// of letters, digits and underscores are words; a colon, full stop or
// apostrophe between two letters joins them ("can't", "e.g"), and a
// comma, semicolon, full stop or apostrophe between two digits joins them
// ("1,000", "2.5"). A word of digits and underscores alone is Numeric, any
// other AlphaNumeric. FuzzTokenizeASCII compares it with Bleve's.
func tokenizeASCII(input []byte) analysis.TokenStream {
	n := 0
	for i := range input {
		if wordByte(input[i]) && (i == 0 || !wordByte(input[i-1])) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	backing := make([]analysis.Token, 0, n) // an upper bound: joins only merge words
	out := make(analysis.TokenStream, 0, n)
	for i := 0; i < len(input); {
		if !wordByte(input[i]) {
			i++
			continue
		}
		start, letters := i, false
		for i < len(input) {
			c := input[i]
			if wordByte(c) {
				letters = letters || letter(c)
				i++
				continue
			}
			if i+1 < len(input) && joins(input[i-1], c, input[i+1]) {
				i += 2
				letters = letters || letter(input[i-1])
				continue
			}
			break
		}
		typ := analysis.AlphaNumeric
		if !letters && hasDigit(input[start:i]) {
			typ = analysis.Numeric
		}
		backing = append(backing, analysis.Token{
			Term: input[start:i], Start: start, End: i, Position: len(out) + 1, Type: typ,
		})
		out = append(out, &backing[len(backing)-1])
	}
	return out
}

// joins reports whether mid, between before and after, is inside a word.
func joins(before, mid, after byte) bool {
	switch {
	case letter(before) && letter(after):
		return mid == ':' || mid == '.' || mid == '\''
	case digit(before) && digit(after):
		return mid == ',' || mid == ';' || mid == '.' || mid == '\''
	}
	return false
}

func wordByte(c byte) bool { return letter(c) || digit(c) || c == '_' }
func letter(c byte) bool   { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func digit(c byte) bool    { return '0' <= c && c <= '9' }

func hasDigit(b []byte) bool {
	for _, c := range b {
		if digit(c) {
			return true
		}
	}
	return false
}

// isASCII reports whether every byte of b is below 0x80.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
