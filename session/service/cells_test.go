package service_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
	"github.com/govene/govene/session/service"
)

// envCell is set, to the session's socket, in the processes that
// TestCompilesAcrossProcesses runs as notebook cells.
const envCell = "GOVENE_TEST_CELL_SOCKET"

// TestCell is a notebook cell: a separate process that connects to the
// session, loads the model, and runs the same shapes as every cell. It
// runs only as TestCompilesAcrossProcesses's child.
func TestCell(t *testing.T) {
	sock := os.Getenv(envCell)
	if sock == "" {
		t.Skip("a notebook cell that TestCompilesAcrossProcesses runs in its own process")
	}
	e, err := session.Connect(session.Options{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := must(e.Model("fake"))
	p := must(m.Encode("abcd"))
	for range 2 {
		must(m.Run([]govene.Prompt{p}))
		must(m.Run([]govene.Prompt{p, p}))
	}
}

// TestCompilesAcrossProcesses runs two cells, each its own process, on one
// session: the second reruns the shapes the first compiled and compiles
// nothing (the engine's compile count, in the status, does not change).
func TestCompilesAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary twice")
	}
	fake := newFake()
	srv := serve(t, fake, server.Options{})
	c := dial(t, srv, session.Options{})
	compiles := func() int64 {
		return must(service.ReportOf(must(c.Status(context.Background())))).Compiles
	}
	var counts []int64
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCell$", "-test.v")
		cmd.Env = append(os.Environ(), envCell+"="+srv.Addr())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the cell process failed: %v\n%s", err, out)
		}
		counts = append(counts, compiles())
	}
	if counts[0] != 2 || counts[1] != counts[0] {
		t.Errorf("compiled graphs after each cell: %v, want [2 2] (two shapes, compiled by the first cell only)", counts)
	}
}
