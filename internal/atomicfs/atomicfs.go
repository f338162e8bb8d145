// Package atomicfs writes files and replaces whole folders so that a process
// killed (or a machine losing power) at any instant leaves either the old or
// the new content at the target path, never a mix, a half-written file or
// nothing; and so that the temporaries a killed writer leaves behind are
// cleaned up later, without touching anything that is not provably ours and
// stale.
//
// # Names
//
// Every temporary lives in the target's parent folder (a rename is atomic
// only within one file system) and is named
//
//	.<base>.govene-<kind>-<host>-<pid>-<random>
//
// where base is the target's name, kind says what the entry is (below), host
// is 8 hex digits of a hash of the machine's host name, pid the writing
// process's id and random 8 hex digits. The part after the kind is the save's
// tag; all temporaries of one save share it. An entry is stale (and is
// removed by [Recover], [ReplaceDir] and [WriteFile]) when its writer is
// provably gone: the host is this one and the pid is this process's but no
// save with that tag is running in it, or the host is this one and no process
// has that pid; or, for any host, when the entry was last modified more than
// [StaleAge] ago. Entries of a live writer are never touched.
//
// # Files
//
// [WriteFile] and [WriteFileFunc] write to .<base>.govene-tmp-<tag>, fsync
// it, rename it over the target and fsync the parent folder. A rename
// replaces a file atomically, so readers see the old file or the new one.
//
// # Folders
//
// [ReplaceDir] replaces a whole folder. A folder cannot be renamed over an
// existing one, so the swap takes two renames, and in between the target
// does not exist. The protocol makes that window recoverable:
//
//  1. Recover(dir) finishes or rolls back any interrupted earlier replace.
//  2. The new content is written into .<base>.govene-new-<tag>; every file
//     and folder in it is fsynced.
//  3. It is renamed to .<base>.govene-ready-<tag> and the parent fsynced.
//     The rename is the completion marker: a "ready" folder is always
//     complete, a "new" one may not be.
//  4. The old dir, if any, is renamed to .<base>.govene-old-<tag> (fsync).
//  5. The ready folder is renamed to dir (fsync). The save is done.
//  6. The old folder is renamed to .<base>.govene-del-<tag> and removed.
//     (Renaming first means a half-deleted folder is never taken for a
//     complete "old" one.)
//
// [Recover] (which loaders call before reading dir) looks at the siblings of
// a writer that is gone. If dir exists, it is complete (it is either the old
// folder, untouched, or the new one, installed by a rename), and every stale
// temporary is removed: an unfinished save is rolled back. If dir does not
// exist, the writer died between steps 4 and 5: its ready folder is complete
// and is renamed to dir (the save is rolled forward); failing that, an old
// folder is renamed back to dir. So at every instant either dir, or a
// complete ready or old folder that Recover will put back at dir, exists.
// When dir is missing because a live writer is between steps 4 and 5,
// Recover waits (up to 10 s) for it to finish.
//
// The alternative, a dir that is a symlink to versioned folders swapped by
// renaming a new symlink over it, needs no recovery but makes dir a symlink:
// copying, archiving or deleting it then acts on the link, and Windows
// without developer mode has no symlinks. The rename protocol keeps dir a
// plain folder.
//
// One process serialises its own ReplaceDir calls; two processes replacing
// the same folder at once each end with a complete folder at dir (the
// second rename of one of them fails and is reported, its temporaries are
// removed).
//
// Folder fsyncs are best effort: some platforms and file systems cannot sync
// a folder, and then a power loss (not a killed process) may undo the last
// rename, which still leaves the old or the new content.
package atomicfs

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// StaleAge is how long a temporary must have been left unmodified before it
// is removed even when its writer cannot be shown to be gone (another host,
// or a reused pid).
const StaleAge = 24 * time.Hour

// waitLimit is how long Recover waits for a live writer that is between the
// two renames of a folder replace (a variable for tests).
var waitLimit = 10 * time.Second

