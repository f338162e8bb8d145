package analysis_test

import (
	"slices"
	"testing"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/pv"
)

// The references path patching is checked against: written naively, with
// explicit pv interventions, one sender at a time, and no code shared with
// the batched implementation.

// loadFixture loads a random checkpoint folder with models.Load.
func loadFixture(t *testing.T, dir string) models.Model {
	t.Helper()
	m, err := models.Load(dir, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// refSender is one sender of the references: a head, or an MLP (head -1).
type refSender struct{ layer, head int }

// refSenders lists the senders of cfg's grid in row-major order.
func refSenders(d lm.Dims, layers []int, mlps bool) []refSender {
	var out []refSender
	for _, l := range layers {
		for h := range d.Heads {
			out = append(out, refSender{l, h})
		}
		if mlps {
			out = append(out, refSender{l, -1})
		}
	}
	return out
}

// siteRow returns example e of site s in r (the unpadded batch of m.Run).
func siteRow(t *testing.T, r *lm.Result, s lm.Site, e int) []float32 {
	t.Helper()
	v, _, err := r.Row(r.Sites[s], e, s.Component.IsHead())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// withHead returns base [h,s,dh] with head h taken from other.
func withHead(base, other []float32, hc, h int) []float32 {
	out := slices.Clone(base)
	per := len(base) / hc
	copy(out[h*per:(h+1)*per], other[h*per:(h+1)*per])
	return out
}

// pvForward runs clean through a pv model of reps with opts, feeding
// vals[i] (when vals is not nil) as the whole-site source of reps[i].
func pvForward(t *testing.T, m lm.Model, reps []pv.RepresentationConfig, vals [][]float32, clean lm.Prompt, opts ...pv.Option) *pv.Output {
	t.Helper()
	iv, err := pv.New(m, pv.Config{Representations: reps})
	if err != nil {
		t.Fatal(err)
	}
	if vals != nil {
		byKey := map[string][][]float32{}
		for i, k := range iv.Keys() {
			byKey[k] = [][]float32{vals[i]}
		}
		opts = append(opts, pv.SourceRepresentations(byKey))
	}
	out, err := iv.Forward([]lm.Prompt{clean}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// naivePath is path patching of one sender in three separate pv forwards:
// the clean and corrupt runs; clean with every head's z (and MLP output,
// as cfg says) set to clean values but the sender's to corrupt ones,
// capturing the receivers' inputs; clean with the receivers' inputs set
// to those. It returns the metric of the last.
func naivePath(t *testing.T, m models.Model, clean, corrupt lm.Prompt, cfg analysis.PathConfig, s refSender) float64 {
	t.Helper()
	d := m.Dims()
	logitsRecv := len(cfg.Receivers) == 0 || cfg.Receivers[0].Logits
	final := lm.Site{Layer: d.Layers - 1, Component: lm.BlockOutput}
	var recvSites []lm.Site
	recvHeads := map[lm.Site][]int{}
	comps := map[string]lm.Component{"q": lm.HeadQueryOutput, "k": lm.HeadKeyOutput, "v": lm.HeadValueOutput}
	if logitsRecv {
		recvSites = []lm.Site{final}
	} else {
		for _, rc := range cfg.Receivers {
			ins := rc.Inputs
			if len(ins) == 0 {
				ins = []string{"q", "k", "v"}
			}
			for _, in := range ins {
				site := lm.Site{Layer: rc.Layer, Component: comps[in]}
				if !slices.Contains(recvSites, site) {
					recvSites = append(recvSites, site)
				}
				recvHeads[site] = append(recvHeads[site], rc.Head)
			}
		}
	}
	// 1. clean and corrupt runs.
	var sites []lm.Site
	for l := range d.Layers {
		sites = append(sites, lm.Site{Layer: l, Component: lm.HeadAttentionValueOutput}, lm.Site{Layer: l, Component: lm.MLPOutput})
	}
	cache, err := m.Run([]lm.Prompt{clean, corrupt}, sites...)
	if err != nil {
		t.Fatal(err)
	}
	// 2. clean, every head frozen, the sender corrupted; receivers read.
	var reps []pv.RepresentationConfig
	var vals [][]float32
	for l := range d.Layers {
		z := lm.Site{Layer: l, Component: lm.HeadAttentionValueOutput}
		v := siteRow(t, cache, z, 0)
		if s.head >= 0 && s.layer == l {
			v = withHead(v, siteRow(t, cache, z, 1), d.Heads, s.head)
		}
		reps, vals = append(reps, pv.RepresentationConfig{Layer: l, Component: lm.HeadAttentionValueOutput, Unit: pv.Head}), append(vals, v)
		mlp := lm.Site{Layer: l, Component: lm.MLPOutput}
		switch {
		case s.head < 0 && s.layer == l:
			reps, vals = append(reps, pv.RepresentationConfig{Layer: l, Component: lm.MLPOutput}), append(vals, siteRow(t, cache, mlp, 1))
		case cfg.FreezeMLPs:
			reps, vals = append(reps, pv.RepresentationConfig{Layer: l, Component: lm.MLPOutput}), append(vals, siteRow(t, cache, mlp, 0))
		}
	}
	step2 := pvForward(t, m, reps, vals, clean, pv.CaptureSites(recvSites...))
	// 3. clean with the receivers' inputs of step 2: the receiving heads
	// of each site only (the others keep their values in this run).
	reps, vals = nil, nil
	var locs [][][]int
	for _, site := range recvSites {
		got, _, err := step2.SiteValues(site)
		if err != nil {
			t.Fatal(err)
		}
		rep := pv.RepresentationConfig{Layer: site.Layer, Component: site.Component}
		if !logitsRecv {
			heads := recvHeads[site]
			rep.Unit, rep.MaxNumberOfUnits = pv.Head, len(heads)
			per := len(got) / d.HeadCount(site.Component)
			var v []float32
			for _, h := range heads {
				v = append(v, got[h*per:(h+1)*per]...)
			}
			got = v
			locs = append(locs, [][]int{heads})
		}
		reps, vals = append(reps, rep), append(vals, got)
	}
	opts := []pv.Option{pv.LastLogitsOnly()}
	if locs != nil {
		opts = append(opts, pv.Locations(locs, locs))
	}
	out := pvForward(t, m, reps, vals, clean, opts...)
	logits, err := out.LastLogits(0, false)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Metric(logits)
}

// directEffect is a sender's direct effect on the metric, computed
// without freezing anything: Δ, the change the sender's corrupted output
// makes to its layer's attention output (or its MLP output), is added to
// the clean final residual stream at the last position.
func directEffect(t *testing.T, m models.Model, clean, corrupt lm.Prompt, metric func([]float32) float64, s refSender) float64 {
	t.Helper()
	d := m.Dims()
	site := lm.Site{Layer: s.layer, Component: lm.AttentionOutput}
	if s.head < 0 {
		site.Component = lm.MLPOutput
	}
	cache, err := m.Run([]lm.Prompt{clean, corrupt}, site)
	if err != nil {
		t.Fatal(err)
	}
	before := siteRow(t, cache, site, 0)
	after := siteRow(t, cache, site, 1)
	if s.head >= 0 {
		out := pvForward(t, m, []pv.RepresentationConfig{{Layer: s.layer, Component: lm.HeadAttentionValueOutput, Unit: pv.Head}},
			nil, clean, pv.Sources(corrupt), pv.AtUnits(s.head), pv.CaptureSites(site))
		if after, _, err = out.SiteValues(site); err != nil {
			t.Fatal(err)
		}
	}
	last := (clean.Len() - 1) * d.Hidden
	delta := make([]float32, d.Hidden)
	for i := range delta {
		delta[i] = after[last+i] - before[last+i]
	}
	out := pvForward(t, m, []pv.RepresentationConfig{{Layer: d.Layers - 1, Component: lm.BlockOutput, InterventionType: pv.Addition}},
		nil, clean, pv.SourceRepresentation(delta), pv.AtBase(clean.Last()), pv.LastLogitsOnly())
	logits, err := out.LastLogits(0, false)
	if err != nil {
		t.Fatal(err)
	}
	return metric(logits)
}
