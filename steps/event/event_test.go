package event

import (
	"reflect"
	"testing"
)

// Work that takes an optional emitter can report to nil without a check:
// Or gives Discard, and a nil Func drops what it is given.
func TestNilEmittersDiscard(t *testing.T) {
	var none Emitter
	Or(none).Info("vault", "unsealed")
	var f Func
	f.Emit(Event{Kind: KindLog})
	f.Warn("nobody listens")
}

// The convenience methods of Func say what the Emitter interface promises.
func TestFuncMethodsBuildTheirEvents(t *testing.T) {
	var got []Event
	f := Func(func(e Event) { got = append(got, e) })
	f.Progress("fineract", 2, 5, "services", "fineract is ready")
	f.Log("postgres", "stderr", "FATAL: x")
	f.Warn("careful")
	f.Info("vault", "unsealed")
	want := []Event{
		{Kind: KindProgress, Subject: "fineract", Current: 2, Total: 5, Unit: "services", Message: "fineract is ready"},
		{Kind: KindLog, Subject: "postgres", Stream: "stderr", Message: "FATAL: x"},
		{Kind: KindWarning, Message: "careful"},
		{Kind: KindProgress, Subject: "vault", Message: "unsealed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
