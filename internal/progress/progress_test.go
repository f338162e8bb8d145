package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock replaces now with a clock the test advances.
func fakeClock(t *testing.T) *time.Time {
	t.Helper()
	c := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	old := now
	now = func() time.Time { return c }
	t.Cleanup(func() { now = old })
	return &c
}

// fakeEnv sets whether the process is in a notebook and whether files are
// terminals, and records notebook updates.
func fakeEnv(t *testing.T, notebook, terminal bool) *[][2]string {
	t.Helper()
	var updates [][2]string
	oldNB, oldUp, oldID, oldTerm := inNotebook, updateHTML, uniqueID, isTerminal
	inNotebook = func() bool { return notebook }
	updateHTML = func(id, html string) { updates = append(updates, [2]string{id, html}) }
	uniqueID = func() string { return "7" }
	isTerminal = func(*os.File) bool { return terminal }
	t.Cleanup(func() { inNotebook, updateHTML, uniqueID, isTerminal = oldNB, oldUp, oldID, oldTerm })
	return &updates
}

func TestPick(t *testing.T) {
	var buf bytes.Buffer
	tests := []struct {
		name               string
		w                  io.Writer
		mode               Mode
		notebook, terminal bool
		want               Mode
	}{
		{"nil writer", nil, Auto, false, true, Silent},
		{"io.Discard", io.Discard, Auto, false, true, Silent},
		{"io.Discard, forced terminal", io.Discard, Terminal, false, true, Silent},
		{"buffer", &buf, Auto, false, false, Log},
		{"stderr on a terminal", os.Stderr, Auto, false, true, Terminal},
		{"stderr redirected to a file", os.Stderr, Auto, false, false, Log},
		{"stdout in a notebook", os.Stdout, Auto, true, false, Notebook},
		{"stderr in a notebook", os.Stderr, Auto, true, true, Notebook},
		{"a buffer in a notebook", &buf, Auto, true, false, Log},
		{"forced log on a terminal", os.Stderr, Log, false, true, Log},
		{"forced notebook", &buf, Notebook, false, false, Notebook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeEnv(t, tt.notebook, tt.terminal)
			if got := pick(tt.w, tt.mode); got != tt.want {
				t.Errorf("pick(%s) = %s, want %s", tt.name, got, tt.want)
			}
		})
	}
}

// TestLogFewLines: 1000 steps of 1 s each (16 min 40 s) write a start line,
// one line per tenth, one line per 30 s without a new tenth, and a last
// line: not 1000 lines.
func TestLogFewLines(t *testing.T) {
	clock := fakeClock(t)
	var buf bytes.Buffer
	b := New(&buf, "tracing", 1000, Options{})
	if b.Mode() != Log {
		t.Fatalf("mode %s, want log", b.Mode())
	}
	for range 1000 {
		*clock = clock.Add(time.Second)
		b.Add(1)
	}
	b.Finish()
	b.Finish()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// 100 s per tenth: lines at 30, 60, 90 s then the tenth at 100 s, ...
	if len(lines) < 11 || len(lines) > 2+9+1000/30 {
		t.Fatalf("%d lines for 1000 steps, want 11 to 2+9+1000/30 (start, tenths, every 30 s, done):\n%s", len(lines), buf.String())
	}
	for _, want := range []string{
		"tracing: started",
		"tracing: 10% (100/1000) 1m40s, about 15m0s left",
		"tracing: 90% (900/1000) 15m0s, about 1m40s left",
	} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("log lacks the line %q:\n%s", want, buf.String())
		}
	}
	if first, last := lines[0], lines[len(lines)-1]; first != "tracing: started" || last != "tracing: 100% (1000/1000) 16m40s done" {
		t.Errorf("first line %q, last %q", first, last)
	}
}

