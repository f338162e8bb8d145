// Tutorial 7, the indirect-object circuit: in "John and Mary went to the
// store. John gave a drink to", the model answers with the indirect object
// (" Mary"), not the repeated subject (" John"). The logit difference
// logit(IO) - logit(S) measures it on a set of such sentences (names from
// the shipped model's corpus). Each sentence's corrupted counterpart
// replaces the repeated subject by a third name (the IOI paper's "ABC"
// corruption: "John and Mary went to the store. Kate gave a drink to"),
// which leaves nothing to tell IO from S. Patching each attention head's
// output (head_attention_value_output) from the clean run into the
// corrupted one, over every position and then at the last position only,
// finds the heads that carry the circuit; the attention pattern of the head
// that matters most at the last position shows what it reads there (on the
// shipped model, L4H3 reads the repeated subject).
//
//	go run ./tutorials/ioi [-model gpt2] [-out folder]
package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/govene/govene"
	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/models"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/pv"
	"github.com/govene/govene/shipped/facts"
	"github.com/govene/govene/sweep"
	"github.com/govene/govene/tutorials/internal/tut"
)

// template is the sentence shape of the shipped model's IOI corpus: the
// two names, the place, the subject (one of the two names again), the
// object; the answer, the other name, comes next.
const template = "%s and %s went to the %s. %s gave a %s to"

var (
	places  = []string{"store", "park", "school", "beach", "office", "market", "library", "garden"}
	objects = []string{"drink", "book", "gift", "ball", "letter", "flower", "ticket", "cake"}
)

// numPrompts is how many sentences the tutorial averages over.
const numPrompts = 8

// ioiPrompt is one clean sentence and its corrupted counterpart, of the
// same length, with the indirect object's and the subject's token ids.
type ioiPrompt struct {
	Clean, Corrupt lm.Prompt
	IO, S          int
	// IOName, SName and Third are the names: the answer, the repeated
	// subject, and the one that replaces the subject in Corrupt.
	IOName, SName, Third string
	// S2 is the position of the repeated subject in Clean (where Corrupt
	// has Third).
	S2 int
}

// result is what the tutorial shows, for its test.
type result struct {
	Prompts []ioiPrompt
	// CleanLD and CorruptLD are logit(IO) - logit(S) after each prompt.
	CleanLD, CorruptLD []float64
	// MeanClean and MeanCorrupt are their means.
	MeanClean, MeanCorrupt float64
	// Heads is, for each layer (row) and head (column), the mean logit
	// difference that patching the head's clean output into the corrupted
	// run (at every position) restores, as a fraction of the mean gap
	// MeanClean - MeanCorrupt: 1 restores it all, 0 nothing.
	Heads *sweep.Result
	// HeadsLast is Heads with each head patched at the last position only.
	HeadsLast *sweep.Result
	// Top and TopLast are the {layer, head} with the largest |fraction| in
	// Heads and HeadsLast.
	Top, TopLast [2]int
	// Attention is head TopLast's attention pattern on the first clean
	// prompt, [query][key]; Attends the key its last query attends to most.
	Attention [][]float64
	Attends   int
	// DLA is each head's mean direct logit attribution to logit(IO) -
	// logit(S) at the last position of the clean prompts, layers x heads;
	// Movers holds the head of largest positive DLA (above 0.5), {layer,
	// head}, if any.
	DLA    [][]float64
	Movers [][2]int
	// Path is path patching's mean normalized effect of each sender head
	// below the Movers (layers x heads) through their queries, keys and
	// values: 0 no effect, -1 the corrupted run's logit difference.
	Path [][]float64
	// Attribution is attribution patching's estimate of Heads (layers x
	// heads): each head's clean output patched into the corrupted run,
	// summed over positions, averaged over the prompts, as a fraction of
	// the gap; AttributionR is its Pearson correlation with Heads.
	Attribution  [][]float64
	AttributionR float64
	// Lens is the logit lens of the first clean prompt: P(IO) per
	// residual (Lens.Labels) and position.
	Lens *plots.LogitLens
}

