// Package models loads a model by the name a user gives: the shipped
// model, $GOVENE_MODEL's, a checkpoint folder or a Hugging Face name. The
// notebooks' helpers (nb), the tutorials and the engine share it.
package models

import (
	"fmt"
	"os"

	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/shipped"
)

// Env names the environment variable that, when set, chooses the model
// loaded for an empty name instead of the shipped one.
const Env = "GOVENE_MODEL"

// Shipped is the name of the small GPT-2 that ships with govene (package
// shipped).
const Shipped = "shipped"

// Resolve returns the name Load loads for name: name itself, or for ""
// $GOVENE_MODEL, else Shipped.
func Resolve(name string) string {
	if name == "" {
		name = os.Getenv(Env)
	}
	if name == "" {
		return Shipped
	}
	return name
}

// Load loads the model Resolve(name) names with opt: the shipped model
// for Shipped, else a checkpoint folder, a Hugging Face cache name or a Hub
// name (gpt2.LoadWith). It returns the loader's error, which names the
// model, for a model that cannot be found or read.
func Load(name string, opt gpt2.Options) (*gpt2.Model, error) {
	if name = Resolve(name); name == Shipped {
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
	return 0, fmt.Errorf("%q is not one token for this tokenizer (it encodes to %d tokens %q); give a single token such as \" Paris\"",
		token, len(toks), toks)
}
