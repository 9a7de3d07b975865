package sqlite

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"glaux/internal/athena"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "glaux.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func update(t *testing.T, db *DB, fn func(athena.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, db *DB, fn func(athena.Tx) error) {
	t.Helper()
	if err := db.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

var base = time.Date(2025, 11, 25, 16, 48, 1, 123456789, time.UTC)

// at is base plus d, in UTC as the store returns times.
func at(d time.Duration) time.Time { return base.Add(d) }

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

// fill sets every exported field of the struct v points to (recursively through pointers,
// structs, slices and maps) to a value that is not zero and depends on the field's name and
// seed, so a round trip that drops or swaps a field shows.
func fill(v any, seed int) {
	fillValue(reflect.ValueOf(v).Elem(), "x", seed, 0)
}

var timeType = reflect.TypeOf(time.Time{})

func fillValue(v reflect.Value, name string, seed, depth int) {
	if depth > 8 {
		return
	}
	n := int64(seed*1000 + len(name)*7 + depth + 1)
	switch v.Kind() {
	case reflect.String:
		v.SetString(name + "-" + string(rune('a'+seed%26)))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(n % 100)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n % 100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n%100) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(p.Elem(), name, seed, depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0), name, seed, depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillValue(k, name+"Key", seed, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fillValue(e, name+"Elem", seed, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(at(time.Duration(n) * time.Hour).Add(time.Duration(len(name)))))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			fillValue(v.Field(i), f.Name, seed, depth+1)
		}
	}
}