// Step names a point in a write, for [SetTestHook].
type Step int

const (
	// StepWrite: a Write on the temporary file (path), before it is done;
	// an error from the hook fails that Write.
	StepWrite Step = iota
	// StepSynced: the temporary file (path) is complete, fsynced and
	// closed, before its rename.
	StepSynced
	// StepFilled: the new folder (path) has been filled and fsynced,
	// before it is marked ready.
	StepFilled
	// StepReady: the new folder has been renamed to its ready name (path).
	StepReady
	// StepOldAside: the old folder has been moved aside (to path); the
	// target does not exist until the next step.
	StepOldAside
	// StepInstalled: the new folder is at the target (path); the old one
	// is not yet removed.
	StepInstalled
)

// String returns the step's name.
func (s Step) String() string {
	switch s {
	case StepWrite:
		return "write"
	case StepSynced:
		return "synced"
	case StepFilled:
		return "filled"
	case StepReady:
		return "ready"
	case StepOldAside:
		return "old-aside"
	case StepInstalled:
		return "installed"
	}
	return "step(" + strconv.Itoa(int(s)) + ")"
}

// Hook is called at each Step of every write in this process while set; a
// non-nil error makes the write fail there as a disk error would (with the
// usual cleanup). It may also sleep, to widen a window.
type Hook func(step Step, path string) error

var hook atomic.Pointer[Hook]

// SetTestHook installs h (nil removes it) and returns a function restoring
// the previous hook. It is for tests: fault injection and widening windows.
func SetTestHook(h Hook) (restore func()) {
	var p *Hook
	if h != nil {
		p = &h
	}
	old := hook.Swap(p)
	return func() { hook.Store(old) }
}

func callHook(step Step, path string) error {
	if h := hook.Load(); h != nil {
		if err := (*h)(step, path); err != nil {
			return fmt.Errorf("%s %s: %w", step, path, err)
		}
	}
	return nil
}

const marker = ".govene-"

// Kinds of temporaries.
const (
	kindTmp   = "tmp"
	kindNew   = "new"
	kindReady = "ready"
	kindOld   = "old"
	kindDel   = "del"
)

var (
	hostTag = sync.OnceValue(func() string {
		name, err := os.Hostname()
		if err != nil {
			name = "unknown"
		}
		h := fnv.New32a()
		h.Write([]byte(name))
		return fmt.Sprintf("%08x", h.Sum32())
	})
	// active holds the tags of the writes running in this process.
	active sync.Map
	// replaceMu serialises this process's folder replaces.
	replaceMu sync.Mutex
)

// newTag returns a fresh tag for this process and marks it active.
func newTag() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	t := hostTag() + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	active.Store(t, true)
	return t
}

func sibling(parent, base, kind, tag string) string {
	return filepath.Join(parent, "."+base+marker+kind+"-"+tag)
}

// temp is a parsed temporary name.
type temp struct {
	name, kind, tag, host string
	pid                   int
}