// prompts builds numPrompts IOI sentences from the corpus's names: pairs
// of names, the subject the first-mentioned name in half of them and the
// second in the other half, and a third name for the corruption. It
// returns an error when a name is not a single token of m's tokenizer, or a
// corrupted sentence does not tokenize to its clean one's length.
func prompts(m models.Model) ([]ioiPrompt, error) {
	names := facts.Names
	var out []ioiPrompt
	for k := range numPrompts {
		a, b := names[2*k%len(names)], names[(2*k+1)%len(names)]
		third := names[(2*k+7)%len(names)]
		first, second := a, b
		if k%2 == 1 { // the subject is mentioned second
			first, second = b, a
		}
		place, object := places[k%len(places)], objects[(k/2)%len(objects)]
		p := ioiPrompt{
			Clean:   m.Encode(fmt.Sprintf(template, first, second, place, a, object)),
			Corrupt: m.Encode(fmt.Sprintf(template, first, second, place, third, object)),
			IOName:  b, SName: a, Third: third,
		}
		var err error
		if p.IO, err = tut.TokenID(m, " "+b); err != nil {
			return nil, fmt.Errorf("ioi: the indirect object: %w", err)
		}
		if p.S, err = tut.TokenID(m, " "+a); err != nil {
			return nil, fmt.Errorf("ioi: the subject: %w", err)
		}
		p.S2 = -1
		for i, t := range p.Clean.Tokens {
			// A word's token is " John" for GPT-2's tokenizer, "▁John" for
			// SentencePiece-style ones.
			if i > 0 && strings.TrimLeft(t, " ▁") == a {
				p.S2 = i
			}
		}
		if p.S2 < 0 {
			return nil, fmt.Errorf("ioi: no token of %s is the repeated subject %q", p.Clean, a)
		}
		if p.Clean.Len() != p.Corrupt.Len() {
			return nil, fmt.Errorf("ioi: %s and %s tokenize to %d and %d tokens; the head patching needs equal lengths", p.Clean, p.Corrupt, p.Clean.Len(), p.Corrupt.Len())
		}
		out = append(out, p)
	}
	return out, nil
}

// logitDiffs runs the prompts (clean or corrupted) as one batch and returns
// logit(IO) - logit(S) after each.
func logitDiffs(m models.Model, ps []ioiPrompt, corrupt bool) ([]float64, error) {
	batch := make([]lm.Prompt, len(ps))
	for i, p := range ps {
		batch[i] = p.Clean
		if corrupt {
			batch[i] = p.Corrupt
		}
	}
	r, err := m.Run(batch)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(ps))
	for i, p := range ps {
		l, err := r.NextTokenLogits(i)
		if err != nil {
			return nil, err
		}
		out[i] = float64(l[p.IO]) - float64(l[p.S])
	}
	return out, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// patchHeads sweeps every head of every layer, patching its clean output
// into each corrupted prompt (at the prompt's last position when
// lastOnly, else at every position), and returns the mean change of the
// logit difference as a fraction of gap, with the sweep's labels ("0"..
// for layers, "h0".. for heads).
func patchHeads(sw *sweep.Sweeper, ps []ioiPrompt, lastOnly bool, gap float64) (*sweep.Result, error) {
	var sum *sweep.Result
	for _, p := range ps {
		cfg := sweep.Config{Component: lm.HeadAttentionValueOutput, Unit: pv.Head, Metric: sweep.LogitDiff(p.IO, p.S)}
		if lastOnly {
			cfg.Unit, cfg.Positions = pv.HeadPos, []int{p.Corrupt.Last()}
		}
		r, err := sw.Patch(p.Corrupt, p.Clean, cfg)
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = &sweep.Result{Rows: r.Rows, Cols: r.Cols, Values: make([][]float64, len(r.Values))}
			for l := range sum.Values {
				sum.Values[l] = make([]float64, len(r.Values[l]))
			}
		}
		for l, row := range r.Values {
			for h, v := range row {
				sum.Values[l][h] += (v - r.Base) / gap / float64(len(ps))
			}
		}
		sum.Base += r.Base / float64(len(ps))
		sum.Source += r.Source / float64(len(ps))
	}
	return sum, nil
}

