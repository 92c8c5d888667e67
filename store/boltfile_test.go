package store

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// TestBoltLocked: a second OpenBolt of a directory in use fails with
// ErrLocked within its LockTimeout, and succeeds once the first is closed.
func TestBoltLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s2, err := OpenBolt(dir, BoltOptions{}) // the default timeout, 1 s
	if elapsed := time.Since(start); !errors.Is(err, ErrLocked) || elapsed > 5*time.Second {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second OpenBolt(%s) = %v after %v; want ErrLocked within about 1s", dir, err, elapsed)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name %s", err, dir)
	}
	t.Logf("second OpenBolt: %v (after %v)", err, time.Since(start))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openBolt(t, dir, BoltOptions{LockTimeout: time.Millisecond})
}

// TestBoltFileLockedByTool: a bbolt tool holding the data file (not the
// directory) is reported as ErrLocked too.
func TestBoltFileLockedByTool(t *testing.T) {
	dir := t.TempDir()
	s := openBolt(t, dir, BoltOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, DataFile), 0o640, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if s2, err := OpenBolt(dir, BoltOptions{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("OpenBolt with the file held = %v; want ErrLocked", err)
	}
}

// TestBoltCreatesDir: a missing directory is created, mode 0750, with the
// data file in it.
func TestBoltCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "data")
	openBolt(t, dir, BoltOptions{})
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o750&^umask() {
		t.Errorf("data directory mode = %v; want %v", perm, fs.FileMode(0o750&^umask()))
	}
	if _, err := os.Stat(filepath.Join(dir, DataFile)); err != nil {
		t.Errorf("data file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, DataFile+".new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func umask() fs.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return fs.FileMode(m)
}

// TestBoltDirNotUsable: a directory that cannot be created, or created but
// not written, fails OpenBolt with an error naming it and the reason.
func TestBoltDirNotUsable(t *testing.T) {
	t.Run("parent is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(file, "data")
		wantOpenErr(t, dir, syscall.ENOTDIR, "cannot create data directory")
	})
	t.Run("a file, not a directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.WriteFile(dir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		wantOpenErr(t, dir, syscall.ENOTDIR, "cannot create data directory")
	})
	t.Run("read-only mount, missing directory", func(t *testing.T) {
		mnt := mountTmpfs(t, unix.MS_RDONLY, "size=64k")
		wantOpenErr(t, filepath.Join(mnt, "data"), syscall.EROFS, "cannot create data directory")
	})
	t.Run("read-only mount, existing directory", func(t *testing.T) {
		mnt := mountTmpfs(t, 0, "size=64k")
		dir := filepath.Join(mnt, "data")
		if err := os.Mkdir(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("", mnt, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			t.Skipf("cannot remount %s read-only: %v", mnt, err)
		}
		wantOpenErr(t, dir, syscall.EROFS, "not writable")
	})
	t.Run("not writable by this user", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes whatever the permission bits say: the read-only mount cases cover this")
		}
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		wantOpenErr(t, dir, syscall.EACCES, "not writable")
	})
}

func wantOpenErr(t *testing.T, dir string, errno syscall.Errno, words string) {
	t.Helper()
	s, err := OpenBolt(dir, BoltOptions{})
	if err == nil {
		s.Close()
		t.Fatalf("OpenBolt(%s) succeeded; want %v", dir, errno)
	}
	if !errors.Is(err, errno) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), words) {
		t.Fatalf("OpenBolt(%s) = %v; want an error wrapping %v that names the directory and says %q", dir, err, errno, words)
	}
}

