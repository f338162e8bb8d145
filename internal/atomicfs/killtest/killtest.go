// Package killtest kills a saving process at random instants and checks that
// what it was saving stays loadable: the harness behind the kill tests of
// internal/atomicfs and pv. The test binary re-executes itself as the saver
// (the child): [Child] saves versions 1, 2, 3, … of some content to one
// folder in a loop, printing each version it finished; [Run] (the parent)
// starts a child, kills it with SIGKILL at a random instant, and checks
// before anything else reads the folder that the load function finds the
// last version the child reported or the one after it, that no temporaries
// are left after the load, and then starts the next child from there.
package killtest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/internal/fsx/fsxtest"
)

// Environment variables passed to the child.
const (
	envDir   = "GOVENE_KILLTEST_DIR"
	envStart = "GOVENE_KILLTEST_START"
	envWiden = "GOVENE_KILLTEST_WIDEN"
)

// Widen is how long a widened child sleeps with the old folder moved aside
// and the new one not yet in place (the target missing).
const Widen = 20 * time.Millisecond

// Child is called first thing by the test function that [Run] names. In the
// parent (no kill-test environment) it returns false at once and the test
// function should return. In a child it calls setup once, prints "ready",
// then for v = start, start+1, … calls save(dir, v) and prints "saved v"
// until killed; with the window widened it sleeps [Widen] after the old
// folder is moved aside (printing "window v" first). It exits the process
// on a save error, printing it.
func Child(setup func() error, save func(dir string, v int) error) bool {
	dir := os.Getenv(envDir)
	if dir == "" {
		return false
	}
	start, err := strconv.Atoi(os.Getenv(envStart))
	if err != nil {
		fmt.Printf("error %s: %v\n", envStart, err)
		os.Exit(3)
	}
	if err := setup(); err != nil {
		fmt.Printf("error setup: %v\n", err)
		os.Exit(3)
	}
	v := start
	if os.Getenv(envWiden) == "1" {
		atomicfs.SetTestHook(func(step atomicfs.Step, path string) error {
			if step == atomicfs.StepOldAside {
				fmt.Printf("window %d\n", v)
				time.Sleep(Widen)
			}
			return nil
		})
	}
	fmt.Println("ready")
	for ; ; v++ {
		if err := save(dir, v); err != nil {
			fmt.Printf("error save %d: %v\n", v, err)
			os.Exit(3)
		}
		fmt.Printf("saved %d\n", v)
	}
}

// Config says what Run does.
type Config struct {
	// Test is the name of the test function that calls Child.
	Test string
	// Env is added to the child's environment (after the parent's).
	Env []string
	// Kills is the number of children to kill.
	Kills int
	// WidenEvery widens the window in every WidenEvery-th child (0: none)
	// and kills it while in the window.
	WidenEvery int
	// MaxDelay bounds the random delay before a kill (not widened).
	MaxDelay time.Duration
	// Load loads dir, checks that its content is whole and of one version,
	// and returns that version (0 when dir holds the first, unversioned,
	// save that Run makes with Save before the first child).
	Load func(dir string) (version int, err error)
	// Save saves version v in the parent (the initial save and the final
	// one).
	Save func(dir string, v int) error
}

// Result counts what the kills hit.
type Result struct {
	Kills, Widened int
	// DirMissing counts kills that left the target missing (the window
	// between the two renames); RolledForward those after which the load
	// found the version being saved; NewLeft, ReadyLeft, OldLeft count kills
	// that left such a temporary.
	DirMissing, RolledForward, NewLeft, ReadyLeft, OldLeft int
	// Saves counts versions the children reported saved.
	Saves   int
	Elapsed time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%d kills (%d widened) in %v: target missing at %d kills, new folder left at %d, ready at %d, old at %d; rolled forward %d; %d saves completed; all recovered",
		r.Kills, r.Widened, r.Elapsed.Round(time.Millisecond), r.DirMissing, r.NewLeft, r.ReadyLeft, r.OldLeft, r.RolledForward, r.Saves)
}

