package service_test

import (
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/engine"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
)

// benchModels returns the shipped model in process and through a session
// serving the same engine, and a 16-token prompt.
func benchModels(b *testing.B) (local, remote govene.Model, p govene.Prompt) {
	b.Helper()
	eng, err := engine.New(engine.Options{Backend: "go"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	if local, err = eng.Model("shipped"); err != nil {
		b.Fatal(err)
	}
	c := dial(b, serve(b, eng, server.Options{}), session.Options{})
	if remote, err = c.Model("shipped"); err != nil {
		b.Fatal(err)
	}
	if p, err = local.Encode("The Eiffel Tower is in the city of Paris, and the Colosseum"); err != nil {
		b.Fatal(err)
	}
	if p.Len() < 16 {
		b.Fatalf("the prompt has %d tokens, want at least 16", p.Len())
	}
	p.IDs, p.Tokens = p.IDs[:16], p.Tokens[:16]
	return local, remote, p
}

// BenchmarkSessionForward is a patched forward of 16 tokens on the shipped
// model with the last-position logits (what a notebook's patching cell
// does), in process and through a session: their difference is what the
// session adds.
func BenchmarkSessionForward(b *testing.B) {
	local, remote, p := benchModels(b)
	cfg := govene.Config{Representations: []govene.RepresentationConfig{
		{Layer: 5, Component: govene.BlockOutput, InterventionType: govene.Vanilla}}}
	for _, m := range []struct {
		name  string
		model govene.Model
	}{{"engine", local}, {"session", remote}} {
		b.Run(m.name, func(b *testing.B) {
			iv, err := m.model.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			opts := []govene.CallOption{govene.Sources(p), govene.At(p.Last(), p.Last()), govene.LastLogitsOnly()}
			if _, err := iv.Forward([]govene.Prompt{p}, opts...); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := iv.Forward([]govene.Prompt{p}, opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSessionLogits runs 16 tokens and returns every position's
// logits (16 x 50257 float32, 3.2 MB), in process and through a session.
func BenchmarkSessionLogits(b *testing.B) {
	local, remote, p := benchModels(b)
	for _, m := range []struct {
		name  string
		model govene.Model
	}{{"engine", local}, {"session", remote}} {
		b.Run(m.name, func(b *testing.B) {
			out, err := m.model.Run([]govene.Prompt{p}) // compile
			if err != nil {
				b.Fatal(err)
			}
			if got := len(out.Logits.Data); got != 16*50257 {
				b.Fatalf("%d logits, want 16 x 50257", got)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := m.model.Run([]govene.Prompt{p}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
