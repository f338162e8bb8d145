package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
	"github.com/govene/govene/session/service"
)

// serve starts a server with the engine service over eng on a socket in a
// private temporary folder; it stops when the test ends.
func serve(t testing.TB, eng govene.Engine, opts server.Options) *server.Server {
	t.Helper()
	d, err := os.MkdirTemp("", "gvsvc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	opts.Socket = filepath.Join(d, "s.sock")
	opts.Log = &syncBuffer{}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := service.Register(srv, eng); err != nil {
		t.Fatal(err)
	}
	if err := service.Register(srv, eng); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("a second Register = %v, want an error saying the methods are already registered", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return srv
}

// syncBuffer is a log safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func dial(t testing.TB, srv *server.Server, opts session.Options) *session.Client {
	t.Helper()
	opts.Socket = srv.Addr()
	c, err := session.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// same fails t unless got and want encode to the same JSON: tensors go as
// base64 of their bits, so NaNs and infinities compare exactly.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: encoding: %v, %v", what, err1, err2)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// must returns v, or panics (failing the test binary with the error)
// when err is not nil: for calls that cannot fail unless the code under
// test is broken.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

var testConfig = govene.Config{Representations: []govene.RepresentationConfig{
	{Layer: 1, Component: govene.BlockOutput, Unit: govene.Pos, MaxNumberOfUnits: 1, InterventionType: govene.Collect},
	{Layer: 0, Component: govene.MLPOutput, Unit: govene.Pos, MaxNumberOfUnits: 1, InterventionType: govene.RotatedSpace, SourceRepresentation: []float32{1, 2, 3, 4}},
}, Mode: govene.Parallel}

// TestRoundTrip calls every method through a client and checks that each
// argument reaches the engine and each result comes back exactly.
func TestRoundTrip(t *testing.T) {
	fake := newFake()
	srv := serve(t, fake, server.Options{})
	var progressLog syncBuffer
	var e govene.Engine = dial(t, srv, session.Options{Progress: &progressLog})
	direct := must(fake.Model("fake"))

	m := must(e.Model("fake"))
	if m.Name() != "fake" || m.Describe() != direct.Describe() || !m.Dims().Equal(fakeDims) {
		t.Errorf("model = %q, %q, %+v; want fake, %q, %+v", m.Name(), m.Describe(), m.Dims(), direct.Describe(), fakeDims)
	}
	p := must(m.Encode("abca"))
	same(t, "Encode", p, must(direct.Encode("abca")))
	if id := must(m.TokenID("c")); id != 2 {
		t.Errorf("TokenID(c) = %d, want 2", id)
	}
	same(t, "Tokens", must(m.Tokens([]int{0, 4})), []string{"a", "e"})
	q := must(m.Encode("dd"))
	sites := []govene.Site{{Layer: 1, Component: govene.BlockOutput}, {Layer: -1, Component: govene.Embed}}
	same(t, "Run", must(m.Run([]govene.Prompt{p, q}, sites...)), must(direct.Run([]govene.Prompt{p, q}, sites...)))

	cache := must(m.RunWithCache([]govene.Prompt{q}))
	if !strings.HasPrefix(cache.ID(), "cache-") {
		t.Errorf("cache ID %q, want a session ID cache-...", cache.ID())
	}
	same(t, "Cache.Site", must(cache.Site(sites[0])), tensorOf(1, 1, 2, 4))

	iv := must(m.New(testConfig))
	same(t, "Keys", iv.Keys(), must(direct.New(testConfig)).Keys())
	same(t, "Config", iv.Config(), testConfig)

	seed := uint64(9)
	out := must(iv.Forward([]govene.Prompt{p}, govene.Sources(q), govene.SourceCacheIDs(cache.ID()),
		govene.At(1, 2), govene.Subspaces(0, 3), govene.CaptureSites(sites...), govene.WithOriginal(),
		govene.NoiseSeed(seed), govene.PyveneLocations([]byte(`[[[1]],[[2]]]`)),
		govene.SourceRepresentations(map[string][][]float32{"k": {{1, -2.5}}})))
	fiv := fake.ivs[0]
	want := govene.NewCall(govene.Sources(q), govene.SourceCacheIDs("engine-cache-0"), govene.At(1, 2), govene.Subspaces(0, 3),
		govene.CaptureSites(sites...), govene.WithOriginal(), govene.NoiseSeed(seed), govene.PyveneLocations([]byte(`[[[1]],[[2]]]`)),
		govene.SourceRepresentations(map[string][][]float32{"k": {{1, -2.5}}}))
	fiv.mu.Lock()
	got := fiv.lastCall
	fiv.mu.Unlock()
	same(t, "the call the engine got (cache IDs the engine's)", got, want)
	same(t, "Forward", out, must(fiv.Forward([]govene.Prompt{p})))

	var steps []int
	var toks [][]int
	g := must(iv.Generate([]govene.Prompt{p, q}, govene.GenerateOptions{Sampling: govene.Sampling{MaxNewTokens: 4}}, func(step int, ids []int) {
		steps, toks = append(steps, step), append(toks, ids)
	}, govene.Sources(q), govene.At(0, 1)))
	fiv.mu.Lock()
	got = fiv.lastCall
	fiv.mu.Unlock()
	same(t, "the call Generate got", got, govene.NewCall(govene.Sources(q), govene.At(0, 1)))
	same(t, "Generate", g, must(fiv.Generate([]govene.Prompt{p, q}, govene.GenerateOptions{Sampling: govene.Sampling{MaxNewTokens: 4}}, func(int, []int) {})))
	same(t, "onToken steps", steps, []int{0, 1, 2, 3})
	same(t, "onToken ids", toks, [][]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}})

	type stepEv struct {
		Step          int
		Loss, EvalIIA session.F64
	}
	var evs, wantEvs []stepEv
	cfg := govene.TrainConfig{Steps: 4, BatchSize: 2}
	rep := must(iv.Train([]govene.Example{{Base: p, Sources: []govene.Prompt{q}, Label: 1}}, nil, cfg, func(step int, loss, iia float64) {
		evs = append(evs, stepEv{step, session.F64(loss), session.F64(iia)})
	}))
	wantRep := must(fiv.Train(nil, nil, cfg, func(step int, loss, iia float64) {
		wantEvs = append(wantEvs, stepEv{step, session.F64(loss), session.F64(iia)})
	}))
	same(t, "Train report", session.TrainReportDataOf(rep), session.TrainReportDataOf(wantRep))
	same(t, "onStep events", evs, wantEvs)
	if !math.IsNaN(rep.Losses[0]) || rep.Duration != wantRep.Duration {
		t.Errorf("Train report %+v: want a NaN first loss and duration %s", rep, wantRep.Duration)
	}
	if log := progressLog.b.String(); !strings.Contains(log, "DAS: 100% (4/4)") || !strings.Contains(log, "done") {
		t.Errorf("the client showed the training progress as %q, want a log of 4 steps of 4, done", log)
	}
	progressLog.b.Reset()
	reporting := must(m.New(govene.Config{Representations: []govene.RepresentationConfig{{InterventionType: "reports_progress"}}}))
	must(reporting.Train(nil, nil, cfg, nil))
	if log := progressLog.b.String(); !strings.Contains(log, "DAS: 4% (4/100)") {
		t.Errorf("with an engine that reports its training progress the client showed %q, want 4 steps of its 100", log)
	}

	if v := must(iv.IIA(make([]govene.Example, 6), 2)); v != 0.75 {
		t.Errorf("IIA = %g, want 0.75", v)
	}
	if n := must(iv.TrainableParameters()); n != 42 {
		t.Errorf("TrainableParameters = %d, want 42", n)
	}
	wd := must(os.Getwd())
	if err := iv.Save("runs/das"); err != nil {
		t.Fatal(err)
	}
	if fiv.savedTo != filepath.Join(wd, "runs/das") {
		t.Errorf("Save gave the engine %q, want the client's absolute path %q", fiv.savedTo, filepath.Join(wd, "runs/das"))
	}
	loaded := must(m.Load("runs/das"))
	if fake.ivs[len(fake.ivs)-1].loadedFrom != filepath.Join(wd, "runs/das") || len(loaded.Keys()) != 1 {
		t.Errorf("Load gave the engine %q (keys %v), want %q", fake.ivs[len(fake.ivs)-1].loadedFrom, loaded.Keys(), filepath.Join(wd, "runs/das"))
	}

	var prog [][2]int
	sw := must(m.Patch(p, q, govene.SweepConfig{Component: govene.BlockOutput}, func(d, n int) { prog = append(prog, [2]int{d, n}) }))
	same(t, "Patch", session.SweepDataOf(sw), session.SweepDataOf(must(direct.Patch(p, q, govene.SweepConfig{}, func(int, int) {}))))
	same(t, "Patch progress", prog, [][2]int{{1, 3}, {2, 3}, {3, 3}})
	tr := must(m.Trace(p, govene.Corruption{Positions: []int{0}, Level: 0.5}, govene.SweepConfig{}, nil))
	if tr.Values[0][0] != 0.5 || !math.IsNaN(tr.Base) {
		t.Errorf("Trace = %+v, want value 0.5 and a NaN base", tr)
	}
	var comps []string
	ct := must(m.CausalTrace(govene.TraceConfig{Prompt: "ab", Subject: "a", Target: "b"}, func(c govene.Component, d, n int) {
		comps = append(comps, string(c))
	}))
	same(t, "CausalTrace", session.TraceDataOf(ct), session.TraceDataOf(must(direct.CausalTrace(govene.TraceConfig{Prompt: "ab", Subject: "a", Target: "b"}, func(govene.Component, int, int) {}))))
	same(t, "CausalTrace progress", comps, []string{"block_output", "block_output", "mlp_output", "mlp_output", "attention_output", "attention_output"})

	// Released handles.
	if err := cache.Release(); err != nil || !fake.caches[0].released.Load() {
		t.Fatalf("cache.Release = %v (engine's released: %v)", err, fake.caches[0].released.Load())
	}
	_, err := iv.Forward([]govene.Prompt{p}, govene.SourceCacheIDs(cache.ID()))
	wantErr(t, "Forward with a released cache", err, `call.source_cache_ids[0]: unknown cache ID "`+cache.ID()+`": released`)
	_, err = cache.Site(sites[0])
	wantErr(t, "a released cache's Site", err, "released")
	if err := iv.Release(); err != nil || !fiv.released.Load() {
		t.Fatalf("iv.Release = %v (engine's released: %v)", err, fiv.released.Load())
	}
	_, err = iv.Forward([]govene.Prompt{p})
	wantErr(t, "Forward after Release", err, `unknown intervenable model ID "`)
	wantErr(t, "Release twice", iv.Release(), "released")
}

