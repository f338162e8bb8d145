package pv

import (
	"errors"
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/govene/govene"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/train"
)

// Data returns the output as plain data (govene.Output): the logits, the
// original logits, the collected values and the captured sites, copied to
// float32 slices. It returns an error for an empty output (not one of
// Forward) or a tensor that is not float32, naming it.
func (o *Output) Data() (*govene.Output, error) {
	if o == nil || o.Base == nil || o.Logits == nil {
		return nil, errors.New("pv: output data: empty output; use the Output of Forward")
	}
	logits, err := tensorData("logits", o.Logits)
	if err != nil {
		return nil, err
	}
	out := &govene.Output{Lengths: append([]int(nil), o.Base.Lengths...), Logits: logits}
	if o.Original != nil {
		orig, err := tensorData("original", o.Original)
		if err != nil {
			return nil, err
		}
		out.Original = &orig
	}
	if len(o.Collected) > 0 {
		out.Collected = make(map[string]govene.Tensor, len(o.Collected))
		for k, t := range o.Collected {
			if out.Collected[k], err = tensorData(fmt.Sprintf("collected[%q]", k), t); err != nil {
				return nil, err
			}
		}
	}
	if len(o.Sites) > 0 {
		out.Sites = make(map[string]govene.Tensor, len(o.Sites))
		for s, t := range o.Sites {
			if out.Sites[s.String()], err = tensorData(fmt.Sprintf("sites[%s]", s), t); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// tensorData copies t into a govene.Tensor (lm.TensorData); what names
// it in errors.
func tensorData(what string, t *tensors.Tensor) (govene.Tensor, error) {
	d, err := lm.TensorData(t)
	if err != nil {
		return govene.Tensor{}, fmt.Errorf("pv: output data: %s: %w", what, err)
	}
	return d, nil
}

// Example is one training or evaluation example of an interchange
// intervention: a base, its sources (one per source group), where to
// intervene, and the token the intervened model should predict after the
// base's last token; see govene.Example.
type Example = govene.Example

// TrainReport summarizes a training run; see govene.TrainReport.
type TrainReport = govene.TrainReport

// Data returns the data of cfg (govene.TrainConfig): every field but
// Progress and OnStep.
func (cfg TrainConfig) Data() govene.TrainConfig {
	return govene.TrainConfig{Adam: govene.Adam(cfg.Adam), Epochs: cfg.Epochs, BatchSize: cfg.BatchSize,
		Steps: cfg.Steps, TemperatureStart: cfg.TemperatureStart, TemperatureEnd: cfg.TemperatureEnd,
		BoundaryL1: cfg.BoundaryL1, TrainModel: cfg.TrainModel, Patience: cfg.Patience,
		EvalEvery: cfg.EvalEvery, Seed: cfg.Seed}
}

// TrainConfigFrom returns the TrainConfig of data g, with no Progress
// writer (the default, os.Stderr) and no OnStep callback. Train checks its
// values.
func TrainConfigFrom(g govene.TrainConfig) TrainConfig {
	return TrainConfig{Adam: train.Adam(g.Adam), Epochs: g.Epochs, BatchSize: g.BatchSize,
		Steps: g.Steps, TemperatureStart: g.TemperatureStart, TemperatureEnd: g.TemperatureEnd,
		BoundaryL1: g.BoundaryL1, TrainModel: g.TrainModel, Patience: g.Patience,
		EvalEvery: g.EvalEvery, Seed: g.Seed}
}

// Data returns the data of g (govene.GenerateOptions): every field but
// OnToken.
func (g GenerateOptions) Data() govene.GenerateOptions {
	return govene.GenerateOptions{Sampling: g.Sampling, InterveneOnPrompt: g.InterveneOnPrompt,
		EveryStep: g.EveryStep, Steps: g.Steps}
}

// GenerateOptionsFrom returns the GenerateOptions of data g, with no
// OnToken callback. Generate checks its values.
func GenerateOptionsFrom(g govene.GenerateOptions) GenerateOptions {
	return GenerateOptions{Sampling: g.Sampling, InterveneOnPrompt: g.InterveneOnPrompt,
		EveryStep: g.EveryStep, Steps: g.Steps}
}

// Data returns the generation as data (govene.Generation), the collected
// and captured values copied to float32 slices; nil for a nil generation.
// A value that is nil or not float32 (Generate returns none) leaves its
// key or site out.
func (g *Generation) Data() *govene.Generation {
	if g == nil {
		return nil
	}
	d := &govene.Generation{Tokens: g.Tokens, NewTokens: g.NewTokens,
		Original: g.Original, OriginalNewTokens: g.OriginalNewTokens}
	if g.Base != nil {
		d.Lengths = append([]int(nil), g.Base.Lengths...)
	}
	if len(g.Collected) > 0 {
		d.Collected = make(map[string][]govene.Tensor, len(g.Collected))
		for k, ts := range g.Collected {
			if v, err := passData(fmt.Sprintf("collected[%q]", k), ts); err == nil {
				d.Collected[k] = v
			}
		}
	}
	if len(g.Sites) > 0 {
		d.Sites = make(map[string][]govene.Tensor, len(g.Sites))
		for s, ts := range g.Sites {
			if v, err := passData(fmt.Sprintf("sites[%s]", s), ts); err == nil {
				d.Sites[s.String()] = v
			}
		}
	}
	return d
}
