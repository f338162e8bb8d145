//go:build unix

package plots

import (
	"encoding/gob"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// TestGonbuiProtocol runs TestGonbuiChild in a child process set up the way
// a GoNB kernel starts a cell's program (its GONB_PIPE and GONB_PIPE_BACK
// named pipes), plays the kernel's side of the pipes, and checks what the
// real gonbui sent: Display as one output with text/html (an <img> of the
// SVG) and text/plain, a LiveChart as
// updates of one transient display id, and Flush's sync.
func TestGonbuiProtocol(t *testing.T) {
	if os.Getenv("GOVENE_PLOTS_GONB_CHILD") != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	toKernel, fromKernel := filepath.Join(dir, "pipe"), filepath.Join(dir, "pipe_back")
	for _, p := range []string{toKernel, fromKernel} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("no named pipes here: %v", err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGonbuiChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOVENE_PLOTS_GONB_CHILD=1",
		protocol.GONB_PIPE_ENV+"="+toKernel, protocol.GONB_PIPE_BACK_ENV+"="+fromKernel)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var msgs []protocol.DisplayData
	go func() {
		r, err := os.OpenFile(toKernel, os.O_RDONLY, 0)
		if err != nil {
			done <- err
			return
		}
		defer r.Close()
		w, err := os.OpenFile(fromKernel, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		defer w.Close()
		dec, enc := gob.NewDecoder(r), gob.NewEncoder(w)
		for {
			var m protocol.DisplayData
			if err := dec.Decode(&m); err != nil {
				done <- nil // the child closed its end
				return
			}
			cv, ok := m.Data[protocol.MIMECommValue].(protocol.CommValue)
			if p, isPtr := m.Data[protocol.MIMECommValue].(*protocol.CommValue); isPtr {
				cv, ok = *p, true
			}
			if ok && cv.Address == protocol.GonbuiSyncAddress {
				if err := enc.Encode(&protocol.CommValue{Address: protocol.GonbuiSyncAckAddress, Value: cv.Value}); err != nil {
					done <- err
					return
				}
				continue
			}
			msgs = append(msgs, m)
		}
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("child timed out\n%s", out.String())
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kernel side did not finish")
	}
	if !strings.Contains(out.String(), "PASS") {
		t.Fatalf("child did not pass:\n%s", out.String())
	}
	if len(msgs) != 3 {
		t.Fatalf("kernel got %d outputs, want 3 (Display, 2 LiveChart updates): %+v", len(msgs), msgs)
	}
	h, _ := msgs[0].Data[protocol.MIMETextHTML].(string)
	plain, _ := msgs[0].Data[protocol.MIMETextPlain].(string)
	if msgs[0].DisplayID != "" || !imgSVG(t, h).hasText("gonbui heat") || !strings.Contains(plain, "gonbui heat") || len(msgs[0].Data) != 2 {
		t.Errorf("Display sent %q (text/plain %q, %d MIME types) with id %q", head(h, 80), plain, len(msgs[0].Data), msgs[0].DisplayID)
	}
	id := msgs[1].DisplayID
	if id == "" || msgs[2].DisplayID != id {
		t.Errorf("LiveChart ids %q, %q: want one non-empty id", id, msgs[2].DisplayID)
	}
	for _, m := range msgs[1:] {
		h, _ := m.Data[protocol.MIMETextHTML].(string)
		if !imgSVG(t, h).hasText("train") {
			t.Errorf("LiveChart update is not the chart: %s", head(h, 200))
		}
	}
}

// TestGonbuiChild is the cell program of TestGonbuiProtocol.
func TestGonbuiChild(t *testing.T) {
	if os.Getenv("GOVENE_PLOTS_GONB_CHILD") == "" {
		t.Skip("run by TestGonbuiProtocol")
	}
	if !gonbui.IsNotebook || !InNotebook() {
		t.Fatal("GONB_PIPE set, but not in a notebook")
	}
	if err := Display(&HeatMap{Title: "gonbui heat", Values: [][]float64{{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	live := NewLiveChart(LineChart{Title: "loss"})
	live.Interval = time.Hour
	live.Add("train", 0, 1)
	live.Add("train", 1, 0.5)
	if err := live.Flush(); err != nil {
		t.Fatal(err)
	}
}
