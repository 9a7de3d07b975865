package athena

import (
	"encoding/base64"
	"encoding/json"
)

// Page tokens are opaque to clients: the keyset cursor of the last item, as base64 JSON.
// A token that does not decode is refused with InvalidRequestException.

func encodeToken(c Cursor) *string {
	b, _ := json.Marshal(c)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

func decodeToken(token *string) (Cursor, error) {
	var c Cursor
	if token == nil || *token == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, invalid("The NextToken is not valid: pass the NextToken of a previous response unchanged.")
	}
	return c, nil
}

// pageSize applies an operation's default (its model maximum) to an optional MaxResults.
func pageSize(max *int32, def int) int {
	if max == nil {
		return def
	}
	return int(*max)
}
