package audit

import (
	"errors"
	"fmt"
	"time"
)

// Problem kinds found against heads kept outside the file.
const (
	// ProblemRewritten: an entry whose hash differs from the one kept
	// outside the file when it was the head.
	ProblemRewritten = "rewritten"
	// ProblemHistoryCut: heads the outside store no longer holds
	// (deleted, destroyed or pushed out), so what they were is unknown.
	ProblemHistoryCut = "history-cut"
)

// Check says whether h is a head as Append makes it.
func (h Head) Check() error {
	if h.Seq == 0 {
		return errors.New("no sequence number")
	}
	if !isHash(h.Hash) {
		return fmt.Errorf("hash %q is not a SHA-256 in lower-case hex", h.Hash)
	}
	return nil
}

// KeptVersion is one version of the head kept in a store with history
// (Vault's KV v2).
type KeptVersion struct {
	Version int       `json:"version"`
	Written time.Time `json:"written"`
	Head    Head      `json:"head"`
	// Gone says the store no longer holds the version's data:
	// "deleted" or "destroyed".
	Gone string `json:"gone,omitempty"`
}

// KeptHistory is every version of the head the store holds, oldest
// first, and the number of the last one written.
type KeptHistory struct {
	Current  int           `json:"current_version"`
	Versions []KeptVersion `json:"versions"`
	// Erased says the store holds no record of the key at all, although
	// it was made when keeping began.
	Erased bool `json:"erased,omitempty"`
}

// Last is the newest version holding a head, or nil.
func (h KeptHistory) Last() *KeptVersion {
	for i := len(h.Versions) - 1; i >= 0; i-- {
		if h.Versions[i].Gone == "" {
			return &h.Versions[i]
		}
	}
	return nil
}

// CheckKept compares the report's entries with every head the store
// kept: each must still be in the file at its sequence number with its
// hash. A later forged head does not hide an earlier mismatch, since
// every version is compared. Entries after the last kept head are
// unconfirmed, not tampering.
func (r *Report) CheckKept(h KeptHistory) {
	bySeq := map[uint64][]Recorded{}
	for _, e := range r.Entries {
		bySeq[e.Entry.Seq] = append(bySeq[e.Entry.Seq], e)
	}
	top := r.Head.Seq
	var probs []Problem
	// Versions the store no longer holds: 1 up to the oldest listed
	// (pushed out), and any deleted or destroyed.
	first := h.Current + 1
	if len(h.Versions) > 0 {
		first = h.Versions[0].Version
	}
	if h.Erased {
		probs = append(probs, Problem{Kind: ProblemHistoryCut,
			Detail: "Vault holds no record of the audit head at all, although the key was made when keeping it began: it was deleted with a root token"})
	}
	if first > 1 {
		probs = append(probs, Problem{Kind: ProblemHistoryCut,
			Detail: fmt.Sprintf("Vault no longer holds versions 1 to %d of the head: they were deleted with a root token, or pushed out by more writes than it keeps", first-1)})
	}
	var beyond *KeptVersion // the highest head beyond the file's end
	for _, v := range h.Versions {
		at := keptAt(v)
		if v.Gone != "" {
			probs = append(probs, Problem{Kind: ProblemHistoryCut,
				Detail: fmt.Sprintf("Vault's version %d of the head was %s (only a root token can): what it kept is unknown", v.Version, v.Gone)})
			continue
		}
		k := v.Head
		if k.Seq > top {
			if beyond == nil || k.Seq > beyond.Head.Seq {
				beyond = &v
			}
			continue
		}
		same := bySeq[k.Seq]
		found := false
		for _, e := range same {
			found = found || e.Hash == k.Hash
		}
		if found {
			continue
		}
		if len(same) == 0 {
			probs = append(probs, Problem{Kind: ProblemRewritten, Seq: k.Seq,
				Detail: fmt.Sprintf("Vault kept entry %d hash %s (%s); the file has no entry %d", k.Seq, short(k.Hash), at, k.Seq)})
			continue
		}
		probs = append(probs, Problem{Kind: ProblemRewritten, Line: same[0].Line, Seq: k.Seq,
			Detail: fmt.Sprintf("Vault kept entry %d hash %s (%s); the file's entry %d at line %d hashes to %s", k.Seq, short(k.Hash), at, k.Seq, same[0].Line, short(same[0].Hash))})
	}
	if beyond != nil {
		probs = append(probs, Problem{Kind: ProblemTruncated, Seq: top + 1,
			Detail: fmt.Sprintf("the file ends at entry %d but Vault kept entry %d (%s): %s missing from the end",
				top, beyond.Head.Seq, keptAt(*beyond), seqRange(top+1, beyond.Head.Seq))})
	}
	last := h.Last()
	switch {
	case last == nil && top > 0 && !h.Erased:
		probs = append(probs, Problem{Kind: ProblemUnconfirmed, Seq: 1,
			Detail: fmt.Sprintf("%s not confirmed: no head was kept in Vault yet", seqRange(1, top))})
	case last != nil && top > last.Head.Seq:
		probs = append(probs, Problem{Kind: ProblemUnconfirmed, Seq: last.Head.Seq + 1,
			Detail: fmt.Sprintf("head not kept in Vault since entry %d (version %d, written %s): %s not confirmed yet",
				last.Head.Seq, last.Version, last.Written.UTC().Format(time.RFC3339), seqRange(last.Head.Seq+1, top))})
	}
	r.Problems = append(r.Problems, probs...)
	sortProblems(r.Problems)
}

// keptAt says which version kept a head, and when.
func keptAt(v KeptVersion) string {
	return fmt.Sprintf("version %d, written %s", v.Version, v.Written.UTC().Format(time.RFC3339))
}
