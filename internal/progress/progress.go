// Package progress reports the progress of long tasks (downloads, sweeps,
// training) in the form that suits where the output goes:
//
//   - on a terminal, an animated bar (github.com/schollz/progressbar);
//   - in a GoNB notebook (gonbui.IsNotebook), when the output is the
//     process's stdout or stderr, one line of HTML updated in place
//     (gonbui.UpdateHTML) at most four times a second;
//   - anywhere else (a log file, a pipe, CI, a bytes.Buffer), a few plain
//     lines: one each time another tenth of the total is done (but not
//     within a second of the previous line), and one every 30 s in between
//     (every 30 s when the total is unknown), with a first line when it
//     starts and a last one when it finishes. A task of a second writes two
//     lines, a 10-minute task 11 to 31, never one per step.
//
// A nil *Bar is valid and does nothing, and New with a nil writer returns a
// bar that writes nothing, so callers need no nil checks.
package progress

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode is how a Bar shows progress.
type Mode int

const (
	// Auto picks Terminal, Notebook or Log from the writer (see the package
	// comment).
	Auto Mode = iota
	// Terminal draws an animated bar.
	Terminal
	// Notebook updates one line of HTML in a GoNB notebook.
	Notebook
	// Log writes a few plain lines.
	Log
	// Silent writes nothing.
	Silent
)

// String returns the mode's name ("auto", "terminal", "notebook", "log",
// "silent"), or "Mode(n)" for an unknown value.
func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// modeNames are the modes' names, indexed by Mode.
var modeNames = [...]string{Auto: "auto", Terminal: "terminal", Notebook: "notebook", Log: "log", Silent: "silent"}

// LogEvery is the longest a Log-mode bar stays silent while its task runs.
const LogEvery = 30 * time.Second

// LogMinGap is the shortest time between two Log-mode lines: a task that
// takes a second writes its start and end only.
const LogMinGap = time.Second

// notebookEvery is how often a Notebook-mode bar updates its line.
const notebookEvery = 250 * time.Millisecond

// Options configure a Bar. The zero value is an automatic bar counting
// items.
type Options struct {
	// Mode forces a mode; Auto (the zero value) picks one from the writer.
	Mode Mode
	// Bytes shows the counts as bytes (kB, MB) and a rate.
	Bytes bool
	// Clear erases a terminal bar when it finishes (the caller prints the
	// result instead); Log and Notebook modes keep their last line.
	Clear bool
}

// The notebook and terminal hooks, replaced in tests.
var (
	inNotebook  = func() bool { return gonbui.IsNotebook }
	updateHTML  = gonbui.UpdateHTML
	uniqueID    = gonbui.UniqueId
	isTerminal  = func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
	now         = time.Now
	stdoutOrErr = func(w io.Writer) (*os.File, bool) {
		f, ok := w.(*os.File)
		return f, ok && (f == os.Stdout || f == os.Stderr)
	}
)

// Bar reports the progress of one task. Its methods are safe for concurrent
// use; a nil *Bar ignores every call.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	mode     Mode
	opt      Options
	desc     string
	total    int64 // <= 0: unknown
	done     int64
	start    time.Time
	finished bool

	term *progressbar.ProgressBar // Terminal

	id       string    // Notebook: the display id
	lastShow time.Time // Notebook and Log: when the last update was shown

	lastTenth int // Log: the last tenth of the total reported
}

// New returns a bar for a task of total steps (0 or less: unknown) written
// to w, described by desc ("tracing", "gpt2/model.safetensors"). A nil w
// gives a silent bar.
func New(w io.Writer, desc string, total int64, opt Options) *Bar {
	b := &Bar{w: w, opt: opt, desc: desc, total: total, start: now()}
	b.mode = pick(w, opt.Mode)
	switch b.mode {
	case Terminal:
		b.term = newTerminal(w, desc, total, opt)
	case Notebook:
		b.id = "govene-progress-" + uniqueID()
		b.show()
	case Log:
		fmt.Fprintln(w, b.desc+": started")
	}
	return b
}

// pick resolves Auto for writer w.
func pick(w io.Writer, m Mode) Mode {
	if w == nil || w == io.Discard {
		return Silent
	}
	if m != Auto {
		return m
	}
	if _, console := stdoutOrErr(w); console && inNotebook() {
		return Notebook
	}
	if f, isFile := w.(*os.File); isFile && isTerminal(f) {
		return Terminal
	}
	return Log
}

