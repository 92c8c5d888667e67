package main

import (
	"fmt"
	"os"
	"sync"
)

// reopener is a log destination that can be reopened (SIGHUP, after
// logrotate moved the file): writes go to the file at path, or to a
// standard stream when there is no path. Safe from any goroutine.
type reopener struct {
	path string
	mu   sync.Mutex
	f    *os.File
	std  bool // f is stderr or stdout: never closed or reopened
}

// openLog opens path for appending (created 0640 if missing); an empty path
// (or "-") is std.
func openLog(path string, std *os.File) (*reopener, error) {
	if path == "" || path == "-" {
		return &reopener{f: std, std: true}, nil
	}
	r := &reopener{path: path}
	if err := r.Reopen(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reopener) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

// Reopen opens the path afresh and closes the file it replaces.
func (r *reopener) Reopen() error {
	if r.std {
		return nil
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("opening log file: %w", err)
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

// Close closes the file (not a standard stream).
func (r *reopener) Close() error {
	if r.std {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
