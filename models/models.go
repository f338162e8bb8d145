// Package models loads a language model of any family govene supports by
// the name a user gives: the shipped model, $GOVENE_MODEL's, a checkpoint
// folder, a Hugging Face cache name or a Hub name. It reads the
// checkpoint's config.json to pick the family (model_type, else
// architectures) and returns a Model, which the notebooks' helpers (nb),
// the tutorials, the engine and the command line use without knowing the
// family.
package models

import (
	"errors"
	"fmt"
	"os"

	"github.com/gomlx/compute"

	"github.com/govene/govene/backend"
	"github.com/govene/govene/bpe"
	"github.com/govene/govene/gpt2"
	"github.com/govene/govene/hub"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/shipped"
)

// Model is a loaded language model of any family: lm.TextModel (sizes,
// weights, forward graph with hooks, tokenizer) plus what the tools above
// the model layer use. *gpt2.Model implements it.
type Model interface {
	lm.TextModel
	// Family names the architecture as config.json's model_type does:
	// "gpt2", "gpt_neox", "llama", "mistral", "qwen2", "gemma2".
	Family() string
	// Source returns where the model was loaded from (a folder), or a
	// description such as "random weights (seed 1)".
	Source() string
	// String describes the model in one line: family, sizes, source.
	String() string
	// Tokenizer returns the model's tokenizer (Decode, VocabSize, EOT).
	Tokenizer() *bpe.Tokenizer
	// Run runs prompts, left-padded into one batch, and returns the
	// logits and the values at sites (none: logits only). It returns an
	// error for an empty or too long prompt, an id outside the vocabulary
	// or a site the model does not have.
	Run(prompts []lm.Prompt, sites ...lm.Site) (*lm.Result, error)
}

var _ Model = (*gpt2.Model)(nil)

// Options configure Load. The zero value loads onto the backend
// backend.For picks for a small workload, with the checkpoint's own
// tokenizer, looking up names in the Hugging Face cache and Hub as
// huggingface_hub does.
type Options struct {
	// Backend to place the weights on; nil means the one backend.For picks
	// for Workload.
	Backend compute.Backend
	// Workload says what the model will run, for backend.For when Backend
	// is nil; its Params is filled in from the checkpoint's config.
	Workload backend.Workload
	// Hub configures the Hugging Face cache and Hub lookup of a name that
	// is not a folder (revision, cache folder, offline mode, token,
	// progress output).
	Hub hub.Options
	// Tokenizer overrides the checkpoint's tokenizer; nil keeps it.
	Tokenizer *bpe.Tokenizer
	// Devices lists the backend's devices that batched work (Run, pv,
	// sweeps, jobs) is split across, each running its part of the batch;
	// nil means lm.DefaultDevices' choice (every device, except on a host
	// CPU: device 0), []int{lm.All} every device. Listed devices are always
	// used as given; a device number out of range is an error at load.
	Devices []int
}

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

// Load loads the model Resolve(name) names with opt: the shipped GPT-2 for
// Shipped, else the checkpoint folder, Hugging Face cache entry or Hub
// repository name names (hub.ResolveModel, which may download it, its
// weights in model.safetensors or sharded behind
// model.safetensors.index.json), whose config.json (model_type, else architectures[0]) picks the family's
// loader. It returns an error naming the model for one that cannot be
// found or read, and one naming the model_type and the supported families
// for a family govene does not load.
func Load(name string, opt Options) (Model, error) {
	if name = Resolve(name); name == Shipped {
		m, err := shipped.Load(opt.gpt2())
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	dir, err := hub.ResolveModel(name, opt.Hub)
	if err != nil {
		return nil, fmt.Errorf("models: load %s: %w", name, err)
	}
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, fmt.Errorf("models: load %s: %w", name, err)
	}
	load, ok := loaders[info.Family]
	if !ok {
		return nil, fmt.Errorf("models: load %s: config.json's model_type %q is not supported; supported: %v", name, info.Family, Families())
	}
	m, err := load(dir, opt)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("models: load %s: the %s loader returned no model", name, info.Family)
	}
	return m, nil
}

// gpt2 returns opt as gpt2.Options.
func (o Options) gpt2() gpt2.Options {
	return gpt2.Options{Backend: o.Backend, Workload: o.Workload, Tokenizer: o.Tokenizer, Devices: o.Devices}
}

// TokenID returns the id of a text that is one token for m's tokenizer,
// such as " Paris" (with its leading space). It returns an error naming the
// text and the tokens it splits into when it is not one token (as for a
// tokenizer whose vocabulary spells the word differently).
func TokenID(m lm.Tokenizer, token string) (int, error) {
	if m == nil {
		return 0, errors.New("models: token id: no model")
	}
	if id, ok := m.TokenID(token); ok {
		return id, nil
	}
	toks := m.Encode(token).Tokens
	return 0, fmt.Errorf("%q is not one token for this tokenizer (it encodes to %d tokens %q); give a single token such as \" Paris\"",
		token, len(toks), toks)
}

// CheckText returns an error naming m's source when m has no tokenizer (a
// checkpoint without tokenizer.json), for tools that start from text; nil
// otherwise.
func CheckText(m Model) error {
	if m.Tokenizer() == nil {
		return fmt.Errorf("%s has no tokenizer (no tokenizer.json in its checkpoint), and this starts from text", m.Source())
	}
	return nil
}
