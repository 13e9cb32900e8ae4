package redact

import "slices"

// span is a byte range of the input to replace.
type span struct {
	start, end int
	kind       Kind
}

// find returns every span to redact in b, merged and sorted. Unless
// final, it also returns the first multi-line secret that later input may
// continue (else noBlock); the caller must not pass on anything from its
// start.
func (r *Redactor) find(b []byte, final bool) ([]span, openBlock) {
	spans, held := pemSpans(b, final, nil)
	spans = r.known.find(b, spans)
	lower := asciiLower(b)
	lines := newLineIndex(lower)
	for i := range patterns {
		spans = patterns[i].find(b, lower, lines, spans)
	}
	spans, heldYAML := yamlSpans(b, lines, final, spans)
	if heldYAML.before(held) {
		held = heldYAML
	}
	spans = findLegacyTokens(b, spans)
	return merge(spans), held
}

// openBlock is a multi-line secret still open at the end of the input,
// which later input may continue: a private key block without its END
// line, or a YAML block scalar not yet followed by a line indented no
// deeper than its key.
type openBlock struct {
	at   int  // where it starts (its BEGIN line or key line); -1 for none
	yaml bool // a YAML block scalar, else a private key block
	col  int  // YAML: the key's column
	// first is, for YAML, the value's first character; -1 while none has
	// arrived.
	first int
	// resume is where the search for its end goes on when more input
	// arrives (the Writer looks only at new input); -1 to search again
	// from the start.
	resume int
}

var noBlock = openBlock{at: -1}

// before reports whether o starts before p (or p is none).
func (o openBlock) before(p openBlock) bool { return o.at >= 0 && (p.at < 0 || o.at < p.at) }

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