// parseTemp parses name as a temporary of base, or returns ok false.
func parseTemp(base, name string) (t temp, ok bool) {
	rest, ok := strings.CutPrefix(name, "."+base+marker)
	if !ok {
		return t, false
	}
	kind, tag, ok := strings.Cut(rest, "-")
	if !ok {
		return t, false
	}
	switch kind {
	case kindTmp, kindNew, kindReady, kindOld, kindDel:
	default:
		return t, false
	}
	parts := strings.Split(tag, "-")
	if len(parts) != 3 || len(parts[0]) != 8 || len(parts[2]) != 8 || !isHex(parts[0]) || !isHex(parts[2]) {
		return t, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return t, false
	}
	return temp{name: name, kind: kind, tag: tag, host: parts[0], pid: pid}, true
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// gone reports whether the writer of t is provably not running.
func (t temp) gone() bool {
	if t.host != hostTag() {
		return false
	}
	if t.pid == os.Getpid() {
		_, running := active.Load(t.tag)
		return !running
	}
	return !processAlive(t.pid)
}

// stale reports whether t, found in parent, may be removed.
func (t temp) stale(parent string) bool {
	if t.gone() {
		return true
	}
	st, err := os.Lstat(filepath.Join(parent, t.name))
	return err == nil && time.Since(st.ModTime()) > StaleAge
}

// listTemps returns base's temporaries in parent.
func listTemps(parent, base string) ([]temp, error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, err
	}
	var ts []temp
	for _, e := range entries {
		if t, ok := parseTemp(base, e.Name()); ok {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// syncDir fsyncs a folder, best effort (see the package doc).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// split returns the cleaned path's parent folder and name.
func split(path string) (parent, base string, err error) {
	path = filepath.Clean(path)
	parent, base = filepath.Split(path)
	if base == "" || base == "." || base == ".." || base == string(filepath.Separator) {
		return "", "", fmt.Errorf("path %q: names no file or folder", path)
	}
	if parent == "" {
		parent = "."
	}
	return filepath.Clean(parent), base, nil
}

// hookWriter passes each Write through the test hook.
type hookWriter struct {
	w    io.Writer
	path string
}

func (h hookWriter) Write(p []byte) (int, error) {
	if err := callHook(StepWrite, h.path); err != nil {
		return 0, err
	}
	return h.w.Write(p)
}

// WriteFile writes data to path atomically: see [WriteFileFunc].
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileFunc writes the file at path with what write writes to w
// (buffered): into a temporary file beside path, which is fsynced, renamed
// over path, and the folder fsynced. A new file gets permission bits perm;
// an existing file keeps its own. Readers of path see the old content or the
// new, never a part; on any error (from write, the disk, or a path that is a
// folder) path is left as it was and the temporary is removed. Stale
// temporaries of path left by killed writers are removed first. Errors name
// path.
func WriteFileFunc(path string, perm fs.FileMode, write func(w io.Writer) error) (err error) {
	parent, base, err := split(path)
	if err != nil {
		return fmt.Errorf("atomicfs: write: %w", err)
	}
	wrap := func(err error) error { return fmt.Errorf("atomicfs: write %s: %w", path, err) }
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return wrap(errors.New("is a folder"))
		}
		perm = st.Mode().Perm()
	}
	removeStale(parent, base, kindTmp)
	tag := newTag()
	defer active.Delete(tag)
	tmp := sibling(parent, base, kindTmp, tag)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return wrap(err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return wrap(err)
	}
	bw := bufio.NewWriterSize(hookWriter{f, tmp}, 1<<20)
	if err := inOrder(func() error { return write(bw) }, bw.Flush, f.Sync, f.Close,
		func() error { return callHook(StepSynced, tmp) },
		func() error { return os.Rename(tmp, path) }); err != nil {
		return wrap(err)
	}
	syncDir(parent)
	return nil
}

// inOrder runs steps one after the other and returns the first one's
// error, running none after it.
func inOrder(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// Rename renames oldpath to newpath (atomically replacing a file there) and
// fsyncs the folders involved so that the rename survives a power loss. It
// returns os.Rename's error.
func Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	syncDir(filepath.Dir(newpath))
	if d := filepath.Dir(oldpath); d != filepath.Dir(newpath) {
		syncDir(d)
	}
	return nil
}

// Symlink makes path a symbolic link to target, atomically replacing any
// file or link at path (not a folder: that is an error). Errors name path.
func Symlink(target, path string) error {
	parent, base, err := split(path)
	if err != nil {
		return fmt.Errorf("atomicfs: symlink: %w", err)
	}
	removeStale(parent, base, kindTmp)
	tag := newTag()
	defer active.Delete(tag)
	tmp := sibling(parent, base, kindTmp, tag)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("atomicfs: symlink %s: %w", path, err)
	}
	if err := Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("atomicfs: symlink %s: %w", path, err)
	}
	return nil
}