// wantErr fails t unless err is an error whose text holds want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %v, want one containing %q", what, err, want)
	}
}

// TestErrors checks the requests the service refuses: unknown IDs (naming
// the ID, its kind and the field), strictly decoded requests, engine
// errors, and a Go function in a config, which the client refuses before
// sending anything.
func TestErrors(t *testing.T) {
	fake := newFake()
	srv := serve(t, fake, server.Options{})
	c := dial(t, srv, session.Options{})
	ctx := context.Background()
	m := must(c.Model(""))
	tests := []struct {
		name   string
		method string
		req    any
		field  string
		want   string
	}{
		{"unknown model ID", session.MethodEncode, session.EncodeRequest{Model: "gpt9", Text: "a"}, "model", `unknown model ID "gpt9"; the session holds ["fake"]`},
		{"unknown iv ID", session.MethodForward, session.ForwardRequest{IV: "iv-0000"}, "iv", `iv: unknown intervenable model ID "iv-0000": never made in this session`},
		{"unknown iv to release", session.MethodRelease, session.IDRequest{ID: "x"}, "id", `unknown intervenable model ID "x"`},
		{"unknown cache", session.MethodCacheSite, session.CacheSiteRequest{Cache: "cache-1"}, "cache", `unknown cache ID "cache-1"`},
		{"unknown field", session.MethodEncode, map[string]any{"model": "fake", "txt": "a"}, "txt", `unknown field "txt"`},
		{"wrong type", session.MethodTokens, map[string]any{"model": "fake", "ids": "a"}, "ids", `field "ids"`},
		{"engine error", session.MethodTokens, session.TokensRequest{Model: "fake", IDs: []int{7}}, "", "model.tokens: fake: id 7 is outside the vocabulary"},
		{"unknown model name", session.MethodModel, session.ModelRequest{Name: "gpt9"}, "", `model: fake: unknown model "gpt9"`},
		{"sites with a cache run", session.MethodRunWithCache, session.RunRequest{Model: "fake", Sites: []govene.Site{{Layer: -1, Component: govene.Embed}}}, "sites", "give no sites"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Call(ctx, tc.method, tc.req, nil)
			var se *session.Error
			if !errors.As(err, &se) || !strings.Contains(se.Message, tc.want) || se.Field != tc.field {
				t.Errorf("%s: %#v, want a *session.Error with field %q containing %q", tc.method, err, tc.field, tc.want)
			}
		})
	}

	before := must(c.Status(ctx)).Requests
	cfg := testConfig
	cfg.Representations = append([]govene.RepresentationConfig(nil), cfg.Representations...)
	cfg.Representations[1].Intervention = func(base, source any) any { return base }
	_, err := m.New(cfg)
	if !errors.Is(err, session.ErrNotData) || !strings.Contains(err.Error(), "representations[1].Intervention") || !strings.Contains(err.Error(), "pv.Register") {
		t.Errorf("New with a Go function: %v, want ErrNotData naming representations[1] and pv.Register", err)
	}
	if after := must(c.Status(ctx)).Requests; after != before+1 { // +1: the status call itself
		t.Errorf("the refused New reached the session: requests %d -> %d", before, after)
	}
	if len(fake.ivs) != 0 {
		t.Errorf("the engine made %d intervenable models, want none", len(fake.ivs))
	}
}