// mountTmpfs mounts a tmpfs with flags and data (e.g. "size=512k") on a new
// directory, unmounted when the test ends. Mounting needs root (and a
// sandbox that allows it): otherwise the test is skipped, saying why.
func mountTmpfs(t *testing.T, flags uintptr, data string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, data); err != nil {
		t.Skipf("cannot mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// goodFile makes a data file of some thousand records and returns its
// bytes, for the corruption tests to damage.
func goodFile(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fill(s, 3000, 100, 256); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DataFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeBolt makes a bbolt file at path with fn's changes, without the store.
func writeBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o640, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBoltCorrupt: a data file that is not a sound synthcast database fails
// OpenBolt with ErrCorrupt naming the file and what is wrong, never a panic,
// and the file is left as it was (the store never starts empty over it).
func TestBoltCorrupt(t *testing.T) {
	good := goodFile(t)
	const ps = 4096
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	withRecord := func(value []byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			writeBolt(t, path, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket(recordsBucket)
				if err != nil {
					return err
				}
				if err := b.Put([]byte("a"), append(make([]byte, 7), 1, 'x')); err != nil {
					return err
				}
				return b.Put([]byte("b"), value)
			})
		}
	}
	tests := []struct {
		name  string
		make  func(t *testing.T, path string)
		words string // in the error
	}{
		{"empty", func(t *testing.T, path string) { os.WriteFile(path, nil, 0o600) }, "empty"},
		{"text", func(t *testing.T, path string) { os.WriteFile(path, []byte("hello, world\n"), 0o600) }, "not a bbolt database"},
		{"garbage", func(t *testing.T, path string) { os.WriteFile(path, garbage(len(good)), 0o600) }, "not a bbolt database"},
		{"cut to 100 bytes", func(t *testing.T, path string) { os.WriteFile(path, good[:100], 0o600) }, "truncated"},
		{"cut to its meta pages", func(t *testing.T, path string) { os.WriteFile(path, good[:2*ps], 0o600) }, "truncated"},
		{"cut in half", func(t *testing.T, path string) { os.WriteFile(path, good[:len(good)/2], 0o600) }, "truncated"},
		{"meta pages zeroed", func(t *testing.T, path string) {
			os.WriteFile(path, append(make([]byte, 2*ps), good[2*ps:]...), 0o600)
		}, "not a bbolt database"},
		{"meta pages flipped", func(t *testing.T, path string) {
			b := bytes.Clone(good)
			b[16+20] ^= 1 // a byte of the root page id, under the checksum
			b[ps+16+20] ^= 1
			os.WriteFile(path, b, 0o600)
		}, "page 0: checksum mismatch; page 1: checksum mismatch"},
		{"data pages garbled", func(t *testing.T, path string) {
			os.WriteFile(path, append(bytes.Clone(good[:2*ps]), garbage(len(good)-2*ps)...), 0o600)
		}, ""},
		{"leaf pages garbled", func(t *testing.T, path string) {
			b := bytes.Clone(good)
			for p := 2; p < len(b)/ps; p++ {
				if b[p*ps+8] == leafPage && p%2 == 0 {
					copy(b[p*ps+16:(p+1)*ps], garbage(ps-16))
				}
			}
			os.WriteFile(path, b, 0o600)
		}, ""},
		{"a directory", func(t *testing.T, path string) { os.Mkdir(path, 0o700) }, "not a regular file"},
		{"no records bucket", func(t *testing.T, path string) {
			writeBolt(t, path, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
		}, "not a synthcast data file"},
		{"record shorter than its header", withRecord([]byte{0, 0, 1}), "record 1 is 3 bytes"},
		{"record of version 0", withRecord(make([]byte, 8)), "record 1 has version 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, DataFile)
			tt.make(t, path)
			before, _ := os.ReadFile(path)
			s, err := OpenBolt(dir, BoltOptions{})
			if err == nil {
				s.Close()
				t.Fatalf("OpenBolt of a damaged file succeeded; want ErrCorrupt")
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.words) {
				t.Fatalf("OpenBolt = %v; want ErrCorrupt naming %s and saying %q", err, path, tt.words)
			}
			t.Logf("%v", err)
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("OpenBolt changed the damaged file")
			}
		})
	}
}

// TestBoltCorruptRandom damages a good file at random places, many times:
// OpenBolt and Load may succeed (the damage may hit free space) or fail
// with ErrCorrupt, but never panic, hang or fail otherwise.
func TestBoltCorruptRandom(t *testing.T) {
	good := goodFile(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 100 {
		b := bytes.Clone(good)
		for range 1 + rnd.IntN(8) {
			at := rnd.IntN(len(b) - 64)
			for j := range 1 + rnd.IntN(64) {
				b[at+j] = byte(rnd.Uint32())
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, DataFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenBolt(dir, BoltOptions{})
		if err == nil {
			err = s.Load(func(Record) error { return nil })
			s.Close()
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("case %d: OpenBolt/Load = %v; want nil or ErrCorrupt", i, err)
		}
	}
}
