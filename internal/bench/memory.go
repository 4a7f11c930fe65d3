package bench

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sampleEvery is how often the memory sampler looks.
const sampleEvery = 10 * time.Millisecond

// heapMetric is the memory taken by heap objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// sampler follows the peak of the Go heap and of the process's resident
// set while a phase runs.
type sampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	peakHeap uint64
	peakRSS  uint64
}

// settle collects garbage and returns memory to the system, so that a
// phase does not inherit the previous phase's garbage.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// startSampler samples memory every sampleEvery until Stop.
func startSampler() *sampler {
	s := &sampler{stop: make(chan struct{})}
	rss := openRSS()
	ms := []metrics.Sample{{Name: heapMetric}}
	look := func() {
		metrics.Read(ms)
		if ms[0].Value.Kind() == metrics.KindUint64 {
			s.peakHeap = max(s.peakHeap, ms[0].Value.Uint64())
		}
		s.peakRSS = max(s.peakRSS, rss.read())
	}
	look()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		defer rss.close()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				look()
			case <-s.stop:
				look()
				return
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peaks in bytes (RSS 0 where the
// system does not tell it).
func (s *sampler) Stop() (heap, rss uint64) {
	close(s.stop)
	s.done.Wait()
	return s.peakHeap, s.peakRSS
}

// rssReader reads the resident set size from /proc/self/statm (Linux).
type rssReader struct {
	f    *os.File
	page uint64
	buf  [128]byte
}

func openRSS() *rssReader {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return &rssReader{}
	}
	return &rssReader{f: f, page: uint64(os.Getpagesize())}
}

func (r *rssReader) read() uint64 {
	if r.f == nil {
		return 0
	}
	n, _ := r.f.ReadAt(r.buf[:], 0)
	fields := strings.Fields(string(r.buf[:n]))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * r.page
}

func (r *rssReader) close() {
	if r.f != nil {
		_ = r.f.Close()
	}
}
