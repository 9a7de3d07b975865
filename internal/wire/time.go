package wire

import (
	"strconv"
	"time"
)

// Time is a model timestamp: on the wire a JSON number of epoch seconds with a fraction
// (never a string: aws-sdk-go-v2 rejects strings, and milliseconds would read as year 55000).
type Time struct{ time.Time }

// NewTime returns a pointer to t as a wire timestamp, or nil for the zero time.
func NewTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t}
}

func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	t.Time = time.UnixMilli(int64(f * 1000)).UTC()
	return nil
}
