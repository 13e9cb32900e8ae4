package archive

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

func TestRekeyChangesAndAddsPassphrases(t *testing.T) {
	plain := payload(2*cs+9, 40)
	data := seal(t, plain, cs, 0)
	hl := headerLen(t, data)
	newPass := []byte("a completely different passphrase")
	recovery := []byte("offline recovery words go here")

	var changed bytes.Buffer
	info, err := rekey(&changed, bytes.NewReader(data), testPass, [][]byte{newPass}, testKDF, testLimits)
	must(t, err)
	if info.ArchiveSize != int64(changed.Len()) || len(info.KeySlots) != 1 {
		t.Fatalf("rekey info %+v for a %d-byte archive", info, changed.Len())
	}
	newHL := int(info.HeaderSize)
	if !bytes.Equal(changed.Bytes()[newHL:], data[hl:]) {
		t.Fatal("rekey re-encrypted the payload; it must copy the chunks unchanged")
	}
	if _, err := newReader(bytes.NewReader(changed.Bytes()), testPass, testLimits); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase after a change: %v", err)
	}
	readWith(t, changed.Bytes(), newPass, plain)

	var both bytes.Buffer
	info, err = rekey(&both, bytes.NewReader(changed.Bytes()), newPass, [][]byte{newPass, recovery}, testKDF, testLimits)
	must(t, err)
	if len(info.KeySlots) != 2 {
		t.Fatalf("want 2 key slots, got %d", len(info.KeySlots))
	}
	readWith(t, both.Bytes(), newPass, plain)
	readWith(t, both.Bytes(), recovery, plain)
	if _, err := newReader(bytes.NewReader(both.Bytes()), testPass, testLimits); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("a passphrase in neither slot: %v", err)
	}

	// Swapping the two key slots is an edit the header MAC catches.
	c := bytes.Clone(both.Bytes())
	so := slotOffset(c)
	first := bytes.Clone(c[so : so+slotSize])
	copy(c[so:], c[so+slotSize:so+2*slotSize])
	copy(c[so+slotSize:], first)
	fixChecksum(c, int(info.HeaderSize))
	if _, err := newReader(bytes.NewReader(c), newPass, testLimits); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("swapped key slots: %v", err)
	}
}

func readWith(t *testing.T, data, pass, want []byte) {
	t.Helper()
	r, err := newReader(bytes.NewReader(data), pass, testLimits)
	if err != nil {
		t.Fatalf("passphrase %q: %v", pass, err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(r); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("passphrase %q: read error %v, payload equal %v", pass, err, bytes.Equal(got.Bytes(), want))
	}
}

func TestRekeyRefuses(t *testing.T) {
	data := seal(t, payload(3*cs, 41), cs, 0)
	hl := headerLen(t, data)
	next := [][]byte{[]byte("a completely different passphrase")}
	var out bytes.Buffer
	if _, err := rekey(&out, bytes.NewReader(data), []byte("wrong wrong wrong"), next, testKDF, testLimits); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong current passphrase: %v", err)
	}
	if _, err := rekey(&out, bytes.NewReader(flip(data, hl+cs+tagSize+5, 1)), testPass, next, testKDF, testLimits); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged archive: %v", err)
	}
	if _, err := rekey(&out, bytes.NewReader(data[:len(data)-cs]), testPass, next, testKDF, testLimits); err == nil {
		t.Fatal("truncated archive re-keyed")
	}
	if _, err := rekey(&out, bytes.NewReader(data), testPass, nil, testKDF, testLimits); err == nil {
		t.Fatal("re-keyed to no passphrase at all")
	}
	if _, err := Rekey(&out, bytes.NewReader(data), testPass, [][]byte{[]byte("weak")}, passphrase.KDF{}); !errors.Is(err, passphrase.ErrWeak) {
		t.Fatalf("weak new passphrase: %v", err)
	}
	if _, err := Rekey(&out, bytes.NewReader(data), testPass, next, passphrase.KDF{Time: 1, Memory: 64, Threads: 1}); !errors.Is(err, ErrWeakParameters) {
		t.Fatalf("weak new KDF: %v", err)
	}
	// Key slots that together cost more than the limit would make an
	// archive no reader opens: four at the ceiling are the most.
	ceiling := passphrase.KDF{Time: testLimits.MaxTime, Memory: testLimits.MaxMemory, Threads: 1}
	many := [][]byte{testPass, testPass, testPass, testPass, testPass}
	if _, err := rekey(&out, bytes.NewReader(data), testPass, many, ceiling, testLimits); !errors.Is(err, ErrWeakParameters) {
		t.Fatalf("five key slots at the ceiling: %v", err)
	}
	out.Reset()
	info, err := rekey(&out, bytes.NewReader(data), testPass, many[:4], ceiling, testLimits)
	if err != nil || len(info.KeySlots) != 4 {
		t.Fatalf("four key slots at the ceiling: %v", err)
	}
	readWith(t, out.Bytes(), testPass, payload(3*cs, 41))
}
