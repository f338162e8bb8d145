package models

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/govene/govene/lm"
	"github.com/govene/govene/safetensors"
)

// Readers for the model-family fixtures that oracle/make_family_fixtures.py
// writes under testdata/<checkpoint>/ (see oracle/README.md):
//
//	config.json, generation_config.json    save_pretrained output
//	model.safetensors, or model.safetensors.index.json + shards
//	reference.safetensors                  {case}/{site} float32, {case}/input_ids ... int64
//	reference.json                         refSummary: config, dims, notes, cases, shapes
//	pv_reference.safetensors, pv_cases.json  pyvene interventions (pvCheckpoints only)

// familyCheckpoints lists the fixture checkpoints, one folder each.
var familyCheckpoints = []string{"neox", "neox-serial", "llama", "mistral", "qwen2", "gemma2"}

// pvCheckpoints lists the checkpoints that also have pyvene intervention cases.
var pvCheckpoints = []string{"neox", "llama", "mistral", "qwen2", "gemma2"}

// refSummary is the part of reference.json the tests use.
type refSummary struct {
	Family       string `json:"family"` // config.json's model_type
	Architecture string `json:"architecture"`
	Dims         struct {
		NHead   int `json:"n_head"`
		NKVHead int `json:"n_kv_head"`
		HeadDim int `json:"head_dim"`
		Inner   int `json:"inner"`
		Hidden  int `json:"hidden"`
		Layers  int `json:"layers"`
		Vocab   int `json:"vocab"`
	} `json:"dims"`
	Checkpoint struct {
		DType          string   `json:"dtype"` // torch's spelling: float32, float16, bfloat16
		TiedEmbeddings bool     `json:"tied_embeddings"`
		TensorNames    []string `json:"tensor_names"` // as stored on disk
	} `json:"checkpoint"`
	Config  map[string]any     `json:"config"`
	Quirks  map[string]float64 `json:"quirks_max_abs_logit_delta"`
	Padding struct {
		PadTokenID int `json:"pad_token_id"`
	} `json:"padding"`
	Sites struct {
		PerLayer []string `json:"per_layer"`
		Absent   []string `json:"absent"`
		Global   []string `json:"global"`
	} `json:"sites"`
	Cases map[string]json.RawMessage `json:"cases"`
}

// readSummary parses testdata/<ckpt>/reference.json.
func readSummary(t *testing.T, ckpt string) *refSummary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", ckpt, "reference.json"))
	if err != nil {
		t.Fatalf("fixture missing: %v (run oracle/check_fixtures.sh)", err)
	}
	var s refSummary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s/reference.json: %v", ckpt, err)
	}
	return &s
}

// refCase is one forward pass of a reference file: a batch of left-padded
// prompts with the attention mask and generate()'s position ids, and the
// names of its tensors by site ("0/block_output", "embed", "logits",
// "generated", ...).
type refCase struct {
	name           string
	ids, mask, pos []int64 // [b*s], row-major
	b, s           int
	sites          map[string]string // site -> tensor name in the file
}

// openReference opens testdata/<ckpt>/reference.safetensors and groups its
// tensors by case. The file is closed when the test ends.
func openReference(t *testing.T, ckpt string) (*safetensors.File, map[string]*refCase) {
	t.Helper()
	f, err := safetensors.Open(filepath.Join("testdata", ckpt, "reference.safetensors"))
	if err != nil {
		t.Fatalf("fixture missing: %v (run oracle/check_fixtures.sh)", err)
	}
	t.Cleanup(func() { f.Close() })
	cases := map[string]*refCase{}
	for _, name := range f.Names() {
		c, site, ok := strings.Cut(name, "/")
		if !ok {
			t.Fatalf("%s: reference tensor %q is not CASE/SITE", ckpt, name)
		}
		if cases[c] == nil {
			cases[c] = &refCase{name: c, sites: map[string]string{}}
		}
		cases[c].sites[site] = name
	}
	for _, rc := range cases {
		ints := map[string]*[]int64{"input_ids": &rc.ids, "attention_mask": &rc.mask, "position_ids": &rc.pos}
		for site, dst := range ints {
			v, shape, err := f.Int64(rc.name + "/" + site)
			if err != nil {
				t.Fatalf("%s: %v", ckpt, err)
			}
			if len(shape) != 2 {
				t.Fatalf("%s: %s/%s has shape %v, want [b, s]", ckpt, rc.name, site, shape)
			}
			rc.b, rc.s = shape[0], shape[1]
			*dst = v
			delete(rc.sites, site)
		}
	}
	return f, cases
}

