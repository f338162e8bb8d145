package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
)

// shippedVocab is the shipped model's vocabulary (shipped/model/config.json).
const shippedVocab = 50257

// echoRequest is the request of the "echo" method.
type echoRequest struct {
	T     session.Tensor `json:"t"`
	Scale float32        `json:"scale"`
	Steps int            `json:"steps,omitempty"` // events to stream first
}

// forwardResult is what the "forward" method returns, as a model's
// forward would: logits for each token.
type forwardResult struct {
	Logits session.Tensor `json:"logits"`
	Tokens int            `json:"tokens"`
}

// registerTensors adds echo (a tensor scaled) and forward (logits of
// shape [1, len(tokens), vocab] for a request of token ids).
func registerTensors(t testing.TB, s *server.Server) {
	t.Helper()
	if err := s.Handle("echo", func(_ context.Context, req []byte, emit server.Emitter) (any, error) {
		var r echoRequest
		if err := session.DecodeRequest(req, &r, 0); err != nil {
			return nil, err
		}
		for i := range r.Steps {
			if err := emit(i); err != nil {
				return nil, err
			}
		}
		out := session.Tensor{Shape: r.T.Shape, Data: make([]float32, len(r.T.Data))}
		for i, v := range r.T.Data {
			out.Data[i] = v * r.Scale
		}
		return &out, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("forward", func(_ context.Context, req []byte, _ server.Emitter) (any, error) {
		var r struct {
			Tokens []int `json:"tokens"`
		}
		if err := session.DecodeRequest(req, &r, 0); err != nil {
			return nil, err
		}
		data := make([]float32, len(r.Tokens)*shippedVocab)
		for i := range data {
			data[i] = float32(i%997) * 0.01
		}
		return forwardResult{Logits: session.Tensor{Shape: []int{1, len(r.Tokens), shippedVocab}, Data: data}, Tokens: len(r.Tokens)}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTensorCalls sends and receives Tensors: framed for the client,
// inline JSON for a caller that does not accept framed bodies, inline in
// a stream, and within the response limit.
func TestTensorCalls(t *testing.T) {
	s, _ := serve(t, server.Options{MaxResponseBytes: 1 << 20})
	registerTensors(t, s)
	c := dial(t, session.Options{Socket: s.Addr()})
	ctx := context.Background()
	in := session.Tensor{Shape: []int{2, 2}, Data: []float32{1, 2, 3, -4}}
	for _, steps := range []int{0, 2} { // plain and streamed
		var out session.Tensor
		if err := c.Call(ctx, "echo", echoRequest{T: in, Scale: 0.5, Steps: steps}, &out); err != nil {
			t.Fatalf("echo (%d steps): %v", steps, err)
		}
		if len(out.Shape) != 2 || out.Shape[1] != 2 || len(out.Data) != 4 || out.Data[3] != -2 {
			t.Errorf("echo (%d steps) = %+v, want [[0.5 1] [1.5 -2]]", steps, out)
		}
	}
	var fr forwardResult
	if err := c.Call(ctx, "forward", map[string][]int{"tokens": {1, 2, 3}}, &fr); err != nil {
		t.Fatal(err)
	}
	if fr.Tokens != 3 || len(fr.Logits.Shape) != 3 || fr.Logits.Shape[1] != 3 || len(fr.Logits.Data) != 3*shippedVocab || fr.Logits.Data[5] != float32(5)*0.01 {
		t.Errorf("forward = shape %v, %d values, tokens %d", fr.Logits.Shape, len(fr.Logits.Data), fr.Tokens)
	}
	// 16 tokens of logits are 3.2 MB, over this server's 1 MiB limit.
	err := c.Call(ctx, "forward", map[string][]int{"tokens": make([]int, 16)}, &fr)
	if err == nil || !strings.Contains(err.Error(), "over the limit of 1048576 bytes (MaxResponseBytes") {
		t.Errorf("an oversized framed result: %v", err)
	}
	// A caller that does not say it reads framed bodies gets JSON.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", s.Addr())
	}}}
	resp, err := hc.Post("http://x"+session.CallPath+"echo", session.JSONType, strings.NewReader(`{"t":{"shape":[2],"data":[1,2]},"scale":2}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var js session.Tensor
	if resp.Header.Get("Content-Type") != session.JSONType || json.Unmarshal(body, &js) != nil || len(js.Data) != 2 || js.Data[1] != 4 {
		t.Errorf("echo for a JSON caller: %s %s, want inline JSON [2 4]", resp.Header.Get("Content-Type"), body)
	}
}
