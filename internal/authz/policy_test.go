package authz

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

const wgTeamA = "arn:aws:athena:us-east-1:123456789012:workgroup/team-a"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"a", "a", true},
		{"a", "A", false}, // Match itself is case-sensitive; actions are lowered before
		{"?", "", false},
		{"?", "x", true},
		{"?", "é", true}, // one character, two bytes
		{"??", "é", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*c", "ac", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbcd", false},
		{"*c", "abcabc", true},
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "a-c-b", false},
		{"**", "x", true},
		{"*?", "", false},
		{"*?", "x", true},
		{"team-*", "team-", true},
		{"team-*", "team", false},
		{"arn:aws:athena:*:*:workgroup/team-*", wgTeamA, true},
		{"arn:aws:athena:*:*:workgroup/team-*", "arn:aws:athena:us-east-1:123456789012:workgroup/other", false},
		{"arn:aws:athena:us-east-1:123456789012:workgroup/team-?", wgTeamA, true},
		{"arn:aws:athena:us-east-1:123456789012:workgroup/team-a", wgTeamA + "x", false},
		{"[a]", "a", false}, // no character classes
		{"a.c", "abc", false},
	} {
		if got := Match(tc.p, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	readTeam := `{"Effect":"Allow","Action":["athena:Get*","athena:List*"],"Resource":"arn:aws:athena:us-east-1:123456789012:workgroup/team-*"}`
	for _, tc := range []struct {
		name       string
		statements string
		action     string
		resource   string
		want       Decision
	}{
		{"allow by wildcard", readTeam, "athena:GetSession", wgTeamA, Allow},
		{"action case-insensitive", readTeam, "ATHENA:getsession", wgTeamA, Allow},
		{"pattern case-insensitive", `{"Effect":"Allow","Action":"Athena:GETSESSION","Resource":"*"}`, "athena:GetSession", wgTeamA, Allow},
		{"resource case-sensitive", readTeam, "athena:GetSession", strings.Replace(wgTeamA, "team-a", "TEAM-a", 1), ImplicitDeny},
		{"other action", readTeam, "athena:StartSession", wgTeamA, ImplicitDeny},
		{"other resource", readTeam, "athena:GetSession", "arn:aws:athena:us-east-1:123456789012:workgroup/ops", ImplicitDeny},
		{"star resource is not a workgroup", readTeam, "athena:ListWorkGroups", "*", ImplicitDeny},
		{"star resource allowed by star", `{"Effect":"Allow","Action":"athena:ListWorkGroups","Resource":"*"}`, "athena:ListWorkGroups", "*", Allow},
		{"no statement matches", `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`, "athena:GetSession", wgTeamA, ImplicitDeny},
		{"single statement object", `{"Effect":"Allow","Action":"*","Resource":"*"}`, "athena:DeleteWorkGroup", wgTeamA, Allow},
		{"explicit deny wins", `[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"athena:Delete*","Resource":"*"}]`, "athena:DeleteWorkGroup", wgTeamA, ExplicitDeny},
		{"explicit deny wins in any order", `[{"Effect":"Deny","Action":"athena:Delete*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]`, "athena:DeleteWorkGroup", wgTeamA, ExplicitDeny},
		{"deny elsewhere leaves allow", `[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"arn:aws:athena:*:*:workgroup/ops"}]`, "athena:DeleteWorkGroup", wgTeamA, Allow},
		{"deny alone is implicit deny elsewhere", `{"Effect":"Deny","Action":"*","Resource":"arn:aws:athena:*:*:workgroup/ops"}`, "athena:GetSession", wgTeamA, ImplicitDeny},
		{"NotAction allows the rest", `{"Effect":"Allow","NotAction":["athena:Delete*","athena:Update*"],"Resource":"*"}`, "athena:StartSession", wgTeamA, Allow},
		{"NotAction excludes", `{"Effect":"Allow","NotAction":["athena:Delete*","athena:Update*"],"Resource":"*"}`, "athena:DeleteWorkGroup", wgTeamA, ImplicitDeny},
		{"NotAction deny", `[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"athena:Get*","Resource":"*"}]`, "athena:StartSession", wgTeamA, ExplicitDeny},
		{"NotAction deny spares", `[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"athena:Get*","Resource":"*"}]`, "athena:GetSession", wgTeamA, Allow},
		{"resource list", `{"Effect":"Allow","Action":"athena:*","Resource":["arn:aws:athena:*:*:workgroup/ops","arn:aws:athena:*:*:workgroup/team-a"]}`, "athena:GetSession", wgTeamA, Allow},
		{"question mark", `{"Effect":"Allow","Action":"athena:Get?ession","Resource":"*"}`, "athena:GetSession", wgTeamA, Allow},
		{"service wildcard", `{"Effect":"Allow","Action":"*:GetSession","Resource":"*"}`, "athena:GetSession", wgTeamA, Allow},
		{"other region", `{"Effect":"Allow","Action":"*","Resource":"arn:aws:athena:eu-west-1:*:workgroup/*"}`, "athena:GetSession", wgTeamA, ImplicitDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, err := ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":` + tc.statements + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := pol.Evaluate(tc.action, tc.resource); got != tc.want {
				t.Fatalf("Evaluate(%s, %s) = %v, want %v", tc.action, tc.resource, got, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	st := func(s string) string {
		return `{"principals":{"alice":{"access_keys":["AK"],"policy":{"Version":"2012-10-17","Statement":` + s + `}}}}`
	}
	for _, tc := range []struct{ name, file, want string }{
		{"not json", `{`, "unexpected EOF"},
		{"trailing data", `{"principals":{}} {}`, "after the JSON value"},
		{"no principals", `{}`, `"principals"`},
		{"unknown top-level member", `{"principals":{},"users":{}}`, "unknown field"},
		{"unknown principal member", `{"principals":{"alice":{"access_keys":["AK"],"secret":"x","policy":{}}}}`, "unknown field"},
		{"bad name", `{"principals":{"al ice":{"access_keys":["AK"],"policy":{}}}}`, "a name is"},
		{"no keys", `{"principals":{"alice":{"access_keys":[],"policy":{}}}}`, "no access key"},
		{"empty key", `{"principals":{"alice":{"access_keys":[""],"policy":` + `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}` + `}}}`, "empty access key"},
		{"no policy", `{"principals":{"alice":{"access_keys":["AK"]}}}`, "no policy"},
		{"shared key", `{"principals":{"a":{"access_keys":["AK"],"policy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}},"b":{"access_keys":["AK"],"policy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}}}`, "belongs to both"},
		{"no version", `{"principals":{"alice":{"access_keys":["AK"],"policy":{"Statement":[]}}}}`, "Version is required"},
		{"bad version", `{"principals":{"alice":{"access_keys":["AK"],"policy":{"Version":"2024-01-01","Statement":[]}}}}`, "not an IAM policy version"},
		{"no statement", `{"principals":{"alice":{"access_keys":["AK"],"policy":{"Version":"2012-10-17"}}}}`, "Statement is required"},
		{"bad effect", st(`{"Effect":"allow","Action":"*","Resource":"*"}`), "Effect must be"},
		{"condition", st(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`), "Condition is not supported"},
		{"not resource", st(`{"Effect":"Allow","Action":"*","NotResource":"*"}`), "NotResource is not supported"},
		{"principal element", st(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), "Principal is not supported"},
		{"unknown statement member", st(`{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}`), "unknown field"},
		{"action and not action", st(`{"Effect":"Allow","Action":"*","NotAction":"athena:Get*","Resource":"*"}`), "not both"},
		{"no action", st(`{"Effect":"Allow","Resource":"*"}`), "needs Action"},
		{"no resource", st(`{"Effect":"Allow","Action":"*"}`), "needs Resource"},
		{"action not a string", st(`{"Effect":"Allow","Action":7,"Resource":"*"}`), "string or a list"},
		{"empty action list", st(`{"Effect":"Allow","Action":[],"Resource":"*"}`), "lists nothing"},
		{"empty action", st(`{"Effect":"Allow","Action":[""],"Resource":"*"}`), "empty entry"},
		{"action without service", st(`{"Effect":"Allow","Action":"GetSession","Resource":"*"}`), "service:Operation"},
		{"policy variable", st(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:athena:*:*:workgroup/${aws:username}"}`), "policy variables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	ps, err := Parse([]byte(`{"principals":{
		"alice":{"access_keys":["AKIAALICE","AKIAALICE2"],"policy":{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["athena:Get*","athena:List*"],"Resource":"arn:aws:athena:us-east-1:123456789012:workgroup/team-*"}]}},
		"admin":{"access_keys":["AKIAADMIN"],"policy":{"Version":"2012-10-17","Statement":{"Sid":"all","Effect":"Allow","Action":"*","Resource":"*"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.AccessKeys(); strings.Join(got, ",") != "AKIAADMIN,AKIAALICE,AKIAALICE2" {
		t.Fatalf("AccessKeys = %v", got)
	}
	for _, tc := range []struct {
		key, action, resource string
		principal             string
		want                  Decision
	}{
		{"AKIAALICE", "athena:GetSession", wgTeamA, "alice", Allow},
		{"AKIAALICE2", "athena:ListSessions", wgTeamA, "alice", Allow},
		{"AKIAALICE", "athena:StartSession", wgTeamA, "alice", ImplicitDeny},
		{"AKIAADMIN", "athena:DeleteWorkGroup", wgTeamA, "admin", Allow},
		{"AKIAUNKNOWN", "athena:GetSession", wgTeamA, "", ImplicitDeny},
		{"", "athena:GetSession", wgTeamA, "", ImplicitDeny},
	} {
		p, d := ps.Decide(tc.key, tc.action, tc.resource)
		if p != tc.principal || d != tc.want {
			t.Errorf("Decide(%s, %s) = %q, %v; want %q, %v", tc.key, tc.action, p, d, tc.principal, tc.want)
		}
	}
}

// FuzzMatch compares Match with the same pattern as a regular expression.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"a*b?c", "axxbyc"}, {"*", ""}, {"?", "é"}, {"team-*", "team-a"}, {"**a*", "bab"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, c := range p {
			switch c {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString(`\z`)
		rx, err := regexp.Compile(re.String())
		if err != nil {
			return
		}
		// Invalid UTF-8 reads differently in the two (a byte vs U+FFFD); keep to valid text.
		if !utf8.ValidString(p) || !utf8.ValidString(s) {
			return
		}
		if got, want := Match(p, s), rx.MatchString(s); got != want {
			t.Fatalf("Match(%q, %q) = %v, the regexp says %v", p, s, got, want)
		}
	})
}