// removeStale removes base's stale temporaries of the given kinds (all kinds
// when none is given) in parent, ignoring errors.
func removeStale(parent, base string, kinds ...string) {
	ts, err := listTemps(parent, base)
	if err != nil {
		return
	}
	for _, t := range ts {
		if (len(kinds) == 0 || contains(kinds, t.kind)) && t.stale(parent) {
			discard(parent, t)
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// discard removes a temporary: a folder is first renamed to its del name so
// that a removal cut short never leaves a partial "ready" or "old" folder.
func discard(parent string, t temp) {
	p := filepath.Join(parent, t.name)
	if t.kind == kindReady || t.kind == kindOld {
		del := filepath.Join(parent, strings.Replace(t.name, marker+t.kind+"-", marker+kindDel+"-", 1))
		if err := os.Rename(p, del); err != nil {
			return
		}
		syncDir(parent)
		p = del
	}
	_ = os.RemoveAll(p)
}

// ReplaceDir replaces the folder dir (creating it and its parents when
// missing; a symbolic link to a folder is replaced, not followed) with a new
// folder whose content fill writes into the folder path
// it is given, following the protocol in the package doc: at every instant
// the old dir or the complete new one is at dir or recoverable by [Recover].
// fill may write plain files (os.WriteFile is enough: ReplaceDir fsyncs
// everything before installing the folder). On any error, from fill or from
// the disk, dir is left as it was and the new folder is removed; the error
// names dir.
func ReplaceDir(dir string, fill func(tmp string) error) (err error) {
	parent, base, err := split(dir)
	if err != nil {
		return fmt.Errorf("atomicfs: replace: %w", err)
	}
	wrap := func(err error) error { return fmt.Errorf("atomicfs: replace %s: %w", dir, err) }
	replaceMu.Lock()
	defer replaceMu.Unlock()
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return wrap(err)
	}
	if err := Recover(dir); err != nil {
		return wrap(err)
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return wrap(fmt.Errorf("exists and is not a folder (%s)", st.Mode().Type()))
	}
	tag := newTag()
	defer active.Delete(tag)
	newp := sibling(parent, base, kindNew, tag)
	ready := sibling(parent, base, kindReady, tag)
	old := sibling(parent, base, kindOld, tag)
	if err := os.Mkdir(newp, 0o755); err != nil {
		return wrap(err)
	}
	installed := false
	defer func() {
		if !installed {
			_ = os.RemoveAll(newp)
			_ = os.RemoveAll(ready)
		}
	}()
	if err := inOrder(func() error { return fill(newp) },
		func() error { return syncTree(newp) },
		func() error { return callHook(StepFilled, newp) },
		func() error { return os.Rename(newp, ready) }); err != nil {
		return wrap(err)
	}
	syncDir(parent)
	if err := callHook(StepReady, ready); err != nil {
		return wrap(err)
	}
	hadOld := false
	if _, err := os.Lstat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return wrap(err)
		}
		hadOld = true
		syncDir(parent)
		if err := callHook(StepOldAside, old); err != nil {
			if rerr := os.Rename(old, dir); rerr != nil {
				// Leave old for Recover: this tag is no longer active
				// once we return, so the next Recover puts it back.
				return wrap(fmt.Errorf("%w (restoring the old folder: %v)", err, rerr))
			}
			syncDir(parent)
			return wrap(err)
		}
	}
	if err := os.Rename(ready, dir); err != nil {
		if hadOld {
			if rerr := os.Rename(old, dir); rerr != nil {
				if _, serr := os.Lstat(dir); serr == nil {
					// Another writer installed its folder meanwhile.
					t, _ := parseTemp(base, filepath.Base(old))
					discard(parent, t)
					return wrap(err)
				}
				return wrap(fmt.Errorf("%w (restoring the old folder: %v)", err, rerr))
			}
			syncDir(parent)
		}
		return wrap(err)
	}
	installed = true
	syncDir(parent)
	if err := callHook(StepInstalled, dir); err != nil {
		return wrap(err)
	}
	if hadOld {
		t, _ := parseTemp(base, filepath.Base(old))
		discard(parent, t)
	}
	return nil
}