// Run kills cfg.Kills children as the package doc says, failing t at the
// first kill after which the content is not loadable or of a wrong version,
// or temporaries remain.
func Run(t *testing.T, cfg Config) Result {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "save")
	begin := time.Now()
	if err := cfg.Save(dir, 0); err != nil {
		t.Fatal(err)
	}
	var res Result
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	have := 0
	for i := range cfg.Kills {
		widen := cfg.WidenEvery > 0 && i%cfg.WidenEvery == cfg.WidenEvery-1
		ack, sawWindow := kill(t, cfg, dir, have+1, widen, rng)
		res.Kills++
		res.Saves += ack - have
		if widen {
			res.Widened++
			if !sawWindow {
				t.Fatalf("kill %d: widened child never reached the window", i)
			}
		}
		// The state the kill left, before anything recovers it.
		if _, err := os.Lstat(dir); err != nil {
			res.DirMissing++
		}
		for _, e := range entries(t, parent) {
			switch {
			case strings.Contains(e, ".govene-new-"):
				res.NewLeft++
			case strings.Contains(e, ".govene-ready-"):
				res.ReadyLeft++
			case strings.Contains(e, ".govene-old-"):
				res.OldLeft++
			}
		}
		got, err := cfg.Load(dir)
		if err != nil {
			t.Fatalf("kill %d (widened %v, last saved %d): load: %v", i, widen, ack, err)
		}
		if got != ack && got != ack+1 {
			t.Fatalf("kill %d (widened %v): loaded version %d, want %d (last reported saved) or %d (being saved)", i, widen, got, ack, ack+1)
		}
		if got == ack+1 {
			res.RolledForward++
		}
		if e := entries(t, parent); len(e) != 1 || e[0] != "save" {
			t.Fatalf("kill %d: after load the folder holds %q, want only save", i, e)
		}
		have = got
	}
	if err := cfg.Save(dir, have+1); err != nil {
		t.Fatal(err)
	}
	if got, err := cfg.Load(dir); err != nil || got != have+1 {
		t.Fatalf("final save: loaded %d, %v; want %d", got, err, have+1)
	}
	if e := entries(t, parent); len(e) != 1 || e[0] != "save" {
		t.Fatalf("after the final save the folder holds %q, want only save", e)
	}
	res.Elapsed = time.Since(begin)
	return res
}

// entries returns the entries of dir, sorted.
var entries = fsxtest.Names

// kill runs one child saving start, start+1, … and kills it; it returns the
// last version the child reported saved (start-1 if none) and whether it
// reported entering the widened window.
func kill(t *testing.T, cfg Config, dir string, start int, widen bool, rng *rand.Rand) (ack int, sawWindow bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+cfg.Test+"$", "-test.count=1")
	w := "0"
	if widen {
		w = "1"
	}
	cmd.Env = append(append(os.Environ(), cfg.Env...), envDir+"="+dir, envStart+"="+strconv.Itoa(start), envWiden+"="+w)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	ack = start - 1
	var all []string
	note := func(l string) {
		all = append(all, l)
		if v, ok := strings.CutPrefix(l, "saved "); ok {
			ack, _ = strconv.Atoi(v)
		}
		if strings.HasPrefix(l, "window ") {
			sawWindow = true
		}
	}
	// Wait for "ready" (or, widened, "window"), then a random delay.
	want := "ready"
	if widen {
		want = "window"
	}
	timeout := time.After(60 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait // child exited: reported below
			}
			note(l)
			if strings.HasPrefix(l, want) {
				break wait
			}
		case <-timeout:
			break wait
		}
	}
	if widen {
		time.Sleep(time.Duration(rng.Int64N(int64(Widen))))
	} else {
		time.Sleep(time.Duration(rng.Int64N(int64(cfg.MaxDelay))))
	}
	_ = cmd.Process.Kill()
	for l := range lines {
		note(l)
	}
	wg.Wait()
	werr := cmd.Wait()
	if !strings.Contains(fmt.Sprint(werr), "killed") {
		t.Fatalf("child did not die by the kill (%v); its output: %q, stderr: %s", werr, all, stderr.String())
	}
	// Lines read after the kill count too: ack is the last version the
	// child finished.
	return ack, sawWindow
}