// prompts returns the case's prompts without their padding.
func (rc *refCase) prompts() []lm.Prompt {
	ps := make([]lm.Prompt, rc.b)
	for i := range ps {
		row := rc.ids[i*rc.s : (i+1)*rc.s]
		for j, id := range row {
			if rc.mask[i*rc.s+j] == 1 {
				ps[i].IDs = append(ps[i].IDs, int(id))
			}
		}
	}
	return ps
}

// values reads the float32 tensor of site ("logits", "1/head_key_output",
// ...); it fails the test when the case has no such site.
func (rc *refCase) values(t *testing.T, f *safetensors.File, site string) ([]float32, []int) {
	t.Helper()
	name, ok := rc.sites[site]
	if !ok {
		t.Fatalf("case %s has no site %q", rc.name, site)
	}
	v, shape, err := f.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	return v, shape
}

// parseRefSite maps a reference site name ("1/mlp_post", "embed",
// "logits") to a govene site; false for names that are not sites
// ("generated", "generated_logits").
func parseRefSite(name string) (lm.Site, bool) {
	layer, comp, perLayer := strings.Cut(name, "/")
	if perLayer {
		l, err := strconv.Atoi(layer)
		return lm.Site{Layer: l, Component: lm.Component(comp)}, err == nil
	}
	c := lm.Component(name)
	return lm.Site{Layer: -1, Component: c}, c == lm.Logits || c.IsGlobal()
}

// pvLocations are one side's locations in a pyvene case, per example:
// Heads is nil for unit "pos"; for "h.pos", Heads[i][k] goes with
// Positions[i][k].
type pvLocations struct {
	Heads     [][]int `json:"heads"`
	Positions [][]int `json:"positions"`
}

// pvCase is one intervention of pv_cases.json. Tensor fields name tensors
// of pv_reference.safetensors.
type pvCase struct {
	Name             string       `json:"name"`
	Description      string       `json:"description"`
	Component        string       `json:"component"`
	Layer            int          `json:"layer"`
	Unit             string       `json:"unit"`              // "pos" or "h.pos"
	InterventionType string       `json:"intervention_type"` // VanillaIntervention, AdditionIntervention, CollectIntervention
	Subspace         []int        `json:"subspace"`          // nil: the whole unit
	Base             [][]int      `json:"base"`              // [b][s] ids, no padding
	Source           [][]int      `json:"source"`            // nil for Collect
	SourceLocations  *pvLocations `json:"source_locations"`  // nil for Collect
	BaseLocations    pvLocations  `json:"base_locations"`
	Original         string       `json:"original"`   // logits without intervention [b,s,vocab]
	Intervened       string       `json:"intervened"` // logits with it [b,s,vocab]
	Collected        string       `json:"collected"`  // Collect: [b,n,d] (pos) or [b,n,hd] (h.pos); else ""
	ReferenceFrom    string       `json:"reference_from"`
	Pyvene           string       `json:"pyvene"`
	MaxAbsDelta      float64      `json:"max_abs_delta"`
}

// site returns the govene site the case intervenes on.
func (c *pvCase) site() lm.Site {
	return lm.Site{Layer: c.Layer, Component: lm.Component(c.Component)}
}

// readPVCases parses testdata/<ckpt>/pv_cases.json and opens
// pv_reference.safetensors (closed when the test ends).
func readPVCases(t *testing.T, ckpt string) ([]pvCase, *safetensors.File) {
	t.Helper()
	dir := filepath.Join("testdata", ckpt)
	data, err := os.ReadFile(filepath.Join(dir, "pv_cases.json"))
	if err != nil {
		t.Fatalf("fixture missing: %v (run oracle/check_fixtures.sh)", err)
	}
	var cases []pvCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("%s/pv_cases.json: %v", ckpt, err)
	}
	f, err := safetensors.Open(filepath.Join(dir, "pv_reference.safetensors"))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return cases, f
}

