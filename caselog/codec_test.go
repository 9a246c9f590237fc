package caselog

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// The hand-written encoders must write exactly what encoding/json writes,
// for every field: the generator below fills every exported field by its
// type, so a field added to Case, Event or Media without teaching the
// encoder fails here.
func TestEncode_SameBytesAsEncodingJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var s stored
		fill(rng, reflect.ValueOf(&s.Case).Elem())
		s.Events = nil // never stored with the case
		s.EventCount = rng.Uint32N(100)
		got, err := encodeStored(s)
		want, werr := json.Marshal(s)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s (%v)\nwant %s (%v)", i, got, err, want, werr)
		}
		var e Event
		fill(rng, reflect.ValueOf(&e).Elem())
		got, err = encodeEvent(e)
		want, werr = json.Marshal(e)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s (%v)\nwant %s (%v)", i, got, err, want, werr)
		}
	}
}

// A time encoding/json refuses is refused the same way.
func TestEncode_OutOfRangeTime(t *testing.T) {
	t.Parallel()
	_, err := encodeEvent(Event{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil {
		t.Fatal("year 10000 encoded")
	}
}

// pieces are the awkward parts of strings: HTML characters, control
// characters, quotes, invalid UTF-8, the JavaScript line separators, CJK and
// emoji.
var pieces = []string{"", "a", "投诉", "<", ">", "&", `"`, `\`, "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f",
	"\x7f", "\xff", "\xe6\x8a", "\u2028", "\u2029", "😀", " ", "+8613800138000", "é"}

func fill(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		var s string
		for range rng.IntN(4) {
			s += pieces[rng.IntN(len(pieces))]
		}
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		v.SetInt(rng.Int64N(7) - 1)
	case reflect.Uint32:
		v.SetUint(uint64(rng.Uint32()))
	case reflect.Slice:
		if rng.IntN(4) == 0 {
			return // nil
		}
		n := rng.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if rng.IntN(3) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rng, k)
			fill(rng, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zones := []*time.Location{time.UTC, shanghai, time.FixedZone("", -(3*3600 + 30*60))}
			t := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)*int64(rng.IntN(2))).In(zones[rng.IntN(len(zones))])
			if rng.IntN(5) == 0 {
				t = time.Time{}
			}
			v.Set(reflect.ValueOf(t))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i))
			}
		}
	default:
		panic("fill: no generator for " + v.Type().String())
	}
}

// Whatever encodeStored wrote, decodeStored reads back as json.Unmarshal
// does, and the direct reader takes the common records (no escapes).
func TestDecodeStored_AgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	fast := 0
	for i := range 3000 {
		var s stored
		fill(rng, reflect.ValueOf(&s.Case).Elem())
		s.Events = nil
		s.EventCount = rng.Uint32N(100)
		if i%2 == 0 { // half the records with plain strings, as most are
			plain(reflect.ValueOf(&s.Case).Elem())
		}
		v, err := encodeStored(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeStored(v)
		var want stored
		werr := json.Unmarshal(v, &want)
		if err != nil || werr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d %s:\n got %+v (%v)\nwant %+v (%v)", i, v, got, err, want, werr)
		}
		if _, ok := fastStored(v); ok {
			fast++
		}
	}
	if fast < 1500 {
		t.Errorf("direct reader took %d of 3000 records, want at least the 1500 plain ones", fast)
	}
}

// plain replaces every string with one that needs no escape, and a
// negative rating with none.
func plain(v reflect.Value) {
	switch v.Kind() {
	case reflect.Int:
		v.SetInt(max(v.Int(), 0))
	case reflect.String:
		if v.String() != "" {
			v.SetString("投诉 text")
		}
	case reflect.Slice:
		for i := range v.Len() {
			plain(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && v.Field(i).CanSet() {
				plain(v.Field(i))
			}
		}
	}
}

// FuzzDecodeStored: wherever the direct reader answers, json.Unmarshal
// accepts the same bytes and gives the same record.
func FuzzDecodeStored(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		var s stored
		fill(rng, reflect.ValueOf(&s.Case).Elem())
		plain(reflect.ValueOf(&s.Case).Elem())
		s.Events = nil
		v, _ := encodeStored(s)
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := fastStored(v)
		if !ok {
			return
		}
		var want stored
		if err := json.Unmarshal(v, &want); err != nil {
			t.Fatalf("direct reader took %q, json.Unmarshal refuses it: %v", v, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n direct %+v\n   json %+v", v, got, want)
		}
	})
}
