package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// newTestSyncer returns a syncer over a real log file in a temporary directory whose fsyncs block until gate
// receives a value (nil: succeed) and are counted.
func newTestSyncer(t *testing.T) (*walSyncer, chan error) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(db+"-wal", []byte("log"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newWALSyncer(db)
	gate := make(chan error)
	s.syncFile = func(f *os.File) error {
		if err := <-gate; err != nil {
			return err
		}
		return f.Sync()
	}
	t.Cleanup(func() { s.close() })
	return s, gate
}

func waitAsync(s *walSyncer, seq uint64) chan error {
	done := make(chan error, 1)
	go func() { done <- s.wait(seq) }()
	return done
}

func TestWALSyncer_WaitReturnsOnlyAfterAnFsyncThatStartedAfterTheCommit(t *testing.T) {
	s, gate := newTestSyncer(t)
	first := waitAsync(s, s.commit())
	select {
	case err := <-first:
		t.Fatalf("wait returned %v before any fsync", err)
	case <-time.After(50 * time.Millisecond):
	}
	// A commit made while the first fsync is in flight is not covered by it.
	second := s.commit()
	secondDone := waitAsync(s, second)
	gate <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-secondDone:
		t.Fatalf("the second commit was reported durable (%v) by an fsync that started before it", err)
	case <-time.After(50 * time.Millisecond):
	}
	gate <- nil
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	if n := s.count(); n != 2 {
		t.Errorf("fsyncs = %d, want 2", n)
	}
}

func TestWALSyncer_CommitsWaitingTogetherShareOneFsync(t *testing.T) {
	s, gate := newTestSyncer(t)
	var seqs []uint64
	for i := 0; i < 20; i++ {
		seqs = append(seqs, s.commit())
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(seqs))
	for _, seq := range seqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.wait(seq)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let every waiter join
	gate <- nil
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count(); n != 1 {
		t.Errorf("20 commits waiting together took %d fsyncs, want 1", n)
	}
	// Already durable: no new fsync.
	if err := s.wait(seqs[5]); err != nil || s.count() != 1 {
		t.Errorf("wait on a durable commit: %v, fsyncs %d", err, s.count())
	}
}

func TestWALSyncer_FailedFsyncIsReportedAndRetried(t *testing.T) {
	s, gate := newTestSyncer(t)
	seq := s.commit()
	done := waitAsync(s, seq)
	boom := errors.New("EIO")
	gate <- boom
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("wait = %v, want the fsync's error", err)
	}
	// The commit is still not known durable: the next wait fsyncs again.
	done = waitAsync(s, seq)
	gate <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWALSyncer_ReopensTheLogWhenItWasReplaced(t *testing.T) {
	s, gate := newTestSyncer(t)
	done := waitAsync(s, s.commit())
	gate <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	old := s.f
	if err := os.Remove(s.path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path, []byte("new log"), 0o600); err != nil {
		t.Fatal(err)
	}
	done = waitAsync(s, s.commit())
	gate <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.f == old {
		t.Fatal("the syncer kept fsyncing a log file that is no longer the database's")
	}
	// A missing log is an error, not a silent success.
	if err := os.Remove(s.path); err != nil {
		t.Fatal(err)
	}
	done = waitAsync(s, s.commit())
	select {
	case gate <- nil:
		t.Fatal("fsynced a log that does not exist")
	case err := <-done:
		if err == nil {
			t.Fatal("a commit was reported durable with no log file to sync")
		}
	}
}