// weightFiles returns the safetensors files of a checkpoint folder: the
// shards named by model.safetensors.index.json, else model.safetensors.
func weightFiles(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "model.safetensors.index.json"))
	if os.IsNotExist(err) {
		return []string{"model.safetensors"}, nil
	}
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s/model.safetensors.index.json: %w", dir, err)
	}
	var files []string
	for _, f := range index.WeightMap {
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files, nil
}

// torchToSafetensors maps reference.json's checkpoint dtype to the file's.
var torchToSafetensors = map[string]safetensors.DType{
	"float32": safetensors.F32, "float16": safetensors.F16, "bfloat16": safetensors.BF16,
}

// maxAbsDiff returns max |a[i]-b[i]|; +Inf when the lengths differ.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

// wantSiteShape is the shape a per-layer site must have.
func wantSiteShape(s *refSummary, comp string, b, seq int) []int {
	d := s.Dims
	switch comp {
	case "head_query_output", "head_attention_value_output":
		return []int{b, d.NHead, seq, d.HeadDim}
	case "head_key_output", "head_value_output":
		return []int{b, d.NKVHead, seq, d.HeadDim}
	case "attention_scores", "attention_weight":
		return []int{b, d.NHead, seq, seq}
	case "query_output", "attention_value_output":
		return []int{b, seq, d.NHead * d.HeadDim}
	case "key_output", "value_output":
		return []int{b, seq, d.NKVHead * d.HeadDim}
	case "mlp_activation", "mlp_post":
		return []int{b, seq, d.Inner}
	}
	return []int{b, seq, d.Hidden}
}

func TestFixturesWellFormed(t *testing.T) {
	wantFamily := map[string]string{
		"neox": "gpt_neox", "neox-serial": "gpt_neox", "llama": "llama",
		"mistral": "mistral", "qwen2": "qwen2", "gemma2": "gemma2",
	}
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			sum := readSummary(t, ckpt)
			checkCheckpointFiles(t, ckpt, sum, wantFamily[ckpt])
			checkReferenceCases(t, ckpt, sum)
			if len(sum.Quirks) == 0 {
				t.Errorf("reference.json records no quirk")
			}
			for q, d := range sum.Quirks {
				if !(d > 1e-3) {
					t.Errorf("quirk %q changes the logits by %g, want > 1e-3", q, d)
				}
			}
		})
	}
}

