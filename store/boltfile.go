package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

// DataFile is the name of Bolt's database file inside its data directory.
const DataFile = "synthcast.db"

// lockPoll is how often OpenBolt retries a held lock, as bbolt does.
const lockPoll = 50 * time.Millisecond

// openedFile is a data directory locked and its database open.
type openedFile struct {
	db   *bolt.DB
	path string
	lock *os.File
}

// openFile creates and locks dir, creates the database whole if it is
// missing, checks the file's meta pages against its size before bbolt maps
// it, and opens it (OpenBolt then checks every record). On error nothing
// stays open.
func openFile(dir string, timeout time.Duration) (_ openedFile, err error) {
	deadline := time.Now().Add(timeout)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return openedFile{}, fmt.Errorf("store: cannot create data directory %s: %w", dir, err)
	}
	lock, err := lockDir(dir, deadline, timeout)
	if err != nil {
		return openedFile{}, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	// As root, permission bits do not stop a write; a read-only mount does.
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return openedFile{}, fmt.Errorf("store: data directory %s is not writable: %w", dir, err)
	}
	path := filepath.Join(dir, DataFile)
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		if err := create(path, lock); err != nil {
			return openedFile{}, err
		}
	case err != nil:
		return openedFile{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	case !fi.Mode().IsRegular():
		return openedFile{}, fmt.Errorf("%w: %s is not a regular file (mode %v)", ErrCorrupt, path, fi.Mode())
	}
	if err := precheck(path); err != nil {
		return openedFile{}, err
	}
	db, err := openDB(path, max(time.Until(deadline), 2*lockPoll))
	if err != nil {
		return openedFile{}, err
	}
	return openedFile{db: db, path: path, lock: lock}, nil
}

// lockDir opens dir and takes an exclusive flock on it, retrying until
// deadline. The lock lasts until the returned file is closed; the
// directory, not the data file, is locked so that creating the file is
// covered too.
func lockDir(dir string, deadline time.Time, timeout time.Duration) (*os.File, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("store: cannot open data directory %s: %w", dir, err)
	}
	for {
		err = unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return d, nil
		case err != unix.EWOULDBLOCK && err != unix.EINTR:
			d.Close()
			return nil, fmt.Errorf("store: cannot lock data directory %s: %w", dir, err)
		case !time.Now().Before(deadline):
			d.Close()
			return nil, fmt.Errorf("%w: %s (its lock was not released within %v)", ErrLocked, dir, timeout)
		}
		time.Sleep(min(lockPoll, time.Until(deadline)))
	}
}

// create makes an empty database at path: built under a temporary name and
// renamed into place once synced, so that a data file that exists was
// complete once, and an empty or short one is damage, never "new".
func create(path string, dir *os.File) error {
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: cannot remove a leftover %s: %w", tmp, err)
	}
	db, err := bolt.Open(tmp, 0o640, &bolt.Options{Timeout: time.Second})
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: cannot create data file %s: %w", tmp, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(recordsBucket)
		return err
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = dir.Sync() // the rename itself survives a crash
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: cannot create data file %s: %w", path, err)
	}
	return nil
}

// The bbolt file format (version 2, unchanged since 2014): each page starts
// with a 16-byte header; pages 0 and 1 hold a meta record each, of which
// bbolt uses the valid one with the higher transaction id. Fields are in
// the machine's byte order (bbolt casts them in place).
const (
	pageHeaderLen = 16
	metaLen       = 64 // up to and including the checksum
	metaSumLen    = 56 // the checksum covers the fields before it
	boltMagic     = 0xED0CDAED
	boltVersion   = 2
	noFreelist    = ^uint64(0)
	minPageSize   = 1024
	maxPageSize   = 1 << 24 // the largest bbolt looks for
)

// meta is a parsed meta page.
type meta struct {
	pageSize                 uint32
	root, freelist, pgid, id uint64
}

var errNoMagic = errors.New("no bbolt magic number")

// parseMeta reads the meta record of the page at buf.
func parseMeta(buf []byte) (meta, error) {
	if len(buf) < pageHeaderLen+metaLen {
		return meta{}, errors.New("cut short")
	}
	b := buf[pageHeaderLen : pageHeaderLen+metaLen]
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:metaSumLen])
	switch {
	case e.Uint32(b[0:]) != boltMagic:
		return meta{}, errNoMagic
	case e.Uint32(b[4:]) != boltVersion:
		return meta{}, fmt.Errorf("format version %d, not %d", e.Uint32(b[4:]), boltVersion)
	case e.Uint64(b[56:]) != h.Sum64():
		return meta{}, errors.New("checksum mismatch")
	}
	return meta{
		pageSize: e.Uint32(b[8:]),
		root:     e.Uint64(b[16:]),
		freelist: e.Uint64(b[32:]),
		pgid:     e.Uint64(b[40:]),
		id:       e.Uint64(b[48:]),
	}, nil
}

