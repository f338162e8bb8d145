package job

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
)

// readRows decodes every line of a testdata file into T.
func readRows[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// allShards reads and concatenates an int64 or float32 tensor over a
// job's shards.
func allShards(t *testing.T, dir string, m *Manifest) shard {
	t.Helper()
	all := shard{f32: map[string][]float32{}, i64: map[string][]int64{}}
	for _, info := range m.Shards {
		sh := readShard(t, filepath.Join(dir, info.File))
		for k, v := range sh.f32 {
			all.f32[k] = append(all.f32[k], v...)
		}
		for k, v := range sh.i64 {
			all.i64[k] = append(all.i64[k], v...)
		}
	}
	return all
}

// TestPatch checks that patching the source city's residual at the last
// token after block 6 changes the shipped model's prediction to the
// source's city on most rows, that the stored tops and log-probabilities
// match a direct pv run, and the manifest's summary.
func TestPatch(t *testing.T) {
	m := shippedModel(t)
	spec := testSpec(t, Patch, "blocks.6.block_output")
	spec.ShardSize = 10
	man := runJob(t, spec)
	out := allShards(t, spec.Out, man)
	type prow struct {
		Base, Source string
		Targets      []string
	}
	rows := readRows[prow](t, spec.Dataset)
	n := len(rows)
	if len(out.i64["original_top"]) != n || len(out.i64["patched_top"]) != n || len(out.f32["patched_logprob"]) != 2*n {
		t.Fatalf("tensors: %d original_top, %d patched_top, %d patched_logprob; want %d, %d, %d",
			len(out.i64["original_top"]), len(out.i64["patched_top"]), len(out.f32["patched_logprob"]), n, n, 2*n)
	}
	if got := man.Shards[0].Tensors["patched_logprob"]; len(got) != 2 || got[0] != 10 || got[1] != 2 {
		t.Errorf("patched_logprob shape %v, want [10 2]", got)
	}
	changed, toSource := 0, 0
	for i, r := range rows {
		baseCity, _ := models.TokenID(m, r.Targets[0])
		srcCity, _ := models.TokenID(m, r.Targets[1])
		ot, pt := out.i64["original_top"][i], out.i64["patched_top"][i]
		if ot != pt {
			changed++
		}
		if pt == int64(srcCity) {
			toSource++
		}
		if ot != int64(baseCity) {
			t.Logf("row %d: the model predicts %q for %q, not %q", i, m.TokenString(int(ot)), r.Base, r.Targets[0])
		}
		olp, plp := out.f32["original_logprob"][2*i:2*i+2], out.f32["patched_logprob"][2*i:2*i+2]
		if !(plp[1] > olp[1]) || !(plp[0] < olp[0]) || olp[0] > 0 || plp[1] > 0 {
			t.Errorf("row %d: log P(base city, source city) %v before, %v after: want the source's city up and the base's down", i, olp, plp)
		}
	}
	if changed < n*3/4 || toSource < n*3/4 {
		t.Errorf("the patch changed %d of %d predictions, %d to the source's city; want most", changed, n, toSource)
	}
	if man.Summary["changed"] != float64(changed) || man.Summary["total"] != float64(n) {
		t.Errorf("summary %v, want changed %d of %d", man.Summary, changed, n)
	}

	// The first batch directly through pv.
	iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{Layer: 6, Component: lm.BlockOutput, InterventionType: pv.Vanilla}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows[:3] {
		base, src := m.Encode(r.Base), m.Encode(r.Source)
		res, err := iv.Forward([]lm.Prompt{base}, pv.Sources(src), pv.At(src.Last(), base.Last()), pv.WithOriginal())
		if err != nil {
			t.Fatal(err)
		}
		after, _ := res.LastLogits(0, false)
		before, _ := res.LastLogits(0, true)
		if int64(lm.Argmax(after)) != out.i64["patched_top"][i] || int64(lm.Argmax(before)) != out.i64["original_top"][i] {
			t.Errorf("row %d: pv gives tops %d -> %d, the job %d -> %d", i, lm.Argmax(before), lm.Argmax(after), out.i64["original_top"][i], out.i64["patched_top"][i])
		}
		id, _ := models.TokenID(m, r.Targets[1])
		if want := logProbs(after, []int{id})[0]; math.Abs(float64(want-out.f32["patched_logprob"][2*i+1])) > 1e-4 {
			t.Errorf("row %d: pv gives log P(%q) %v, the job %v", i, r.Targets[1], want, out.f32["patched_logprob"][2*i+1])
		}
	}
}

// TestLogProbs checks the log-softmax against a hand computation.
func TestLogProbs(t *testing.T) {
	got := logProbs([]float32{0, float32(math.Log(3))}, []int{0, 1})
	if math.Abs(float64(got[0])-math.Log(0.25)) > 1e-6 || math.Abs(float64(got[1])-math.Log(0.75)) > 1e-6 {
		t.Errorf("logProbs = %v, want [log .25, log .75]", got)
	}
	if logProbs([]float32{1}, nil) != nil {
		t.Error("logProbs without ids: want nil")
	}
}

// TestIIA checks the iia job against pv.Model.IIA on the same examples,
// for a vanilla site and for the same intervenable saved with pv.Save and
// loaded by the job, and the stored predictions, labels and summary.
func TestIIA(t *testing.T) {
	m := shippedModel(t)
	type irow struct {
		Base    string
		Sources []string
		Label   string
	}
	rows := readRows[irow](t, "testdata/iia.jsonl")
	for _, layer := range []int{2, 4, 6} { // the city reaches the last token over blocks 2-5: IIA 0, 1/3, 1
		iv, err := pv.New(m, pv.Config{Representations: []pv.RepresentationConfig{{Layer: layer, Component: lm.BlockOutput, InterventionType: pv.Vanilla}}})
		if err != nil {
			t.Fatal(err)
		}
		var examples []pv.Example
		for _, r := range rows {
			label, err := models.TokenID(m, r.Label)
			if err != nil {
				t.Fatal(err)
			}
			examples = append(examples, pv.Example{Base: m.Encode(r.Base), Sources: []lm.Prompt{m.Encode(r.Sources[0])}, Label: label})
		}
		want, err := iv.IIA(examples, 8)
		if err != nil {
			t.Fatal(err)
		}
		saved := filepath.Join(t.TempDir(), "iv")
		if err := iv.Save(saved); err != nil {
			t.Fatal(err)
		}
		for _, how := range []string{"site", "intervenable"} {
			spec := testSpec(t, IIA, "blocks."+string(rune('0'+layer))+".block_output")
			if how == "intervenable" {
				spec.Sites, spec.Intervenable = nil, saved
			}
			man := runJob(t, spec)
			if got := man.Summary["iia"]; got != want {
				t.Errorf("layer %d, %s: job IIA %v, pv.Model.IIA %v", layer, how, got, want)
			}
			out := allShards(t, spec.Out, man)
			correct := 0.0
			for i, ex := range examples {
				if out.i64["label"][i] != int64(ex.Label) {
					t.Errorf("row %d: label %d, want %d", i, out.i64["label"][i], ex.Label)
				}
				c := out.f32["correct"][i]
				if (c == 1) != (out.i64["predicted"][i] == int64(ex.Label)) {
					t.Errorf("row %d: correct %v, predicted %d, label %d", i, c, out.i64["predicted"][i], ex.Label)
				}
				correct += float64(c)
			}
			if man.Summary["correct"] != correct || man.Summary["total"] != float64(len(rows)) {
				t.Errorf("layer %d, %s: summary %v, want correct %v of %d", layer, how, man.Summary, correct, len(rows))
			}
			t.Logf("layer %d, %s: IIA %v", layer, how, man.Summary["iia"])
		}
		if layer == 6 && want < 0.9 {
			t.Errorf("IIA at block 6 = %v; the shipped model moves the city to the last token by block 5", want)
		}
	}
}
