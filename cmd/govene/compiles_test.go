package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
	"github.com/govene/govene/session/service"
)

// engineCell is a notebook cell: it runs the shipped model and an
// intervention on it in the session at sock.
func engineCell(sock string) error {
	e, err := session.Connect(session.Options{Socket: sock})
	if err != nil {
		return err
	}
	defer e.Close()
	m, err := e.Model("shipped")
	var base govene.Prompt
	if err == nil {
		base, err = m.Encode("The capital of France is")
	}
	if err == nil {
		_, err = m.Run([]govene.Prompt{base})
	}
	var iv govene.Intervenable
	if err == nil {
		iv, err = m.New(govene.Config{Representations: []govene.RepresentationConfig{
			{Layer: 0, Component: govene.BlockOutput, InterventionType: govene.Vanilla}}})
	}
	if err == nil {
		_, err = iv.Forward([]govene.Prompt{base}, govene.Sources(base), govene.AtUnits(base.Last()))
		if rerr := iv.Release(); err == nil {
			err = rerr
		}
	}
	return err
}

// TestSessionCompilesOnce is the requirement: a cell that reruns
// shapes already compiled compiles nothing. Two cells, each its own
// process (this test binary again, told by GOVENE_TEST_ENGINE_CELL), run
// the same calls on one session with the in-process engine; the engine's
// compile count (service.Compiler, in the status) must not change during
// the second.
func TestSessionCompilesOnce(t *testing.T) {
	if sock := os.Getenv("GOVENE_TEST_ENGINE_CELL"); sock != "" {
		if err := engineCell(sock); err != nil {
			t.Fatal(err)
		}
		return
	}
	eng, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, ok := eng.(service.Compiler); !ok {
		t.Fatalf("the engine (%T) does not count its compiled graphs: it must implement service.Compiler (Compiles() int64)", eng)
	}
	d, err := os.MkdirTemp("", "gvc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(d)
	srv, err := server.New(server.Options{Socket: filepath.Join(d, "s.sock"), Log: os.Stderr})
	if err == nil {
		err = service.Register(srv, eng)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	c, err := session.Dial(session.Options{Socket: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSessionCompilesOnce$")
		cmd.Env = append(os.Environ(), "GOVENE_TEST_ENGINE_CELL="+srv.Addr())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the cell process failed: %v\n%s", err, out)
		}
		st, err := c.Status(context.Background())
		r, rerr := service.ReportOf(st)
		if err != nil || rerr != nil {
			t.Fatal(err, rerr)
		}
		counts = append(counts, r.Compiles)
	}
	if counts[0] <= 0 || counts[1] != counts[0] {
		t.Errorf("compiled graphs after each cell: %v; want the first positive and the second cell to add none", counts)
	}
}