// top returns the {row, column} of the largest |value|.
func top(r *sweep.Result) [2]int {
	best, at := -1.0, [2]int{}
	for l, row := range r.Values {
		for h, v := range row {
			if math.Abs(v) > best {
				best, at = math.Abs(v), [2]int{l, h}
			}
		}
	}
	return at
}

// headName is TransformerLens' name of a head: "L4H3".
func headName(l, h int) string { return fmt.Sprintf("L%dH%d", l, h) }

// headBars lists every head's value of r as bars, largest magnitude first.
func headBars(title string, r *sweep.Result, limit int) *plots.Bars {
	b := &plots.Bars{Title: title, XLabel: "fraction of the logit difference restored", Order: plots.ByMagnitude, Limit: limit}
	for l, row := range r.Values {
		for h, v := range row {
			b.Labels = append(b.Labels, headName(l, h))
			b.Values = append(b.Values, v)
		}
	}
	return b
}

func run(m models.Model, o tut.Out) (*result, error) {
	w := o.W
	ps, err := prompts(m)
	if err != nil {
		return nil, err
	}
	r := &result{Prompts: ps}
	if r.CleanLD, err = logitDiffs(m, ps, false); err != nil {
		return nil, err
	}
	if r.CorruptLD, err = logitDiffs(m, ps, true); err != nil {
		return nil, err
	}
	r.MeanClean, r.MeanCorrupt = mean(r.CleanLD), mean(r.CorruptLD)
	fmt.Fprintf(w, "model: %s\n", m)
	table := &plots.TextTable{Title: "logit difference logit(IO) - logit(S), clean and with the subject replaced (ABC)",
		Header: []string{"clean prompt", "IO", "S", "clean", "corrupted (S -> third name)"}}
	for i, p := range ps {
		fmt.Fprintf(w, "%-58q IO %-8q S %-8q clean %6.2f  corrupted (%s) %6.2f\n", p.Clean.Text, p.IOName, p.SName, r.CleanLD[i], p.Third, r.CorruptLD[i])
		table.Rows = append(table.Rows, []string{p.Clean.Text, p.IOName, p.SName,
			fmt.Sprintf("%.2f", r.CleanLD[i]), fmt.Sprintf("%.2f (%s)", r.CorruptLD[i], p.Third)})
	}
	fmt.Fprintf(w, "mean logit difference: clean %.3f, corrupted %.3f\n", r.MeanClean, r.MeanCorrupt)
	if err := o.Show(table, "ioi-prompts.html"); err != nil {
		return nil, err
	}
	gap := r.MeanClean - r.MeanCorrupt
	if gap == 0 || math.IsNaN(gap) {
		return nil, fmt.Errorf("ioi: the clean and corrupted prompts have the same mean logit difference (%g); nothing to restore", r.MeanClean)
	}

	// Activation patching of whole heads, then of heads at the last
	// position (where the answer is read out).
	sw := sweep.New(m)
	if r.Heads, err = patchHeads(sw, ps, false, gap); err != nil {
		return nil, err
	}
	if r.HeadsLast, err = patchHeads(sw, ps, true, gap); err != nil {
		return nil, err
	}
	r.Top, r.TopLast = top(r.Heads), top(r.HeadsLast)
	for _, g := range []struct {
		what string
		res  *sweep.Result
		at   [2]int
		file string
	}{
		{"every position", r.Heads, r.Top, "ioi-heads"},
		{"the last position", r.HeadsLast, r.TopLast, "ioi-heads-last"},
	} {
		fmt.Fprintf(w, "patching heads at %s: %s restores the most, %.3f of the logit difference\n",
			g.what, headName(g.at[0], g.at[1]), g.res.Values[g.at[0]][g.at[1]])
		hm := &plots.HeatMap{Title: "head_attention_value_output patched clean -> corrupted at " + g.what,
			Rows: g.res.Rows, Cols: g.res.Cols, Values: g.res.Values, RowTitle: "layer", ColTitle: "head",
			ColorLabel: "fraction of the logit difference restored", Highlight: [][2]int{g.at}}
		if err := o.Show(hm, g.file+".svg"); err != nil {
			return nil, err
		}
		if err := o.Show(headBars("heads at "+g.what+", largest effects", g.res, 8), g.file+"-bars.svg"); err != nil {
			return nil, err
		}
	}

	// Where the head that matters most at the last position looks from
	// there: its attention pattern on the first prompt.
	if err := r.attention(m, o); err != nil {
		return nil, err
	}

	// Direct logit attribution: each head's direct effect on logit(IO) -
	// logit(S) at the last position of the clean prompts, through the
	// final norm at its cached scale.
	if err := r.directLogitAttribution(m, o); err != nil {
		return nil, err
	}
	// Path patching: each earlier head's corrupted output, along its paths
	// to the inputs (queries, keys, values) of the head that writes the
	// answer most directly (the DLA's top head).
	if err := r.pathPatching(m, o); err != nil {
		return nil, err
	}
	// The logit lens of the first clean prompt: P(IO) at each layer and
	// position, with the top tokens on hover.
	if err := r.logitLens(m, o); err != nil {
		return nil, err
	}

	// Attribution patching: one forward on the clean and the corrupted
	// prompts and one backward estimate every head's patching effect at
	// once; against the exact patching of every head above.
	if err := r.attributionPatching(m, o); err != nil {
		return nil, err
	}
	return r, nil
}

