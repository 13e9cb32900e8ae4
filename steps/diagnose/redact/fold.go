package redact

import (
	"bytes"
	"sort"
)

// Known values are searched for in a folded copy of the input: line
// breaks are taken out, so a value that wrapped output, a continued
// command line or an indented log continuation split over lines is found
// as if it were whole.
//
// A break is an optional continuation backslash, a line break (CR LF, LF
// or a lone CR) and up to maxIndent spaces or tabs after it. At most one
// break is taken out between two characters, so a match can never cover
// more than len + (len-1)*maxBreak bytes of input, which bounds what the
// Writer holds back.
const (
	maxIndent = 16
	maxBreak  = 1 + 2 + maxIndent
)

// folded is text with its breaks taken out, and where they were.
type folded struct {
	text []byte
	gaps []gap // in order of at
}

// gap says that text[at:] lies shift bytes further on in the input.
type gap struct{ at, shift int }

// fold takes the breaks out of b. With continuation, a backslash right
// before a line break goes with it (a shell or properties continuation);
// without, it stays as text.
func fold(b []byte, continuation bool) folded {
	if bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0 {
		return folded{text: b}
	}
	f := folded{text: make([]byte, 0, len(b))}
	last, justBroke := 0, false
	for i := 0; i < len(b); {
		n := 0
		if !justBroke { // a second break in a row stays as text
			n = breakLen(b, i, continuation)
		}
		if n == 0 {
			justBroke = false
			i++
			continue
		}
		f.text = append(f.text, b[last:i]...)
		i += n
		last = i
		f.gaps = append(f.gaps, gap{at: len(f.text), shift: i - len(f.text)})
		justBroke = true
	}
	f.text = append(f.text, b[last:]...)
	return f
}

// breakLen is the length of the break starting at b[i], or 0.
func breakLen(b []byte, i int, continuation bool) int {
	j := i
	if continuation && j < len(b) && b[j] == '\\' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n':
		j += 2
	case j < len(b) && (b[j] == '\n' || b[j] == '\r'):
		j++
	default:
		return 0
	}
	for k := 0; k < maxIndent && j < len(b) && (b[j] == ' ' || b[j] == '\t'); k++ {
		j++
	}
	return j - i
}

// pos is the input offset of text[i].
func (f *folded) pos(i int) int {
	k := sort.Search(len(f.gaps), func(k int) bool { return f.gaps[k].at > i }) - 1
	if k < 0 {
		return i
	}
	return i + f.gaps[k].shift
}

// knownSet finds needles (every form of every known value) in text,
// whether whole or split over lines.
type knownSet struct {
	direct [][]byte // needles searched as they are
	plain  index    // folded needles, searched in text folded without continuations
	cont   index    // the same, searched in text folded with continuations
	span   int      // the most input a match can cover
}

// newKnownSet indexes the needles. A needle is searched for folded, and
// also as it is where folding would miss it whole: when it has breaks of
// its own, or starts with a blank that a break before it may take. A
// needle that folding shortens below min(len, minLen) is searched for
// only as it is. In text folded with continuations a needle's own final
// backslash goes with a line break after it, so there it is searched for
// without it.
func newKnownSet(needles [][]byte, minLen int) *knownSet {
	k := &knownSet{}
	seen := map[string]bool{}
	var plain, cont [][]byte
	for _, n := range needles {
		f := fold(n, false).text
		if !bytes.Equal(f, n) || n[0] == ' ' || n[0] == '\t' {
			if !seen["d"+string(n)] {
				seen["d"+string(n)] = true
				k.direct = append(k.direct, bytes.Clone(n))
				k.span = max(k.span, len(n))
			}
		}
		short := min(len(n), minLen)
		if len(f) < short || seen["f"+string(f)] {
			continue
		}
		seen["f"+string(f)] = true
		f = bytes.Clone(f)
		plain = append(plain, f)
		if c := bytes.TrimSuffix(f, []byte{'\\'}); len(c) >= short {
			cont = append(cont, c)
		} else {
			cont = append(cont, f)
		}
		k.span = max(k.span, len(f)+(len(f)-1)*maxBreak)
	}
	k.plain, k.cont = newIndex(plain), newIndex(cont)
	return k
}

// find appends a span for every occurrence of a needle in b, also where
// line breaks split it, overlapping occurrences included.
func (k *knownSet) find(b []byte, out []span) []span {
	for _, n := range k.direct {
		for i := 0; ; {
			j := bytes.Index(b[i:], n)
			if j < 0 {
				break
			}
			out = append(out, span{start: i + j, end: i + j + len(n), kind: KindKnownValue})
			i += j + 1
		}
	}
	if len(k.plain.needles) == 0 {
		return out
	}
	out = k.plain.find(fold(b, false), out)
	if bytes.Contains(b, []byte("\\\n")) || bytes.Contains(b, []byte("\\\r")) {
		out = k.cont.find(fold(b, true), out)
	}
	return out
}

// index finds many needles in one pass over the text, whatever their
// number: the first w bytes of each needle index it, and each w-byte
// window of the text is looked up in a bit filter first.
type index struct {
	needles [][]byte
	w       int // up to maxWindow, at most the shortest needle
	byKey   map[uint64][]int
	filter  []uint64
}

const (
	maxWindow  = 8
	filterBits = 16
)

func newIndex(needles [][]byte) index {
	x := index{needles: needles, w: maxWindow, byKey: map[uint64][]int{}, filter: make([]uint64, 1<<filterBits/64)}
	for _, n := range needles {
		x.w = min(x.w, len(n))
	}
	for id, n := range needles {
		key := windowKey(n[:x.w])
		x.byKey[key] = append(x.byKey[key], id)
		h := filterHash(key)
		x.filter[h/64] |= 1 << (h % 64)
	}
	return x
}

func windowKey(b []byte) uint64 {
	var key uint64
	for _, c := range b {
		key = key<<8 | uint64(c)
	}
	return key
}

func filterHash(key uint64) uint64 { return key * 0x9E3779B97F4A7C15 >> (64 - filterBits) }

// find appends a span of the input for every needle in the folded text.
func (x *index) find(f folded, out []span) []span {
	text := f.text
	mask := uint64(1)<<(8*x.w) - 1 // all ones for a window of 8
	var key uint64
	for i, c := range text {
		key = (key<<8 | uint64(c)) & mask
		if i+1 < x.w {
			continue
		}
		if h := filterHash(key); x.filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		start := i + 1 - x.w
		for _, id := range x.byKey[key] {
			if n := x.needles[id]; bytes.HasPrefix(text[start:], n) {
				out = append(out, span{start: f.pos(start), end: f.pos(start+len(n)-1) + 1, kind: KindKnownValue})
			}
		}
	}
	return out
}
