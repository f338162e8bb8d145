package govene

import (
	"strings"
	"testing"
)

func TestParseSite(t *testing.T) {
	tests := []struct {
		name    string
		want    Site
		wantErr string
	}{
		{"blocks.3.block_output", Site{3, BlockOutput}, ""},
		{"blocks.0.head_attention_value_output", Site{0, HeadAttentionValueOutput}, ""},
		{"embed", Site{-1, Embed}, ""},
		{"logits", Site{-1, Logits}, ""},
		{"blocks.x.block_output", Site{}, "not a non-negative integer"},
		{"blocks.-1.block_output", Site{}, "not a non-negative integer"},
		{"blocks.2.resid_post", Site{}, "unknown component \"resid_post\""},
		{"h.2.block_output", Site{}, "want \"blocks.LAYER.COMPONENT\""},
	}
	for _, tt := range tests {
		got, err := ParseSite(tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSite(%q) error = %v, want it to contain %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSite(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
		if got.String() != tt.name {
			t.Errorf("Site.String() = %q, want %q", got.String(), tt.name)
		}
	}
}

func TestCheckSite(t *testing.T) {
	d := Dims{Layers: 2, Heads: 2, Hidden: 8, HeadDim: 4, Inner: 32, Vocab: 10, Positions: 16}
	if err := d.CheckSite(Site{1, MLPActivation}); err != nil {
		t.Error(err)
	}
	if err := d.CheckSite(Site{2, MLPActivation}); err == nil || !strings.Contains(err.Error(), "out of range [0, 2)") {
		t.Errorf("layer 2 of 2: got %v", err)
	}
	if err := d.CheckSite(Site{0, "mlp_act"}); err == nil || !strings.Contains(err.Error(), "mlp_activation") {
		t.Errorf("unknown component should list valid ones, got %v", err)
	}
	if got := d.Width(MLPActivation); got != 32 {
		t.Errorf("Width(mlp_activation) = %d", got)
	}
	if got := d.Width(HeadKeyOutput); got != 4 {
		t.Errorf("Width(head_key_output) = %d", got)
	}
}
