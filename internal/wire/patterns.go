package wire

import "strings"

// The model writes these two patterns in Java regex syntax that Go's regexp cannot compile
// (a lookahead and \u escapes with surrogate pairs), so they are checked by hand.

// validKeyString: [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]* — any character
// but controls other than tab, and the non-characters U+FFFE/U+FFFF. Surrogate pairs in
// Java are supplementary characters in Go, which are allowed.
func validKeyString(s string) bool {
	for _, r := range s {
		if !allowedChar(r) {
			return false
		}
	}
	return true
}

// validNotebookName: (?!.*[/:\\])[...]+ — the key-string characters, at least one, and
// none of / : \.
func validNotebookName(s string) bool {
	return s != "" && validKeyString(s) && !strings.ContainsAny(s, `/:\`)
}

func allowedChar(r rune) bool {
	switch {
	case r == '\t':
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
