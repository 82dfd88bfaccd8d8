package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Durability of commits. The write connection runs with synchronous=NORMAL: a commit appends its pages to the
// write-ahead log and returns without waiting for the disk. wagate then makes the commit durable itself, by
// fsyncing the log file, before it tells anyone the commit happened (InTx returns, a webhook is answered).
// This is what synchronous=FULL does inside the commit, moved out of it, for two gains:
//
//   - one fsync covers every commit that finished before it started, so commits arriving together share one
//     (group commit across transactions, not only within a batch);
//   - the writer does not hold the single write connection during the fsync: the next transaction runs while
//     the disk flushes the previous one (InTxDeferred).
//
// A process crash loses nothing either way (the log is in the operating system's cache). On power loss a
// commit whose fsync had not returned may be lost, exactly as under synchronous=FULL, since it was not
// acknowledged. The log header SQLite writes when it restarts the log is synced by SQLite itself before any
// frame follows it (it does so at synchronous=NORMAL too), and checkpoints sync the log before copying it and
// the database after, so the database file is never ahead of a durable log.
type walSyncer struct {
	path string // the -wal file

	mu        sync.Mutex
	cond      *sync.Cond
	committed uint64 // commits finished so far
	synced    uint64 // commits known durable
	syncing   bool   // an fsync is in flight
	f         *os.File
	dirSynced bool

	// syncFile makes f durable; os.File.Sync unless a test replaces it.
	syncFile func(*os.File) error
	// fsyncs counts the fsyncs of the log (read without the lock while one runs).
	fsyncs atomic.Uint64
}

func newWALSyncer(dbPath string) *walSyncer {
	s := &walSyncer{path: dbPath + "-wal", syncFile: (*os.File).Sync}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// commit records that a transaction has committed and returns its sequence number for wait.
func (s *walSyncer) commit() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed++
	return s.committed
}

// wait returns once commit seq is durable: it joins an fsync that started after seq committed, or starts one.
// An error means the fsync failed: the commit is in the database but may not survive a power loss.
func (s *walSyncer) wait(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.synced < seq {
		if s.syncing {
			s.cond.Wait()
			continue
		}
		s.syncing = true
		target := s.committed
		s.mu.Unlock()
		err := s.sync()
		s.mu.Lock()
		s.syncing = false
		s.cond.Broadcast()
		if err != nil {
			return err
		}
		if target > s.synced {
			s.synced = target
		}
	}
	return nil
}

// sync fsyncs the log file, (re)opening it when SQLite has replaced it, and the directory once after opening
// it, so that the file itself survives a power loss.
func (s *walSyncer) sync() error {
	if s.f != nil {
		// The log is normally the same file for the life of the connection; check cheaply that it still is.
		cur, err := os.Stat(s.path)
		held, herr := s.f.Stat()
		if err != nil || herr != nil || !os.SameFile(cur, held) {
			_ = s.f.Close()
			s.f, s.dirSynced = nil, false
		}
	}
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("sqlite: open the write-ahead log to sync it: %w", err)
		}
		s.f = f
	}
	if err := s.syncFile(s.f); err != nil {
		return fmt.Errorf("sqlite: fsync the write-ahead log: %w", err)
	}
	s.fsyncs.Add(1)
	if !s.dirSynced {
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			return err
		}
		s.dirSynced = true
	}
	return nil
}

// close releases the log file.
func (s *walSyncer) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// count returns how many fsyncs of the log wagate made.
func (s *walSyncer) count() uint64 { return s.fsyncs.Load() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sqlite: open the data directory to sync it: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sqlite: fsync the data directory: %w", err)
	}
	return nil
}