// TestPanicKeepsServing checks that an engine method that panics fails
// its call only.
func TestPanicKeepsServing(t *testing.T) {
	srv := serve(t, newFake(), server.Options{})
	c := dial(t, srv, session.Options{})
	m := must(c.Model("fake"))
	_, err := m.Encode("panic")
	wantErr(t, "a panicking Encode", err, "method model.encode panicked: fake: Encode panics")
	_, err = c.Model("panic")
	wantErr(t, "a panicking Model", err, "panicked")
	if p := must(m.Encode("ab")); !reflect.DeepEqual(p.IDs, []int{0, 1}) {
		t.Errorf("after the panics Encode(ab) = %v, want [0 1]", p.IDs)
	}
}

// TestConcurrentClients runs clients at once, each with its own handles,
// next to a slow call.
func TestConcurrentClients(t *testing.T) {
	fake := newFake()
	srv := serve(t, fake, server.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	slow := dial(t, srv, session.Options{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		m, err := slow.Model("fake")
		if err == nil {
			_, err = m.TokenID("slow")
		}
		errs <- err
	}()
	for i := range 8 {
		c := dial(t, srv, session.Options{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				m, err := c.Model("fake")
				if err != nil {
					return err
				}
				p, err := m.Encode(strings.Repeat("abcde", i+1)[:i+1])
				if err != nil {
					return err
				}
				iv, err := m.New(testConfig)
				if err != nil {
					return err
				}
				for range 5 {
					out, err := iv.Forward([]govene.Prompt{p})
					if err != nil {
						return err
					}
					if out.Logits.Shape[1] != i+1 {
						return fmt.Errorf("client %d got logits of shape %v, want [1 %d 5]", i, out.Logits.Shape, i+1)
					}
				}
				return iv.Release()
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	r, err := service.ReportOf(must(slow.Status(context.Background())))
	if err != nil || len(r.Intervenables) != 0 || len(fake.ivs) != 8 {
		t.Errorf("after every client released its model the session holds %+v (%v); the engine made %d, want 8", r.Intervenables, err, len(fake.ivs))
	}
}

// TestLimits checks that requests and results over the server's limits are
// refused with errors that name the limit, and the session goes on.
func TestLimits(t *testing.T) {
	srv := serve(t, newFake(), server.Options{MaxRequestBytes: 8192, MaxResponseBytes: 16 << 10})
	c := dial(t, srv, session.Options{})
	m := must(c.Model("fake"))
	_, err := m.Encode(strings.Repeat("a", 9000))
	wantErr(t, "a request over MaxRequestBytes", err, "over the session's limit of 8192 bytes")
	long := govene.Prompt{IDs: must(m.Encode(strings.Repeat("abcde", 20))).IDs} // 100 tokens: 2 kB of logits each
	_, err = m.Run(slices.Repeat([]govene.Prompt{long}, 10))
	wantErr(t, "a result over MaxResponseBytes", err, "over the limit of 16384 bytes")
	if _, err := m.Run([]govene.Prompt{long}); err != nil {
		t.Errorf("a result within the limits: %v", err)
	}
}

// TestGone checks that a call to a session that stopped says so.
func TestGone(t *testing.T) {
	srv := serve(t, newFake(), server.Options{})
	c := dial(t, srv, session.Options{})
	m := must(c.Model("fake"))
	srv.Stop("test")
	for i := 0; ; i++ { // Serve removes the socket once it has shut down
		_, err := m.Encode("a")
		if errors.Is(err, session.ErrGone) {
			wantErr(t, "a call after the session stopped", err, "session.Connect starts a new one")
			break
		}
		if i == 100 {
			t.Fatalf("100 calls after Stop: %v, want ErrGone", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStatusReport checks the "engine" section of the status: models with
// their sizes, intervenable models with keys and config, caches, and the
// engine's compile count.
func TestStatusReport(t *testing.T) {
	fake := newFake()
	srv := serve(t, fake, server.Options{})
	c := dial(t, srv, session.Options{})
	m := must(c.Model("fake"))
	p := must(m.Encode("abc"))
	must(m.Run([]govene.Prompt{p}))
	iv := must(m.New(testConfig))
	cache := must(m.RunWithCache([]govene.Prompt{p}))
	st := must(c.Status(context.Background()))
	r, err := service.ReportOf(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Models) != 1 || r.Models[0].ID != "fake" || !r.Models[0].Dims.Equal(fakeDims) || !strings.Contains(r.Models[0].Describe, "backend") {
		t.Errorf("models %+v, want fake with its dims and description", r.Models)
	}
	if len(r.Intervenables) != 1 || !reflect.DeepEqual(r.Intervenables[0].Keys, iv.Keys()) ||
		r.Intervenables[0].Config != "parallel: collect@blocks.1.block_output, rotated_space@blocks.0.mlp_output" || r.Intervenables[0].Model != "fake" {
		t.Errorf("intervenables %+v, want one with keys %v", r.Intervenables, iv.Keys())
	}
	if len(r.Caches) != 1 || r.Caches[0].ID != cache.ID() || r.Caches[0].LastUse.IsZero() {
		t.Errorf("caches %+v, want %s", r.Caches, cache.ID())
	}
	if r.Compiles != 1 {
		t.Errorf("compiles %d, want 1", r.Compiles)
	}
	if !strings.Contains(st.String(), "engine: ") {
		t.Errorf("the status text lacks the engine section:\n%s", st)
	}
}