// syncTree fsyncs every file and folder under root, folders after their
// entries.
func syncTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		serr := f.Sync()
		cerr := f.Close()
		if serr != nil {
			return fmt.Errorf("sync %s: %w", p, serr)
		}
		return cerr
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		syncDir(dirs[i])
	}
	return nil
}

// Recover finishes or rolls back a folder replace of dir ([ReplaceDir]) that
// was interrupted (process killed, machine down), as the package doc
// describes, and removes the stale temporaries of dir in its parent folder.
// Loaders call it before reading dir. It returns nil when there is nothing to
// do, when dir's parent does not exist, and when dir does not exist and
// nothing can restore it (the load then reports the missing folder). It
// returns an error naming dir when a folder could be restored but the rename
// failed, or when a live writer has kept dir missing for 10 s.
// Failures to remove stale temporaries are ignored.
func Recover(dir string) error {
	parent, base, err := split(dir)
	if err != nil {
		return fmt.Errorf("atomicfs: recover: %w", err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		ts, err := listTemps(parent, base)
		if err != nil || len(ts) == 0 {
			return nil // no parent folder, or nothing to do
		}
		_, statErr := os.Lstat(dir)
		if statErr != nil && errors.Is(statErr, fs.ErrNotExist) {
			done, live, err := restore(parent, base, dir, ts)
			if err != nil {
				return fmt.Errorf("atomicfs: recover %s: %w", dir, err)
			}
			if !done && live {
				if time.Now().After(deadline) {
					return fmt.Errorf("atomicfs: recover %s: missing while another save is in progress for over %v", dir, waitLimit)
				}
				time.Sleep(2 * time.Millisecond)
				continue
			}
			if done {
				ts, _ = listTemps(parent, base)
			}
		}
		for _, t := range ts {
			if t.stale(parent) {
				discard(parent, t)
			}
		}
		return nil
	}
}

// restore puts a stale ready folder (rolled forward), else a stale old one
// (rolled back), at dir. done says whether it did; live whether some
// ready or old folder belongs to a writer still running.
func restore(parent, base, dir string, ts []temp) (done, live bool, err error) {
	var ready, old []temp
	olds := map[string]bool{}
	for _, t := range ts {
		switch t.kind {
		case kindReady, kindOld:
			if !t.stale(parent) {
				live = true
				continue
			}
			if t.kind == kindReady {
				ready = append(ready, t)
			} else {
				old = append(old, t)
				olds[t.tag] = true
			}
		}
	}
	if live {
		return false, true, nil
	}
	// Prefer the ready folder of the save that moved dir aside; else the
	// newest ready folder; else the newest old folder.
	pick := func(c []temp, prefer func(temp) bool) (temp, bool) {
		var best temp
		var bestTime time.Time
		found := false
		for _, t := range c {
			st, err := os.Stat(filepath.Join(parent, t.name))
			if err != nil || !st.IsDir() {
				continue
			}
			better := !found || (prefer(t) && !prefer(best)) ||
				(prefer(t) == prefer(best) && st.ModTime().After(bestTime))
			if better {
				best, bestTime, found = t, st.ModTime(), true
			}
		}
		return best, found
	}
	t, ok := pick(ready, func(t temp) bool { return olds[t.tag] })
	if !ok {
		t, ok = pick(old, func(temp) bool { return false })
	}
	if !ok {
		return false, false, nil
	}
	if err := os.Rename(filepath.Join(parent, t.name), dir); err != nil {
		return false, false, err
	}
	syncDir(parent)
	return true, false, nil
}
