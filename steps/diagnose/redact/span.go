package redact

import (
	"bytes"
	"slices"
)

// span is a byte range of the input to replace.
type span struct {
	start, end int
	kind       Kind
}

// find returns every span to redact in b, merged and sorted. Unless final,
// hold is the start of a private key block that may continue in later
// input (else -1).
func (r *Redactor) find(b []byte, final bool) (spans []span, hold int) {
	spans, hold = pemSpans(b, final, nil)
	for _, v := range r.needles {
		for i := 0; ; {
			j := bytes.Index(b[i:], v)
			if j < 0 {
				break
			}
			spans = append(spans, span{start: i + j, end: i + j + len(v), kind: KindKnownValue})
			i += j + 1 // overlapping occurrences too
		}
	}
	lower := asciiLower(b)
	for i := range patterns {
		spans = patterns[i].find(b, lower, spans)
	}
	spans = findLegacyTokens(b, spans)
	return merge(spans), hold
}

func sortSpans(spans []span) {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
}

// merge joins overlapping spans; a merged span takes the kind of highest
// priority among its parts.
func merge(spans []span) []span {
	if len(spans) == 0 {
		return nil
	}
	sortSpans(spans)
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.start < last.end {
			last.end = max(last.end, s.end)
			if priority[s.kind] > priority[last.kind] {
				last.kind = s.kind
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// apply appends b[:end] to dst with every span inside it replaced, and
// counts the replacements. Spans must lie within b[:end].
func apply(dst, b []byte, spans []span, end int, counts Counts) []byte {
	at := 0
	for _, s := range spans {
		dst = append(dst, b[at:s.start]...)
		dst = append(dst, Replacement(s.kind)...)
		counts[s.kind]++
		at = s.end
	}
	return append(dst, b[at:end]...)
}
