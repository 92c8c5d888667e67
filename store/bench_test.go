package store

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Figures reported by the benchmarks (b.ReportMetric), in words:
//   - bytes/record: the data file's size over the records in it, after
//     filling a fresh store with 100,000 records of 100-byte values under
//     22-byte random keys (stream tokens), 64 writes at a time, as from 64
//     concurrent /create_stream requests.
//   - ns/record: the time to open the store and Load it, per record.
//   - writes/s, commits/s: writes acknowledged (durable) and commits made per
//     second of wall clock, with every writer waiting for its Done before its
//     next write, as an HTTP handler does.

const (
	prepRecords  = 100_000
	prepValueLen = 100
)

// prepared is a store of prepRecords records, built once per test binary
// run (it takes a few seconds) in prepDir and removed by TestMain.
var (
	prepOnce sync.Once
	prepDir  string
	prepErr  error
)

// token returns a random 22-byte key, the form of a stream token.
func token() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// fill writes n records of valueLen bytes under random keys into s, in
// waves of wave concurrent writes (a group commit each, at most), and
// returns the first error.
func fill(s Store, n, valueLen, wave int) error {
	value := make([]byte, valueLen)
	rand.Read(value)
	errs := make(chan error, wave)
	for done := 0; done < n; {
		m := min(wave, n-done)
		for range m {
			s.Write(&Op{Key: token(), Value: value, Version: 1, Done: func(op *Op) { errs <- op.Err }})
		}
		for range m {
			if err := <-errs; err != nil {
				return err
			}
		}
		done += m
	}
	return nil
}

func preparedStore(b *testing.B) string {
	prepOnce.Do(func() {
		prepDir, prepErr = os.MkdirTemp("", "store-bench-")
		if prepErr != nil {
			return
		}
		var s *Bolt
		if s, prepErr = OpenBolt(prepDir, BoltOptions{}); prepErr != nil {
			return
		}
		prepErr = fill(s, prepRecords, prepValueLen, 64)
		if err := s.Close(); prepErr == nil {
			prepErr = err
		}
	})
	if prepErr != nil {
		b.Fatalf("preparing %d records: %v", prepRecords, prepErr)
	}
	return prepDir
}

// BenchmarkBoltLoad100k opens a store of 100,000 records (its walk of every
// record included) and Loads them all, as the server does at start-up.
func BenchmarkBoltLoad100k(b *testing.B) {
	dir := preparedStore(b)
	fi, err := os.Stat(filepath.Join(dir, DataFile))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := OpenBolt(dir, BoltOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := s.Load(func(Record) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if n != prepRecords {
			b.Fatalf("Load found %d records; want %d", n, prepRecords)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*prepRecords), "ns/record")
	b.ReportMetric(float64(fi.Size())/prepRecords, "bytes/record")
}

// BenchmarkBoltWrite has writers goroutines each put a new version of its
// own record, wait for Done, and go again: group commit turns their
// concurrency into fewer fsyncs.
func BenchmarkBoltWrite(b *testing.B) {
	for _, writers := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openBolt(b, b.TempDir(), BoltOptions{})
			benchWrite(b, s, writers)
		})
	}
}

// BenchmarkMemoryWrite is BenchmarkBoltWrite against Memory: the cost of
// the store's bookkeeping without a disk.
func BenchmarkMemoryWrite(b *testing.B) {
	for _, writers := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			benchWrite(b, NewMemory(), writers)
		})
	}
}

func benchWrite(b *testing.B, s Store, writers int) {
	value := make([]byte, prepValueLen)
	before := s.Stats()
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := &Op{Key: token(), Value: value}
			done := make(chan struct{}, 1)
			op.Done = func(*Op) { done <- struct{}{} }
			for i := w; i < b.N; i += writers {
				op.Version++
				s.Write(op)
				<-done
				if op.Err != nil {
					b.Error(op.Err)
					return
				}
			}
		}()
	}
	wg.Wait()
	sec := time.Since(start).Seconds()
	b.StopTimer()
	st := s.Stats()
	b.ReportMetric(float64(st.Writes-before.Writes)/sec, "writes/s")
	if _, ok := s.(*Bolt); ok { // Memory commits nothing
		b.ReportMetric(float64(st.Commits-before.Commits)/sec, "commits/s")
	}
}
