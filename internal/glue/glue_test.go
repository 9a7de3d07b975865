package glue

import (
	"errors"
	"strings"
	"testing"
)

func TestPage(t *testing.T) {
	list := []int{1, 2, 3, 4, 5}
	var got []int
	var token *string
	for pages := 0; ; pages++ {
		p, next, err := page(list, token, ref(int32(2)), "GetTables")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p...)
		if token = next; token == nil {
			if pages != 2 {
				t.Errorf("%d pages of 2 for 5 items", pages+1)
			}
			break
		}
	}
	if len(got) != 5 || got[4] != 5 {
		t.Errorf("paged %v", got)
	}
	for _, tc := range []struct {
		token *string
		max   *int32
	}{{ref("x!"), nil}, {ref("OTk"), nil}, {nil, ref(int32(0))}, {nil, ref(int32(101))}} {
		var ge *Error
		if _, _, err := page(list, tc.token, tc.max, "GetTables"); !errors.As(err, &ge) || ge.Type != "InvalidInputException" {
			t.Errorf("page(token %v, max %v): %v; want InvalidInputException", tc.token, tc.max, err)
		}
	}
}

func TestRequiredNames(t *testing.T) {
	if got, err := required("name", ref("Smoke")); err != nil || got != "smoke" {
		t.Errorf("required(Smoke) = %q, %v; want smoke (Glue lower-cases names)", got, err)
	}
	for _, v := range []*string{nil, ref(""), ref(strings.Repeat("a", 256)), ref("a\nb")} {
		var ge *Error
		if _, err := required("name", v); !errors.As(err, &ge) || ge.Type != "InvalidInputException" {
			t.Errorf("required(%v): %v; want InvalidInputException", v, err)
		}
	}
}

func ref[T any](v T) *T { return &v }