func newTerminal(w io.Writer, desc string, total int64, opt Options) *progressbar.ProgressBar {
	max := total
	if max <= 0 {
		max = -1
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSpinnerType(14),
	}
	if opt.Bytes {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true))
	}
	if opt.Clear {
		opts = append(opts, progressbar.OptionClearOnFinish())
	} else {
		opts = append(opts, progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	}
	return progressbar.NewOptions64(max, opts...)
}

// Mode returns the mode the bar resolved to (never Auto).
func (b *Bar) Mode() Mode {
	if b == nil {
		return Silent
	}
	return b.mode
}

// Add advances the bar by n steps.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setLocked(b.done + n)
}

// Set sets the number of steps done.
func (b *Bar) Set(done int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setLocked(done)
}

// SetTotal changes the total (0 or less: unknown).
func (b *Bar) SetTotal(total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if total == b.total {
		return
	}
	b.total = total
	if b.term != nil {
		b.term.ChangeMax64(max(total, -1))
	}
	if total > 0 {
		b.lastTenth = int(10 * b.done / total)
	}
}

// Describe changes the description shown before the counts.
func (b *Bar) Describe(desc string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.desc = desc
	if b.term != nil {
		b.term.Describe(desc)
	}
}

// Write counts len(p) bytes as done, so that a Bar can sit in an
// io.MultiWriter copying a download. It never fails.
func (b *Bar) Write(p []byte) (int, error) {
	b.Add(int64(len(p)))
	return len(p), nil
}

// Finish marks the task done: a terminal bar completes (or is erased with
// Options.Clear), a notebook line and a log show their last state. Later
// calls do nothing.
func (b *Bar) Finish() { b.end(false) }

// Abandon stops the bar without claiming the task completed (a failed
// download): a terminal bar stops where it is, a log gets a last line saying
// so. Later calls, and Finish after it, do nothing.
func (b *Bar) Abandon() { b.end(true) }

// end is Finish (abandon false) and Abandon: the first call of either
// shows the bar's last state; later calls do nothing.
func (b *Bar) end(abandon bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	switch {
	case b.mode == Terminal && abandon:
		_ = b.term.Exit()
		fmt.Fprintln(b.w)
	case b.mode == Terminal:
		_ = b.term.Finish()
	case b.mode == Notebook:
		b.show()
	case b.mode == Log && abandon:
		fmt.Fprintln(b.w, b.line("stopped"))
	case b.mode == Log:
		fmt.Fprintln(b.w, b.line("done"))
	}
}

func (b *Bar) setLocked(done int64) {
	if b.finished {
		return
	}
	b.done = done
	switch b.mode {
	case Terminal:
		_ = b.term.Set64(done)
	case Notebook:
		if now().Sub(b.lastShow) >= notebookEvery {
			b.show()
		}
	case Log:
		t := now()
		tenth := -1
		if b.total > 0 {
			tenth = int(min(10, 10*done/b.total))
		}
		since := t.Sub(b.lastShowOrStart())
		if (tenth > b.lastTenth && tenth < 10 && since >= LogMinGap) || since >= LogEvery {
			if tenth > b.lastTenth {
				b.lastTenth = tenth
			}
			b.lastShow = t
			fmt.Fprintln(b.w, b.line(""))
		}
	}
}

func (b *Bar) lastShowOrStart() time.Time {
	if b.lastShow.IsZero() {
		return b.start
	}
	return b.lastShow
}

// show renders the notebook line.
func (b *Bar) show() {
	b.lastShow = now()
	state := ""
	if b.finished {
		state = "done"
	}
	updateHTML(b.id, `<div style="font-family:monospace">`+html.EscapeString(b.line(state))+`</div>`)
}

// line is the plain-text state: "tracing: 40% (120/300) 12s", with " done"
// or " stopped" appended when state says so.
func (b *Bar) line(state string) string {
	var s strings.Builder
	s.WriteString(b.desc)
	s.WriteString(": ")
	if b.total > 0 {
		fmt.Fprintf(&s, "%d%% (%s/%s)", 100*b.done/b.total, b.count(b.done), b.count(b.total))
	} else {
		s.WriteString(b.count(b.done))
	}
	elapsed := now().Sub(b.start)
	fmt.Fprintf(&s, " %s", elapsed.Round(time.Second))
	if b.total > 0 && b.done > 0 && b.done < b.total && state == "" {
		left := time.Duration(float64(elapsed) * float64(b.total-b.done) / float64(b.done))
		fmt.Fprintf(&s, ", about %s left", left.Round(time.Second))
	}
	if state != "" {
		s.WriteString(" " + state)
	}
	return s.String()
}

func (b *Bar) count(n int64) string {
	if !b.opt.Bytes {
		return fmt.Sprint(n)
	}
	f := float64(n)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.2f GB", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.1f MB", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.0f kB", f/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
