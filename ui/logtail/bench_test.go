package logtail

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkAppend is the cost of one line arriving (clean, store).
func BenchmarkAppend(b *testing.B) {
	t := New(DefaultCapacity, Styles{})
	t.SetSize(120, 30)
	lines := make([]string, 1024)
	for i := range lines {
		lines[i] = fmt.Sprintf("2025-03-14T09:25:%02d.000Z [INFO]  fineract: request %d served in 12 ms", i%60, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t.Append("fineract", Stdout, lines[i%len(lines)])
	}
}

// BenchmarkView is the cost of drawing a full pane over a full ring.
func BenchmarkView(b *testing.B) {
	t := New(DefaultCapacity, Styles{})
	t.SetSize(120, 30)
	for i := range DefaultCapacity * 2 {
		s := Stdout
		if i%7 == 0 {
			s = Stderr
		}
		t.Append("fineract", s, fmt.Sprintf("line %d with some text to make it a realistic log line of a Java service", i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = t.View()
	}
}

// BenchmarkMemoryBound feeds 100,000 lines into 15 services and reports the
// heap the pane holds afterwards: bounded by the rings, not the input.
func BenchmarkMemoryBound(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		t := New(DefaultCapacity, Styles{})
		for i := range 100_000 {
			t.Append(fmt.Sprintf("service-%d", i%15), Stdout, fmt.Sprintf("service %d line %d: a log line of typical length for a JVM service", i%15, i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		runtime.KeepAlive(&t)
	}
}
