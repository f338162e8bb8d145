// Package service serves a govene.Engine in a session: Register adds one
// session method per method of govene.Engine, Model, Intervenable and
// Cache (session.MethodModel, ...), which session.Client calls, so that a
// notebook cell's session.Connect and engine.New are interchangeable.
//
// The session holds the engine's values in handle tables: models by name,
// intervenable models and caches by fresh random IDs. A request naming an
// ID the session does not hold (released, or never made) is an error that
// names the ID and its kind. Callbacks become stream events (tokens,
// training steps, progress), which the client passes to the caller's
// callbacks; nothing is shown in the session's log. Paths (Save, Load)
// are passed to the engine as the client sent them (absolute: the client
// resolves them against its own folder); the service opens no file.
package service

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/govene/govene"
	"github.com/govene/govene/session"
	"github.com/govene/govene/session/server"
)

// ProgressTrainer is an Intervenable whose training reports its progress
// to onProgress (steps done and their total) instead of showing it in the
// process. The in-process engine's intervenable models should implement
// it: a session's bar would go to its log. Without it the service derives
// the progress from the steps (the total from TrainConfig.Steps, or
// Epochs and BatchSize when given, else unknown).
type ProgressTrainer interface {
	TrainProgress(data, eval []govene.Example, cfg govene.TrainConfig,
		onStep func(step int, loss, evalIIA float64), onProgress func(done, total int)) (*govene.TrainReport, error)
}

// Compiler is an engine (or a model) that counts the graphs it compiled;
// the status report shows the count.
type Compiler interface {
	Compiles() int64
}

// Service serves one engine; Register makes one.
type Service struct {
	eng govene.Engine
	h   *handles
}

// Register registers the engine service's methods on srv, serving eng,
// and the status report's "engine" section. It returns an error when eng
// is nil or a method is already registered (Register called twice).
func Register(srv *server.Server, eng govene.Engine) error {
	if srv == nil || eng == nil {
		return errors.New("service: Register needs a server and an engine")
	}
	s := &Service{eng: eng, h: newHandles()}
	for _, m := range s.methods() {
		if err := srv.Handle(m.name, m.h); err != nil {
			return fmt.Errorf("service: %w", err)
		}
	}
	srv.Report("engine", func() any { return s.Report() })
	return nil
}

// method is one registered method.
type method struct {
	name string
	h    server.Handler
}

// handle returns a handler that decodes a request of type Req strictly
// (the server has already bounded its size) and runs f.
func handle[Req any](name string, f func(ctx context.Context, req *Req, emit server.Emitter) (any, error)) method {
	return method{name: name, h: func(ctx context.Context, body []byte, emit server.Emitter) (any, error) {
		var req Req
		if err := session.DecodeRequest(body, &req, math.MaxInt64); err != nil {
			return nil, err
		}
		return f(ctx, &req, emit)
	}}
}

// wrap names the method in an engine's error, keeping a *session.Error's
// field.
func wrap(method string, err error) error {
	if err == nil {
		return nil
	}
	var se *session.Error
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %w", method, err)
}

// modelID is the ID a model is held by: its name, else the name asked
// for, else "default".
func modelID(m govene.Model, asked string) string {
	for _, id := range []string{m.Name(), asked} {
		if strings.TrimSpace(id) != "" {
			return id
		}
	}
	return "default"
}

// progressEmitter returns an onProgress callback that streams progress
// events (an event the caller cannot take is dropped: the work goes on).
func progressEmitter(emit server.Emitter) func(done, total int) {
	return func(done, total int) {
		_ = emit(session.Event{Kind: session.EventProgress, Done: done, Total: total})
	}
}