// attributionPatching estimates each head's patching effect with
// gradients (analysis.AttributionPatch, one compiled forward and backward
// for every pair of this length), averages it over the prompts as a
// fraction of the gap, as r.Heads, and plots one against the other.
func (r *result) attributionPatching(m models.Model, o tut.Out) error {
	d := m.Dims()
	at := analysis.NewAttributor(m)
	r.Attribution = make([][]float64, d.Layers)
	for l := range r.Attribution {
		r.Attribution[l] = make([]float64, d.Heads)
	}
	gap := r.MeanClean - r.MeanCorrupt
	for _, p := range r.Prompts {
		res, err := at.Patch(p.Clean, p.Corrupt, analysis.AttribConfig{
			Metric:     govene.MetricSpec{Kind: govene.MetricLogitDiff, Tokens: []int{p.IO, p.S}},
			Components: []lm.Component{lm.HeadAttentionValueOutput}})
		if err != nil {
			return err
		}
		site := res.Sites[0]
		for k, row := range site.Attribution {
			for _, v := range row {
				r.Attribution[site.Layers[k]][site.Heads[k]] += v / float64(len(r.Prompts)) / gap
			}
		}
	}
	var x, y []float64
	var labels []string
	for l := range d.Layers {
		for h := range d.Heads {
			x = append(x, r.Attribution[l][h])
			y = append(y, r.Heads.Values[l][h])
			labels = append(labels, fmt.Sprintf("L%dH%d", l, h))
		}
	}
	r.AttributionR = analysis.Pearson(x, y)
	fmt.Fprintf(o.W, "attribution patching vs exact head patching: r = %.3f over %d heads, %d compiled graphs\n", r.AttributionR, len(x), at.Compiles())
	return o.Show(&plots.Scatter{Title: "attribution patching vs activation patching, per head", XLabel: "attribution patching",
		YLabel: "activation patching", X: x, Y: y, Labels: labels, Correlation: &r.AttributionR, Annotate: 3}, "ioi-attribution.svg")
}