// precheck reads path's meta pages the way bbolt will and checks that the
// file holds every page the chosen one counts, before bbolt maps the file:
// a page past the end of the file faults on first touch (SIGBUS), which no
// recover catches, so a truncated file would kill the process.
func precheck(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	size := fi.Size()
	if size == 0 {
		return fmt.Errorf("%w: %s is empty: it was truncated (the store writes a new file whole); move it aside to start afresh, or restore a backup", ErrCorrupt, path)
	}
	buf := make([]byte, pageHeaderLen+metaLen)
	read := func(off int64) (meta, error) {
		if _, err := f.ReadAt(buf, off); err != nil {
			if err == io.EOF {
				return meta{}, errors.New("cut short")
			}
			return meta{}, err
		}
		return parseMeta(buf)
	}
	m0, err0 := read(0)
	var m1 meta
	err1 := errNoMagic
	if err0 == nil {
		m1, err1 = read(int64(m0.pageSize))
	} else {
		// Look for page 1 at every page size bbolt supports, as bbolt does,
		// and stop at the first place that has a meta page, sound or not.
		for ps := int64(minPageSize); ps <= maxPageSize && ps < size; ps <<= 1 {
			if m1, err1 = read(ps); err1 == nil && int64(m1.pageSize) != ps {
				err1 = fmt.Errorf("page size %d found at offset %d", m1.pageSize, ps)
			}
			if err1 != errNoMagic {
				break
			}
		}
	}
	var io0, io1 *fs.PathError
	if errors.As(err0, &io0) || errors.As(err1, &io1) {
		return fmt.Errorf("%w: %s cannot be read: %w", ErrCorrupt, path, errors.Join(err0, err1))
	}
	m := m0
	switch {
	case err0 != nil && err1 != nil:
		return fmt.Errorf("%w: %s is not a bbolt database, or both its meta pages are damaged (page 0: %v; page 1: %v)", ErrCorrupt, path, err0, err1)
	case err0 != nil || (err1 == nil && m1.id > m0.id):
		m = m1
	}
	ps := uint64(m.pageSize)
	switch {
	case ps < minPageSize || ps > maxPageSize:
		return fmt.Errorf("%w: %s: page size %d out of range", ErrCorrupt, path, ps)
	case m.pgid < 2 || m.pgid > uint64(size)/ps:
		return fmt.Errorf("%w: %s is %d bytes, but its meta page (transaction %d) counts %d pages of %d bytes: the file was truncated", ErrCorrupt, path, size, m.id, m.pgid, ps)
	case m.root < 2 || m.root >= m.pgid:
		return fmt.Errorf("%w: %s: root page %d outside the file's %d pages", ErrCorrupt, path, m.root, m.pgid)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return fmt.Errorf("%w: %s: freelist page %d outside the file's %d pages", ErrCorrupt, path, m.freelist, m.pgid)
	}
	// bbolt reads these two pages while opening, before any check of ours
	// can run, and trusts their headers: a freelist count read from garbage
	// could ask for gigabytes.
	if err := checkPage(f, m, m.root, branchPage|leafPage); err != nil {
		return fmt.Errorf("%w: %s: root page: %w", ErrCorrupt, path, err)
	}
	if m.freelist != noFreelist {
		if err := checkPage(f, m, m.freelist, freelistPage); err != nil {
			return fmt.Errorf("%w: %s: freelist page: %w", ErrCorrupt, path, err)
		}
	}
	return nil
}

// Page types, in a page header's flags.
const (
	branchPage   = 0x01
	leafPage     = 0x02
	freelistPage = 0x10
)

// checkPage reads the header of page id and checks that it names itself,
// has one of the types in types, and that it and what its count says it
// holds lie within the pages m counts. Only a freelist's count is checked
// against its size: it is the one bbolt allocates by.
func checkPage(f *os.File, m meta, id uint64, types uint16) error {
	ps := uint64(m.pageSize)
	var h [pageHeaderLen + 8]byte
	if _, err := f.ReadAt(h[:], int64(id*ps)); err != nil {
		return err
	}
	e := binary.NativeEndian
	pid, flags, count, overflow := e.Uint64(h[0:]), e.Uint16(h[8:]), uint64(e.Uint16(h[10:])), uint64(e.Uint32(h[12:]))
	switch {
	case pid != id:
		return fmt.Errorf("page %d calls itself %d", id, pid)
	case flags&types == 0 || flags&(flags-1) != 0:
		return fmt.Errorf("page %d has type %#x", id, flags)
	case id+overflow >= m.pgid:
		return fmt.Errorf("page %d runs %d pages past the end", id, id+overflow+1-m.pgid)
	case flags != freelistPage:
		return nil
	}
	room := ((overflow+1)*ps - pageHeaderLen) / 8 // page ids the page can hold
	if count == 0xFFFF {                          // the count is in the first id's place
		count = e.Uint64(h[pageHeaderLen:])
		room--
	}
	if count > room {
		return fmt.Errorf("freelist page %d counts %d page ids, room for %d", id, count, room)
	}
	return nil
}

// openDB opens path with bbolt, mapping bbolt's errors to the store's. A
// fault or panic inside bbolt (a damaged page) is reported as ErrCorrupt
// rather than killing the process.
func openDB(path string, timeout time.Duration) (db *bolt.DB, err error) {
	var file *os.File
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				file.Close() // releases bbolt's lock; its mapping, if any, stays
			}
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o640, &bolt.Options{
		// The directory lock is ours already: this one only waits for a
		// bbolt tool that has the file open.
		Timeout: timeout,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s is held by another process (not released within %v)", ErrLocked, path, timeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return nil, fmt.Errorf("store: cannot open %s: %w", path, err)
}