// TestLogFastTask: a million quick steps write their start and end only
// when they take less than a second, their tenths when they take longer.
func TestLogFastTask(t *testing.T) {
	for _, tt := range []struct {
		step  time.Duration
		lines int
	}{{0, 2}, {100 * time.Nanosecond, 2}, {10 * time.Microsecond, 11}} {
		clock := fakeClock(t)
		var buf bytes.Buffer
		b := New(&buf, "DAS", 1_000_000, Options{})
		for range 1_000_000 {
			*clock = clock.Add(tt.step)
			b.Add(1)
		}
		b.Finish()
		if n := strings.Count(buf.String(), "\n"); n != tt.lines {
			t.Errorf("steps of %s: %d lines, want %d:\n%s", tt.step, n, tt.lines, buf.String())
		}
	}
}

func TestLogUnknownTotal(t *testing.T) {
	clock := fakeClock(t)
	var buf bytes.Buffer
	b := New(&buf, "download", 0, Options{Bytes: true})
	for range 100 {
		*clock = clock.Add(time.Second)
		b.Write(make([]byte, 1500))
	}
	b.Abandon()
	b.Finish()
	want := "download: started\n" +
		"download: 45 kB 30s\n" +
		"download: 90 kB 1m0s\n" +
		"download: 135 kB 1m30s\n" +
		"download: 150 kB 1m40s stopped\n"
	if buf.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestNotebook(t *testing.T) {
	clock := fakeClock(t)
	updates := fakeEnv(t, true, false)
	b := New(os.Stderr, "tracing", 100, Options{})
	if b.Mode() != Notebook {
		t.Fatalf("mode %s, want notebook", b.Mode())
	}
	for range 100 {
		*clock = clock.Add(10 * time.Millisecond)
		b.Add(1)
	}
	b.Finish()
	// 1 s of work: the first display, one update per 250 ms, the last.
	if n := len(*updates); n < 3 || n > 7 {
		t.Errorf("%d notebook updates for 100 steps in 1 s, want 3 to 7", n)
	}
	for _, u := range *updates {
		if u[0] != "govene-progress-7" {
			t.Errorf("update of display %q, want govene-progress-7", u[0])
		}
	}
	last := (*updates)[len(*updates)-1][1]
	if want := `<div style="font-family:monospace">tracing: 100% (100/100) 1s done</div>`; last != want {
		t.Errorf("last update %q, want %q", last, want)
	}
}

func TestTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "training", 10, Options{Mode: Terminal})
	for range 10 {
		b.Add(1)
	}
	b.Finish()
	if out := buf.String(); !strings.Contains(out, "training") || !strings.Contains(out, "10/10") {
		t.Errorf("terminal bar wrote %q; want the description and 10/10", out)
	}
}

func TestNilAndSilent(t *testing.T) {
	var b *Bar
	b.Add(1)
	b.Set(2)
	b.SetTotal(3)
	b.Describe("x")
	b.Finish()
	b.Abandon()
	if n, err := b.Write([]byte("abc")); n != 3 || err != nil {
		t.Errorf("nil bar Write = %d, %v; want 3, nil", n, err)
	}
	if b.Mode() != Silent {
		t.Errorf("nil bar mode %s", b.Mode())
	}
	s := New(nil, "x", 10, Options{})
	s.Add(5)
	s.Finish()
	if s.Mode() != Silent {
		t.Errorf("New(nil) mode %s, want silent", s.Mode())
	}
}

func TestSetTotalAndDescribe(t *testing.T) {
	fakeClock(t)
	var buf bytes.Buffer
	b := New(&buf, "tracing", 0, Options{})
	b.SetTotal(10)
	b.Describe("tracing mlp_output")
	b.Set(5)
	b.Finish()
	want := "tracing: started\ntracing mlp_output: 50% (5/10) 0s done\n"
	if buf.String() != want {
		t.Errorf("log:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Auto: "auto", Terminal: "terminal", Notebook: "notebook", Log: "log", Silent: "silent", Mode(9): "Mode(9)"} {
		if m.String() != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), m.String(), want)
		}
	}
}
