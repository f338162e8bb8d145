package job

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/govene/govene/lm"
)

// testPrompts returns the prompts of collect.jsonl in row order and each
// row's line index.
func testPrompts(t *testing.T, m interface{ Encode(string) lm.Prompt }) ([]lm.Prompt, []int64) {
	t.Helper()
	data, err := os.ReadFile("testdata/collect.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var prompts []lm.Prompt
	var lines []int64
	for i, l := range fileLines(data) {
		if l == "" {
			continue
		}
		var r struct {
			Text string
			IDs  []int
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.IDs != nil {
			prompts = append(prompts, lm.Prompt{IDs: r.IDs})
		} else {
			prompts = append(prompts, m.Encode(r.Text))
		}
		lines = append(lines, int64(i))
	}
	return prompts, lines
}

// fileLines splits data into its lines (blank ones as "").
func fileLines(data []byte) []string {
	var out []string
	start := 0
	for i, b := range data {
		if b == '\n' {
			out = append(out, string(data[start:i]))
			start = i + 1
		}
	}
	return out
}

// TestCollect runs collect at the last position and at all positions,
// with a residual and a head site, and checks every stored value against
// the model run directly on the same batches of 8, the shapes, the row and
// offsets tensors, the shard metadata and the manifest.
func TestCollect(t *testing.T) {
	m := shippedModel(t)
	prompts, lines := testPrompts(t, m)
	resid, head := lm.Site{Layer: 3, Component: lm.BlockOutput}, lm.Site{Layer: 1, Component: lm.HeadResult}
	d := m.Dims()
	// The direct runs, batch by batch as the job batches them.
	type want struct{ last, all map[lm.Site][][]float32 } // by row: last value; all positions [len*w]
	w := want{last: map[lm.Site][][]float32{}, all: map[lm.Site][][]float32{}}
	for s := 0; s < len(prompts); s += 8 {
		batch := prompts[s:min(s+8, len(prompts))]
		res, err := m.Run(batch, resid, head)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range batch {
			v, _, err := res.Row(res.Sites[resid], i, false)
			if err != nil {
				t.Fatal(err)
			}
			w.all[resid] = append(w.all[resid], v)
			w.last[resid] = append(w.last[resid], v[(p.Len()-1)*d.Hidden:])
			hv, shape, err := res.Row(res.Sites[head], i, true) // [h, len, d]
			if err != nil {
				t.Fatal(err)
			}
			var last []float32
			for h := range shape[0] {
				last = append(last, hv[(h*p.Len()+p.Len()-1)*shape[2]:(h*p.Len()+p.Len())*shape[2]]...)
			}
			w.last[head] = append(w.last[head], last)
		}
	}

	for _, positions := range []string{Last, All} {
		t.Run(positions, func(t *testing.T) {
			spec := testSpec(t, Collect, "blocks.3.block_output", "head_result.1")
			spec.Positions = positions
			man := runJob(t, spec)
			if man.Rows != 40 || len(man.Shards) != 3 || man.Summary != nil {
				t.Fatalf("manifest: %d rows, %d shards, summary %v", man.Rows, len(man.Shards), man.Summary)
			}
			read, err := ReadManifest(spec.Out)
			if err != nil || read.SpecHash != man.SpecHash || len(read.Shards) != 3 || read.Shards[2].SHA256 != man.Shards[2].SHA256 {
				t.Fatalf("ReadManifest: %+v, %v", read, err)
			}
			row := 0
			for _, info := range man.Shards {
				sh := readShard(t, filepath.Join(spec.Out, info.File))
				for k, v := range map[string]string{"kind": Collect, "spec_hash": man.SpecHash, "dataset_sha256": man.DatasetSHA256,
					"first": strconv.Itoa(info.First), "end": strconv.Itoa(info.End)} {
					if sh.meta[k] != v {
						t.Errorf("shard %d metadata %s = %q, want %q", info.Index, k, sh.meta[k], v)
					}
				}
				n := info.End - info.First
				if !slices.Equal(sh.i64["row"], lines[info.First:info.End]) {
					t.Errorf("shard %d row = %v, want %v", info.Index, sh.i64["row"], lines[info.First:info.End])
				}
				for name, shape := range sh.shape {
					if !slices.Equal(info.Tensors[name], shape) {
						t.Errorf("shard %d: sidecar shape of %s %v, file %v", info.Index, name, info.Tensors[name], shape)
					}
				}
				if positions == Last {
					if got := sh.shape[resid.String()]; !slices.Equal(got, []int{n, d.Hidden}) {
						t.Errorf("shard %d: %s shape %v, want [%d %d]", info.Index, resid, got, n, d.Hidden)
					}
					if got := sh.shape[head.String()]; len(got) != 3 || got[0] != n || got[1] != d.Heads {
						t.Errorf("shard %d: %s shape %v, want [%d %d d]", info.Index, head, got, n, d.Heads)
					}
					for i := range n {
						for _, s := range []lm.Site{resid, head} {
							per := len(sh.f32[s.String()]) / n
							if got := sh.f32[s.String()][i*per : (i+1)*per]; !slices.Equal(got, w.last[s][row+i]) {
								t.Fatalf("shard %d row %d: %s differs from the direct run", info.Index, i, s)
							}
						}
					}
				} else {
					offs := sh.i64["offsets"]
					if len(offs) != n+1 || offs[0] != 0 {
						t.Fatalf("shard %d: offsets %v", info.Index, offs)
					}
					if got := sh.shape[resid.String()]; !slices.Equal(got, []int{int(offs[n]), d.Hidden}) {
						t.Errorf("shard %d: %s shape %v, want [%d %d]", info.Index, resid, got, offs[n], d.Hidden)
					}
					if got := sh.shape[head.String()]; len(got) != 3 || got[0] != int(offs[n]) || got[1] != d.Heads {
						t.Errorf("shard %d: %s shape %v, want [tokens %d d]", info.Index, head, got, d.Heads)
					}
					for i := range n {
						if int(offs[i+1]-offs[i]) != prompts[row+i].Len() {
							t.Fatalf("shard %d row %d: offsets give %d tokens, the prompt has %d", info.Index, i, offs[i+1]-offs[i], prompts[row+i].Len())
						}
						got := sh.f32[resid.String()][int(offs[i])*d.Hidden : int(offs[i+1])*d.Hidden]
						if !slices.Equal(got, w.all[resid][row+i]) {
							t.Fatalf("shard %d row %d: %s at all positions differs from the direct run", info.Index, i, resid)
						}
						per := len(sh.f32[head.String()]) / int(offs[n])
						if got := sh.f32[head.String()][int(offs[i+1]-1)*per : int(offs[i+1])*per]; !slices.Equal(got, w.last[head][row+i]) {
							t.Fatalf("shard %d row %d: %s at the last token differs from the direct run", info.Index, i, head)
						}
					}
				}
				row += n
			}
		})
	}
}