// attention reads head r.TopLast's attention weights on the first clean
// prompt, prints where its last query looks, and shows the pattern.
func (r *result) attention(m models.Model, o tut.Out) error {
	p := r.Prompts[0]
	site := lm.Site{Layer: r.TopLast[0], Component: lm.AttentionWeight}
	res, err := m.Run([]lm.Prompt{p.Clean}, site)
	if err != nil {
		return err
	}
	w, shape, err := res.Row(res.Sites[site], 0, true)
	if err != nil {
		return err
	}
	n, head := p.Clean.Len(), r.TopLast[1]
	if len(shape) != 3 || head >= shape[0] || shape[1] != n || shape[2] != n {
		return fmt.Errorf("ioi: attention weights of layer %d have shape %v; want [heads, %d, %d] with head %d", site.Layer, shape, n, n, head)
	}
	r.Attention = make([][]float64, n)
	for q := range n {
		r.Attention[q] = make([]float64, n)
		for k := range n {
			r.Attention[q][k] = float64(w[(head*n+q)*n+k])
		}
	}
	last := r.Attention[n-1]
	for k, v := range last {
		if v > last[r.Attends] {
			r.Attends = k
		}
	}
	name := headName(r.TopLast[0], head)
	fmt.Fprintf(o.W, "%s attends from the last token to position %d (%q) with weight %.2f; the repeated subject is at %d\n",
		name, r.Attends, p.Clean.Tokens[r.Attends], last[r.Attends], p.S2)
	return o.Show(&plots.AttentionPattern{Title: p.Clean.Text, Head: name, Tokens: p.Clean.Tokens, Weights: r.Attention}, "ioi-attention.svg")
}

// directLogitAttribution fills r.DLA and r.Movers and shows the heads'
// attributions as bars.
func (r *result) directLogitAttribution(m models.Model, o tut.Out) error {
	var prompts []lm.Prompt
	var tokens []int
	index := map[int]int{}
	for _, p := range r.Prompts {
		prompts = append(prompts, p.Clean)
		for _, t := range []int{p.IO, p.S} {
			if _, ok := index[t]; !ok {
				index[t] = len(tokens)
				tokens = append(tokens, t)
			}
		}
	}
	c, err := analysis.RunWithCache(m, prompts)
	if err != nil {
		return err
	}
	st, err := c.StackHeadResults(-1, false, false)
	if err != nil {
		return err
	}
	a, err := analysis.DLA(m, c, st, tokens...)
	if err != nil {
		return err
	}
	d := m.Dims()
	r.DLA = make([][]float64, d.Layers)
	last := c.Batch.Len - 1 // left padding: every prompt's last token
	for l := range d.Layers {
		r.DLA[l] = make([]float64, d.Heads)
		for h := range d.Heads {
			k := l*d.Heads + h
			for i, p := range r.Prompts {
				r.DLA[l][h] += float64(a.At(k, i, last, index[p.IO])-a.At(k, i, last, index[p.S])) / float64(len(r.Prompts))
			}
		}
	}
	dla := &sweep.Result{Values: r.DLA}
	bars := headBars("direct logit attribution to logit(IO) - logit(S), last position", dla, 8)
	bars.XLabel = "logit difference"
	var best []float64
	for _, i := range barsOrder(bars) {
		if v := bars.Values[i]; v > 0.5 && len(r.Movers) < 1 {
			r.Movers = append(r.Movers, [2]int{i / d.Heads, i % d.Heads})
			best = append(best, v)
		}
	}
	fmt.Fprintf(o.W, "direct logit attribution: the heads that write the answer most: %v (%.2f)\n", moverNames(r.Movers), best)
	return o.Show(bars, "ioi-dla.svg")
}

// barsOrder returns the indices of b's values from the largest to the
// smallest.
func barsOrder(b *plots.Bars) []int {
	idx := make([]int, len(b.Values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(b.Values[y], b.Values[x]) })
	return idx
}

func moverNames(hs [][2]int) []string {
	var out []string
	for _, h := range hs {
		out = append(out, headName(h[0], h[1]))
	}
	return out
}