// checkCheckpointFiles checks config.json and the weight files.
func checkCheckpointFiles(t *testing.T, ckpt string, sum *refSummary, family string) {
	dir := filepath.Join("testdata", ckpt)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
		VocabSize     int      `json:"vocab_size"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	if cfg.ModelType != family || sum.Family != family {
		t.Errorf("model_type %q (reference.json %q), want %q", cfg.ModelType, sum.Family, family)
	}
	if len(cfg.Architectures) != 1 || cfg.Architectures[0] != sum.Architecture {
		t.Errorf("architectures %v, want [%s]", cfg.Architectures, sum.Architecture)
	}
	if cfg.VocabSize != sum.Dims.Vocab {
		t.Errorf("vocab_size %d, reference.json says %d", cfg.VocabSize, sum.Dims.Vocab)
	}
	want, ok := torchToSafetensors[sum.Checkpoint.DType]
	if !ok {
		t.Fatalf("checkpoint dtype %q, want one of float32, float16, bfloat16", sum.Checkpoint.DType)
	}
	files, err := weightFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ckpt == "llama" && len(files) < 2 {
		t.Errorf("llama is meant to be sharded, has %v", files)
	}
	var names []string
	for _, name := range files {
		f, err := safetensors.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range f.Names() {
			if info, _ := f.Info(n); info.DType != want {
				t.Errorf("%s: %s is %s, want %s", name, n, info.DType, want)
			}
			names = append(names, n)
		}
		f.Close()
	}
	slices.Sort(names)
	if !slices.Equal(names, sum.Checkpoint.TensorNames) {
		t.Errorf("weight tensors %v, reference.json lists %v", names, sum.Checkpoint.TensorNames)
	}
}

// checkReferenceCases checks that every case has every site with its shape,
// generate()'s position ids, and the greedy continuation of the batch.
func checkReferenceCases(t *testing.T, ckpt string, sum *refSummary) {
	f, cases := openReference(t, ckpt)
	if len(cases) != len(sum.Cases) || cases["batch"] == nil {
		t.Fatalf("reference.safetensors has %d cases, reference.json %d; want a \"batch\" case", len(cases), len(sum.Cases))
	}
	for _, rc := range cases {
		checkPositions(t, rc)
		want := map[string][]int{"logits": {rc.b, rc.s, sum.Dims.Vocab}}
		for _, g := range sum.Sites.Global {
			if g != "logits" {
				want[g] = []int{rc.b, rc.s, sum.Dims.Hidden}
			}
		}
		for l := range sum.Dims.Layers {
			for _, comp := range sum.Sites.PerLayer {
				site := strconv.Itoa(l) + "/" + comp
				if slices.Contains(sum.Sites.Absent, comp) {
					if _, ok := rc.sites[site]; ok {
						t.Errorf("%s/%s is recorded but listed as absent", rc.name, site)
					}
					continue
				}
				want[site] = wantSiteShape(sum, comp, rc.b, rc.s)
			}
		}
		if rc.name == "batch" {
			want["generated_logits"] = []int{rc.b, 6, sum.Dims.Vocab}
		}
		for site, shape := range want {
			if _, ok := parseRefSite(site); !ok && site != "generated_logits" {
				t.Errorf("site name %q does not parse", site)
			}
			name, ok := rc.sites[site]
			if !ok {
				t.Errorf("%s: case %s lacks site %s", ckpt, rc.name, site)
				continue
			}
			info, _ := f.Info(name)
			if info.DType != safetensors.F32 || !slices.Equal(info.Shape, shape) {
				t.Errorf("%s is %s %v, want F32 %v", name, info.DType, info.Shape, shape)
			}
		}
	}
	gen, shape, err := f.Int64("batch/generated")
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != cases["batch"].b || shape[1] != 6 {
		t.Errorf("batch/generated has shape %v, want [%d 6]", shape, cases["batch"].b)
	}
	for _, id := range gen {
		if id < 0 || int(id) >= sum.Dims.Vocab || int(id) == sum.Padding.PadTokenID {
			t.Errorf("batch/generated holds id %d (vocab %d, pad/eos %d)", id, sum.Dims.Vocab, sum.Padding.PadTokenID)
		}
	}
}

// checkPositions checks left padding and transformers 5.17's generate()
// position ids: cumsum(mask)-1, with padding at 0.
func checkPositions(t *testing.T, rc *refCase) {
	for i := range rc.b {
		next := int64(0)
		for j := range rc.s {
			k := i*rc.s + j
			switch {
			case rc.mask[k] == 0 && next != 0:
				t.Errorf("case %s row %d: padding at %d after a token (not left padding)", rc.name, i, j)
			case rc.mask[k] == 0 && rc.pos[k] != 0:
				t.Errorf("case %s row %d: padding position id %d, want 0", rc.name, i, rc.pos[k])
			case rc.mask[k] == 1 && rc.pos[k] != next:
				t.Errorf("case %s row %d col %d: position id %d, want %d", rc.name, i, j, rc.pos[k], next)
			}
			next += rc.mask[k]
		}
	}
}

func TestPVFixturesMoveLogits(t *testing.T) {
	for _, ckpt := range pvCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			sum := readSummary(t, ckpt)
			cases, f := readPVCases(t, ckpt)
			if len(cases) == 0 {
				t.Fatal("pv_cases.json has no case")
			}
			for _, c := range cases {
				checkPVCase(t, sum, f, &c)
			}
		})
	}
}

// checkPVCase checks one intervention case: its locations fit the inputs,
// its logits differ from the original (Collect: equal, with the collected
// values), and the recorded max |delta| is the one in the tensors.
func checkPVCase(t *testing.T, sum *refSummary, f *safetensors.File, c *pvCase) {
	t.Helper()
	if c.Unit != "pos" && c.Unit != "h.pos" {
		t.Errorf("%s: unit %q, want pos or h.pos", c.Name, c.Unit)
	}
	if c.site().Layer < 0 || c.site().Layer >= sum.Dims.Layers {
		t.Errorf("%s: layer %d outside [0, %d)", c.Name, c.Layer, sum.Dims.Layers)
	}
	nHeads := sum.Dims.NHead
	if c.Component == "head_key_output" || c.Component == "head_value_output" {
		nHeads = sum.Dims.NKVHead
	}
	checkLocs := func(side string, ids [][]int, locs *pvLocations) {
		if len(locs.Positions) != len(ids) || (c.Unit == "h.pos") != (locs.Heads != nil) {
			t.Errorf("%s: %s locations %+v do not fit unit %s and %d examples", c.Name, side, locs, c.Unit, len(ids))
			return
		}
		for i, ps := range locs.Positions {
			for k, p := range ps {
				if p < 0 || p >= len(ids[i]) {
					t.Errorf("%s: %s position %d outside the %d tokens", c.Name, side, p, len(ids[i]))
				}
				if locs.Heads != nil && (k >= len(locs.Heads[i]) || locs.Heads[i][k] >= nHeads) {
					t.Errorf("%s: %s heads %v do not fit %d heads", c.Name, side, locs.Heads[i], nHeads)
				}
			}
		}
	}
	checkLocs("base", c.Base, &c.BaseLocations)
	if (c.InterventionType == "CollectIntervention") != (c.SourceLocations == nil) {
		t.Errorf("%s: %s with source locations %v", c.Name, c.InterventionType, c.SourceLocations)
	} else if c.SourceLocations != nil {
		checkLocs("source", c.Source, c.SourceLocations)
	}
	orig, oshape, err := f.Float32(c.Original)
	if err != nil {
		t.Fatal(err)
	}
	got, gshape, err := f.Float32(c.Intervened)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{len(c.Base), len(c.Base[0]), sum.Dims.Vocab}; !slices.Equal(oshape, want) || !slices.Equal(gshape, want) {
		t.Errorf("%s: logits shapes %v and %v, want %v", c.Name, oshape, gshape, want)
	}
	delta := maxAbsDiff(orig, got)
	// pv_cases.json's delta was computed in float32, this one in float64.
	if math.Abs(delta-c.MaxAbsDelta) > 1e-6*max(1, delta) {
		t.Errorf("%s: max |delta| %g, pv_cases.json says %g", c.Name, delta, c.MaxAbsDelta)
	}
	if c.InterventionType == "CollectIntervention" {
		if delta != 0 || c.Collected == "" {
			t.Errorf("%s: collect moved the logits by %g or collected nothing (%q)", c.Name, delta, c.Collected)
		}
		if _, _, err := f.Float32(c.Collected); c.Collected != "" && err != nil {
			t.Error(err)
		}
		return
	}
	if !(delta > 1e-3) {
		t.Errorf("%s: intervention moves the logits by %g, want > 1e-3", c.Name, delta)
	}
	if c.ReferenceFrom != "pyvene" && c.ReferenceFrom != "emulation" {
		t.Errorf("%s: reference_from %q, want pyvene or emulation", c.Name, c.ReferenceFrom)
	}
}

// isAttention reports whether a reference site holds [b,heads,s,s]
// attention scores or weights.
func isAttention(site string) bool {
	return strings.HasSuffix(site, "/attention_scores") || strings.HasSuffix(site, "/attention_weight")
}

// comparable reports whether flat index i of the case's tensor of shape
// [b,s,x] or [b,heads,s,x] sits where transformers and govene should
// agree: its query position is not padding and, for attention scores and
// weights (attention true, x = s), neither is its key position. Padding
// rows and keys hold values computed from the pad token, a convention the
// mask hides.
func (rc *refCase) comparable(shape []int, attention bool, i int) bool {
	if len(shape) < 3 || shape[0] != rc.b {
		return true
	}
	x := shape[len(shape)-1]
	per := len(rc.mask) / rc.b // = s
	n := 1
	for _, d := range shape[1:] {
		n *= d
	}
	row, q := i/n, (i/x)%per
	if rc.mask[row*rc.s+q] == 0 {
		return false
	}
	return !attention || rc.mask[row*rc.s+i%x] != 0
}

// rowDiff returns the largest |single - batch| over the single case's
// values, aligned with row `row` of the batch whose prompt starts `offset`
// columns later (its left padding): positions shift by offset, and for
// attention sites so do keys. shapes are the two tensors' shapes.
func rowDiff(single, batch []float32, sshape, bshape []int, row, offset int, attention bool) (float64, error) {
	if len(sshape) != len(bshape) || len(sshape) < 3 || sshape[0] != 1 {
		return 0, fmt.Errorf("shapes %v and %v do not align", sshape, bshape)
	}
	posAxis := len(sshape) - 2 // [1,s,x] -> 1, [1,h,s,x] -> 2
	s, bs := sshape[posAxis], bshape[posAxis]
	x, bx := sshape[len(sshape)-1], bshape[len(bshape)-1]
	heads := 1
	if len(sshape) == 4 {
		heads = sshape[1]
	}
	worst := 0.0
	for h := range heads {
		for q := range s {
			for k := range x {
				bk := k
				if attention {
					bk = k + offset
				}
				a := single[(h*s+q)*x+k]
				b := batch[((row*heads+h)*bs+q+offset)*bx+bk]
				worst = max(worst, math.Abs(float64(a)-float64(b)))
			}
		}
	}
	return worst, nil
}

func TestFixturesPaddingInvariant(t *testing.T) {
	// Each single prompt run alone must give the values of its row of the
	// left-padded batch, at its own positions (the mask and the position
	// ids make padding invisible), up to float32 rounding.
	for _, ckpt := range familyCheckpoints {
		t.Run(ckpt, func(t *testing.T) {
			f, cases := openReference(t, ckpt)
			batch := cases["batch"]
			for _, rc := range cases {
				if rc == batch {
					continue
				}
				row := slices.IndexFunc(batch.prompts(), func(p lm.Prompt) bool {
					return slices.Equal(p.IDs, rc.prompts()[0].IDs)
				})
				if rc.b != 1 || row < 0 {
					t.Fatalf("case %s (batch %d) is not a row of the batch", rc.name, rc.b)
				}
				offset := batch.s - rc.s
				for site := range rc.sites {
					sv, sshape := rc.values(t, f, site)
					bv, bshape := batch.values(t, f, site)
					d, err := rowDiff(sv, bv, sshape, bshape, row, offset, isAttention(site))
					if err != nil {
						t.Fatalf("%s/%s: %v", rc.name, site, err)
					}
					scale := 0.0
					for _, v := range sv {
						scale = max(scale, math.Abs(float64(v)))
					}
					if d > 1e-5*max(1, scale) {
						t.Errorf("%s/%s differs from batch row %d by %.3g (scale %.3g)", rc.name, site, row, d, scale)
					}
				}
			}
		})
	}
}

func TestComparable(t *testing.T) {
	// Two rows of length 3; row 0 has one padding column.
	rc := &refCase{b: 2, s: 3, mask: []int64{0, 1, 1, 1, 1, 1}}
	tests := []struct {
		name      string
		shape     []int
		attention bool
		i         int
		want      bool
	}{
		{"[b,s,x] padding query", []int{2, 3, 4}, false, 1, false},
		{"[b,s,x] real query", []int{2, 3, 4}, false, 4, true},
		{"[b,s,x] row 1 first column", []int{2, 3, 4}, false, 12, true},
		{"[b,h,s,hd] padding query head 1", []int{2, 2, 3, 5}, false, 15, false},
		{"[b,h,s,hd] real query head 1", []int{2, 2, 3, 5}, false, 20, true},
		{"scores real query, padding key", []int{2, 2, 3, 3}, true, 3, false},
		{"scores real query, real key", []int{2, 2, 3, 3}, true, 4, true},
		{"scores row 1 key 0", []int{2, 2, 3, 3}, true, 18, true},
		{"not attention: key axis ignored", []int{2, 2, 3, 3}, false, 3, true},
		{"rank 2 (generated)", []int{2, 6}, false, 0, true},
	}
	for _, tt := range tests {
		if got := rc.comparable(tt.shape, tt.attention, tt.i); got != tt.want {
			t.Errorf("%s: comparable(%v, %v, %d) = %v, want %v", tt.name, tt.shape, tt.attention, tt.i, got, tt.want)
		}
	}
}
