package audit

import (
	"strings"
	"testing"
	"time"
)

// keptOf is the history a store would hold after keeping each of heads
// as one version.
func keptOf(heads ...Head) KeptHistory {
	h := KeptHistory{Current: len(heads)}
	for i, hd := range heads {
		h.Versions = append(h.Versions, KeptVersion{Version: i + 1, Written: time.Date(2031, 1, 2, 3, 4, i, 0, time.UTC), Head: hd})
	}
	return h
}

func kinds(ps []Problem) string {
	var ks []string
	for _, p := range ps {
		ks = append(ks, p.Kind)
	}
	return strings.Join(ks, ",")
}

// Every kept head is compared, not only the newest: a forged newer head
// does not hide an entry that an older one names differently.
func TestCheckKeptComparesEveryVersion(t *testing.T) {
	dir, _ := logWith(t, 3)
	data, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	genuine := Verify(data, nil)
	var heads []Head
	for _, e := range genuine.Entries {
		heads = append(heads, Head{Seq: e.Entry.Seq, Hash: e.Hash})
	}
	rep := Verify(data, nil)
	rep.CheckKept(keptOf(heads...))
	if len(rep.Problems) != 0 {
		t.Fatalf("the untouched log against its own heads: %+v", rep.Problems)
	}

	forgedSecond := Head{Seq: 2, Hash: strings.Repeat("ab", 32)}
	rep = Verify(data, nil)
	rep.CheckKept(keptOf(heads[0], forgedSecond, heads[2]))
	if kinds(rep.Problems) != ProblemRewritten || !strings.Contains(rep.Problems[0].Detail, "Vault kept entry 2 hash abababab") ||
		!strings.Contains(rep.Problems[0].Detail, "(version 2, written 2031-01-02T03:04:01Z)") || rep.Problems[0].Line != 2 || rep.OK() {
		t.Errorf("a head that differs from the file's entry: %+v", rep.Problems)
	}
}

// Versions the store no longer holds are named: what they kept is
// unknown, and only a root token (or a flood past max_versions) removes
// them.
func TestCheckKeptNamesACutHistory(t *testing.T) {
	dir, _ := logWith(t, 2)
	data, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := Verify(data, nil)
	h := Head{Seq: rep.Entries[1].Entry.Seq, Hash: rep.Entries[1].Hash}
	kept := KeptHistory{Current: 4, Versions: []KeptVersion{
		{Version: 3, Gone: "destroyed"},
		{Version: 4, Head: h},
	}}
	rep.CheckKept(kept)
	if kinds(rep.Problems) != ProblemHistoryCut+","+ProblemHistoryCut || rep.OK() ||
		!strings.Contains(rep.Problems[0].Detail, "versions 1 to 2") || !strings.Contains(rep.Problems[1].Detail, "version 3 of the head was destroyed") {
		t.Errorf("cut history: %+v", rep.Problems)
	}
}

// Entries after the last kept head are unconfirmed, which is not
// tampering; a log with no head kept yet is unconfirmed as a whole.
func TestCheckKeptLeavesLaterEntriesUnconfirmed(t *testing.T) {
	dir, _ := logWith(t, 3)
	data, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := Verify(data, nil)
	first := Head{Seq: 1, Hash: rep.Entries[0].Hash}
	rep.CheckKept(keptOf(first))
	if kinds(rep.Problems) != ProblemUnconfirmed || !rep.OK() ||
		!strings.Contains(rep.Problems[0].Detail, "head not kept in Vault since entry 1 (version 1, written 2031-01-02T03:04:00Z): entries 2 to 3 are not confirmed yet") {
		t.Errorf("entries after the kept head: %+v", rep.Problems)
	}
	rep = Verify(data, nil)
	rep.CheckKept(KeptHistory{})
	if kinds(rep.Problems) != ProblemUnconfirmed || !rep.OK() {
		t.Errorf("no head kept yet: %+v", rep.Problems)
	}
}

func TestHeadCheckRefusesWhatAppendNeverWrites(t *testing.T) {
	for _, h := range []Head{{Seq: 0, Hash: strings.Repeat("a", 64)}, {Seq: 1, Hash: "abc"}, {Seq: 1, Hash: strings.Repeat("A", 64)}} {
		if h.Check() == nil {
			t.Errorf("%+v accepted", h)
		}
	}
	if err := (Head{Seq: 7, Hash: strings.Repeat("0f", 32)}).Check(); err != nil {
		t.Error(err)
	}
}