// pathPatching fills r.Path: path patching of every head below the movers,
// from the corrupted prompt into the clean one, along its paths to the
// movers' queries, keys and values, averaged over the prompts.
func (r *result) pathPatching(m models.Model, o tut.Out) error {
	if len(r.Movers) == 0 {
		fmt.Fprintln(o.W, "path patching: no head writes the answer directly; skipped")
		return nil
	}
	var recv []analysis.Receiver
	var layers []int
	for l := range r.Movers[0][0] + 1 {
		layers = append(layers, l)
	}
	for _, h := range r.Movers {
		recv = append(recv, analysis.HeadReceiver(h[0], h[1], analysis.InputQuery, analysis.InputKey, analysis.InputValue))
	}
	lowest := r.Movers[0][0]
	for _, h := range r.Movers {
		lowest = min(lowest, h[0])
	}
	layers = layers[:lowest] // senders below the lowest receiver
	if len(layers) == 0 {
		return nil
	}
	var sum [][]float64
	var rows, cols []string
	for _, p := range r.Prompts {
		pr, err := analysis.PathPatch(m, p.Clean, p.Corrupt, analysis.PathConfig{Layers: layers, Receivers: recv,
			Metric: sweep.LogitDiff(p.IO, p.S), Normalize: true})
		if err != nil {
			return err
		}
		if sum == nil {
			rows, cols = pr.Rows, pr.Cols
			sum = make([][]float64, len(pr.Values))
			for l := range sum {
				sum[l] = make([]float64, len(pr.Values[l]))
			}
		}
		for l, row := range pr.Values {
			for h, v := range row {
				sum[l][h] += v / float64(len(r.Prompts))
			}
		}
	}
	r.Path = sum
	at := top(&sweep.Result{Values: sum})
	fmt.Fprintf(o.W, "path patching to the inputs of %v: %s matters most, %.3f (-1: the corrupted run)\n",
		moverNames(r.Movers), headName(at[0], at[1]), sum[at[0]][at[1]])
	return o.Show(&plots.HeatMap{Title: fmt.Sprintf("path patching -> q, k, v of %v", moverNames(r.Movers)),
		Rows: rows, Cols: cols, Values: sum, RowTitle: "sender layer", ColTitle: "sender head",
		ColorLabel: "normalized logit difference", Highlight: [][2]int{at}}, "ioi-path.svg")
}

// logitLens fills r.Lens for the first clean prompt and shows it.
func (r *result) logitLens(m models.Model, o tut.Out) error {
	p := r.Prompts[0]
	c, err := analysis.RunWithCache(m, []lm.Prompt{p.Clean})
	if err != nil {
		return err
	}
	lens, err := analysis.LogitLens(m, c, analysis.LensConfig{Targets: []int{p.IO}, Top: 5})
	if err != nil {
		return err
	}
	l := &plots.LogitLens{Title: "logit lens: " + p.Clean.Text, Layers: lens.Labels, Tokens: p.Clean.Tokens,
		Target: " " + p.IOName, ShowTop: true}
	for k := range lens.Cells {
		row := make([]float64, p.Clean.Len())
		top := make([][]lm.TokenProb, p.Clean.Len())
		for j, cell := range lens.Cells[k][0] {
			row[j], top[j] = float64(cell.TargetProb), cell.Top
		}
		l.Values, l.Top = append(l.Values, row), append(l.Top, top)
	}
	r.Lens = l
	first := -1
	for k := range l.Values {
		if l.Values[k][p.Clean.Last()] > 0.5 && first < 0 {
			first = k
		}
	}
	if first >= 0 {
		fmt.Fprintf(o.W, "logit lens: P(%q) at the last position passes 0.5 at %s\n", p.IOName, lens.Labels[first])
	}
	return o.Show(l, "ioi-lens.svg")
}

func main() {
	tut.Main("ioi", tut.Result(run))
}
