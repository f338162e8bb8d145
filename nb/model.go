package nb

import (
	"fmt"
	"os"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/shipped"
)

// ModelEnv names the environment variable that, when set, chooses the model
// every notebook and tutorial runs on instead of the shipped one: a
// checkpoint folder, a Hugging Face cache name or a Hub name such as "gpt2".
const ModelEnv = "GOVENE_MODEL"

// LoadModel returns the model named by $GOVENE_MODEL if it is set, else the
// small GPT-2 that ships with govene (package shipped) on the pure-Go
// backend: GoNB rebuilds and reruns the whole program in every cell, and
// for a model this small XLA would spend longer compiling than running. It
// returns the loader's error for a model that cannot be found or read.
func LoadModel() (*gpt2.Model, error) {
	if os.Getenv(ModelEnv) != "" {
		return LoadNamed("", backend.Workload{})
	}
	b, err := backend.New(backend.GoConfig)
	if err != nil {
		return nil, fmt.Errorf("nb: pure-Go backend %q: %w", backend.GoConfig, err)
	}
	return shipped.Load(gpt2.Options{Backend: b})
}

// LoadModelFor is LoadModel for a notebook that does work large enough to
// matter (training, say): the model, $GOVENE_MODEL's or the shipped one, goes
// on the backend that backend.For picks for w (XLA's CPU plugin when it is
// installed and w is large, else the pure-Go backend). It returns the
// loader's or the backend's error.
func LoadModelFor(w backend.Workload) (*gpt2.Model, error) {
	return LoadNamed("", w)
}

// LoadNamed loads the model called name (a checkpoint folder, a Hugging Face
// cache name or a Hub name), $GOVENE_MODEL's when name is empty, or the
// shipped model when both are empty, on the backend that backend.For picks
// for the work w (its Params filled in from the checkpoint). It returns the
// loader's error for a model that cannot be found or read.
func LoadNamed(name string, w backend.Workload) (*gpt2.Model, error) {
	if name == "" {
		name = os.Getenv(ModelEnv)
	}
	opt := gpt2.Options{Workload: w}
	if name == "" {
		return shipped.Load(opt)
	}
	return gpt2.LoadWith(name, gpt2.LoadOptions{Options: opt})
}

// TokenID returns the id of a text that is one token for m's tokenizer,
// such as " Paris" (with its leading space). It returns an error naming the
// text and the tokens it splits into when it is not one token.
func TokenID(m *gpt2.Model, token string) (int, error) {
	if id, ok := m.Tokenizer().ID(token); ok {
		return id, nil
	}
	toks := m.Encode(token).Tokens
	return 0, fmt.Errorf("nb: %q is not one token for this tokenizer (it encodes to %d tokens %q); give a single token such as \" Paris\"",
		token, len(toks), toks)
}
