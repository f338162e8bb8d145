package lm

import (
	"slices"
	"strings"
	"testing"
)

func TestNewBatch(t *testing.T) {
	b, err := NewBatch([]Prompt{{IDs: []int{5, 6, 7}}, {IDs: []int{8}}}, 0, 9, 10)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len != 3 || b.Size != 2 {
		t.Fatalf("got size %d len %d", b.Size, b.Len)
	}
	if want := []int32{5, 6, 7, 9, 9, 8}; !slices.Equal(b.IDs, want) {
		t.Errorf("IDs = %v, want %v", b.IDs, want)
	}
	if want := []float32{1, 1, 1, 0, 0, 1}; !slices.Equal(b.Mask, want) {
		t.Errorf("Mask = %v, want %v", b.Mask, want)
	}
	if want := []int32{0, 1, 2, 1, 1, 0}; !slices.Equal(b.Positions, want) {
		t.Errorf("Positions = %v, want %v", b.Positions, want)
	}
	if b.Offset(1) != 2 {
		t.Errorf("Offset(1) = %d", b.Offset(1))
	}
	bad := []struct {
		prompts []Prompt
		length  int
		want    string
	}{
		{nil, 0, "no prompts"},
		{[]Prompt{{}}, 0, "prompt 0 is empty"},
		{[]Prompt{{IDs: []int{1, 10}}}, 0, "id 10 out of range [0, 10)"},
		{[]Prompt{{IDs: []int{-1}}}, 0, "id -1 out of range"},
		{[]Prompt{{IDs: []int{1, 2, 3}}}, 2, "longer than the batch length 2"},
	}
	for _, tt := range bad {
		if _, err := NewBatch(tt.prompts, tt.length, 0, 10); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewBatch(%v) error = %v, want %q", tt.prompts, err, tt.want)
		}
	}
}

func TestBucketLength(t *testing.T) {
	for _, tt := range []struct{ n, limit, want int }{
		{1, 1024, 16}, {16, 1024, 16}, {17, 1024, 32}, {600, 1024, 1024}, {40, 40, 40}, {3000, 4096, 3000},
	} {
		if got := BucketLength(tt.n, tt.limit, DefaultBuckets); got != tt.want {
			t.Errorf("BucketLength(%d, %d) = %d, want %d", tt.n, tt.limit, got, tt.want)
		}
	}
	if !SlowCompile("xla:cuda") || SlowCompile("Go Backend") {
		t.Error("SlowCompile: XLA compiles slowly, the Go backend does not")
	}
}

func TestArgmax(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		want int
	}{
		{nil, -1},
		{[]float32{3}, 0},
		{[]float32{1, 5, 2}, 1},
		{[]float32{-4, -1, -1}, 1}, // first on ties
		{[]float32{0, 0, 7}, 2},
	} {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestAllSitesSkipsAbsent(t *testing.T) {
	all := AllSites(Dims{Layers: 2})
	if want := 2*len(LayerComponents) + len(GlobalComponents); len(all) != want {
		t.Errorf("AllSites of a 2-layer model: %d sites, want %d", len(all), want)
	}
	if !slices.Contains(all, Site{Layer: 1, Component: MLPPost}) {
		t.Error("AllSites lacks blocks.1.mlp_post")
	}
	some := AllSites(Dims{Layers: 2, Absent: []Component{PosEmbed, ResidMid}})
	if want := len(all) - 3; len(some) != want {
		t.Errorf("AllSites without pos_embed and resid_mid: %d sites, want %d", len(some), want)
	}
	for _, s := range some {
		if s.Component == PosEmbed || s.Component == ResidMid {
			t.Errorf("AllSites kept the absent site %s", s)
		}
	}
}
