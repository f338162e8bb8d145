package job

import (
	"strings"
	"testing"

	"github.com/govene/govene/lm"
)

// TestValidate checks that every bad spec is refused with an error naming
// the field and the value, and that good ones pass.
func TestValidate(t *testing.T) {
	ok := Spec{Kind: Collect, Dataset: "d.jsonl", Out: "o", Sites: []string{"blocks.1.block_output"}}
	with := func(f func(*Spec)) Spec { s := ok; s.Sites = append([]string(nil), ok.Sites...); f(&s); return s }
	tests := []struct {
		name string
		spec Spec
		want []string // "" entries: valid
	}{
		{"collect", ok, nil},
		{"collect all, alternative site spelling", with(func(s *Spec) { s.Positions = All; s.Sites = []string{"block_output.3", "embed"} }), nil},
		{"patch", with(func(s *Spec) { s.Kind = Patch }), nil},
		{"iia with intervenable", with(func(s *Spec) { s.Kind = IIA; s.Sites = nil; s.Intervenable = "iv" }), nil},
		{"devices", with(func(s *Spec) { s.Devices = []int{0, 3} }), nil},
		{"unknown kind", with(func(s *Spec) { s.Kind = "train" }), []string{`kind "train"`, "collect, patch, iia"}},
		{"no dataset", with(func(s *Spec) { s.Dataset = "" }), []string{"dataset is empty"}},
		{"no out", with(func(s *Spec) { s.Out = "" }), []string{"out is empty"}},
		{"negative shard size", with(func(s *Spec) { s.ShardSize = -1 }), []string{"shard_size -1"}},
		{"huge batch", with(func(s *Spec) { s.BatchSize = MaxBatchSize + 1 }), []string{"batch_size 4097", "[1, 4096]"}},
		{"negative device", with(func(s *Spec) { s.Devices = []int{1, -2} }), []string{"devices[1] = -2", "non-negative"}},
		{"repeated device", with(func(s *Spec) { s.Devices = []int{1, 1} }), []string{"devices [1 1]", "device 1 is given twice"}},
		{"bad site", with(func(s *Spec) { s.Sites = []string{"blocks.x.mlp"} }), []string{"sites[0]", `"blocks.x.mlp"`}},
		{"repeated site", with(func(s *Spec) { s.Sites = []string{"blocks.1.block_output", "block_output.1"} }), []string{"sites[1]", "given twice"}},
		{"collect without sites", with(func(s *Spec) { s.Sites = nil }), []string{"sites is empty"}},
		{"collect positions", with(func(s *Spec) { s.Positions = "first" }), []string{`positions "first"`, `"last" or "all"`}},
		{"collect attention pattern", with(func(s *Spec) { s.Sites = []string{"blocks.1.attention_weight"} }), []string{"attention_weight", "cannot store"}},
		{"collect intervenable", with(func(s *Spec) { s.Intervenable = "iv" }), []string{`intervenable "iv"`, "collect takes none"}},
		{"patch two sites", with(func(s *Spec) { s.Kind = Patch; s.Sites = []string{"embed", "blocks.1.mlp_output"} }), []string{"exactly one site"}},
		{"patch all positions", with(func(s *Spec) { s.Kind = Patch; s.Positions = All }), []string{`positions "all"`, "last position only"}},
		{"iia sites and intervenable", with(func(s *Spec) { s.Kind = IIA; s.Intervenable = "iv" }), []string{"give one or the other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nlacks %q", err, w)
				}
			}
		})
	}
}

// TestParseSite checks both spellings of a site and the error of neither.
func TestParseSite(t *testing.T) {
	for name, want := range map[string]lm.Site{
		"blocks.3.block_output": {Layer: 3, Component: lm.BlockOutput},
		"block_output.3":        {Layer: 3, Component: lm.BlockOutput},
		"head_result.0":         {Layer: 0, Component: lm.HeadResult},
		"embed":                 {Layer: -1, Component: lm.Embed},
	} {
		got, err := ParseSite(name)
		if err != nil || got != want {
			t.Errorf("ParseSite(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := ParseSite("block_output.x"); err == nil {
		t.Error(`ParseSite("block_output.x"): nil error`)
	}
}

// TestSpecHash checks that the hash changes with every output-defining
// field and not with paths or devices.
func TestSpecHash(t *testing.T) {
	base := Spec{Kind: Collect, Dataset: "d", Out: "o", Sites: []string{"blocks.1.block_output"}}
	h := base.hash()
	same := []Spec{
		func() Spec { s := base; s.Out = "elsewhere"; return s }(),
		func() Spec { s := base; s.Dataset = "other.jsonl"; return s }(),
		func() Spec { s := base; s.Devices = []int{1}; return s }(),
		func() Spec { s := base; s.ShardSize = DefaultShardSize; s.Positions = Last; return s }(),
		func() Spec { s := base; s.Sites = []string{"block_output.1"}; return s }(),
	}
	for i, s := range same {
		if s.hash() != h {
			t.Errorf("same[%d] %+v: hash differs", i, s)
		}
	}
	differ := []Spec{
		func() Spec { s := base; s.Model = "gpt2"; return s }(),
		func() Spec { s := base; s.Backend = "xla"; return s }(),
		func() Spec { s := base; s.BatchSize = 3; return s }(),
		func() Spec { s := base; s.ShardSize = 3; return s }(),
		func() Spec { s := base; s.Positions = All; return s }(),
		func() Spec { s := base; s.Sites = []string{"blocks.2.block_output"}; return s }(),
	}
	for i, s := range differ {
		if s.hash() == h {
			t.Errorf("differ[%d] %+v: same hash", i, s)
		}
	}
}
