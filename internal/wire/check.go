package wire

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidationError reports the first few broken constraints of a request in AWS's words,
// e.g. "Value null at 'workGroup' failed to satisfy constraint: Member must not be null".
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	n := len(e.Problems)
	noun := "errors"
	if n == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", n, noun, strings.Join(e.Problems, "; "))
}

// checker collects constraint failures while a request is walked.
type checker struct{ problems []string }

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

func (c *checker) add(path, value, rule string) {
	c.problems = append(c.problems, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, path, rule))
}

func (c *checker) join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

func (c *checker) index(path string, i int) string { return fmt.Sprintf("%s.%d.member", path, i+1) }
func (c *checker) key(path, k string) string       { return fmt.Sprintf("%s.%s", path, k) }

// quote shows a value in a message without echoing a huge payload back.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		r := []rune(s)
		s = string(r[:64]) + "..."
	}
	return "'" + s + "'"
}

func (c *checker) required(path string) { c.add(path, "null", "not be null") }

func (c *checker) minLen(path, s string, n int) {
	if utf8.RuneCountInString(s) < n {
		c.add(path, quote(s), fmt.Sprintf("have length greater than or equal to %d", n))
	}
}

func (c *checker) maxLen(path, s string, n int) {
	if len(s) > n && utf8.RuneCountInString(s) > n {
		c.add(path, quote(s), fmt.Sprintf("have length less than or equal to %d", n))
	}
}

func (c *checker) pattern(path, s string, ok bool, pattern string) {
	if !ok {
		c.add(path, quote(s), "satisfy regular expression pattern: "+pattern)
	}
}

func (c *checker) enum(path, s string, values []string) {
	for _, v := range values {
		if s == v {
			return
		}
	}
	c.add(path, quote(s), "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

func (c *checker) min(path string, v, n int64) {
	if v < n {
		c.add(path, fmt.Sprint(v), fmt.Sprintf("have value greater than or equal to %d", n))
	}
}

func (c *checker) max(path string, v, n int64) {
	if v > n {
		c.add(path, fmt.Sprint(v), fmt.Sprintf("have value less than or equal to %d", n))
	}
}

func (c *checker) minItems(path string, n, min int) {
	if n < min {
		c.add(path, fmt.Sprintf("of %d items", n), fmt.Sprintf("have length greater than or equal to %d", min))
	}
}

func (c *checker) maxItems(path string, n, max int) {
	if n > max {
		c.add(path, fmt.Sprintf("of %d items", n), fmt.Sprintf("have length less than or equal to %d", max))
	}
}
