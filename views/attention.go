package views

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/govene/govene"
	"github.com/govene/govene/plots"
)

// Attention holds one prompt's attention weights at every layer and head,
// fetched once (FetchAttention) so that the explorer redraws from it.
type Attention struct {
	// Title names the view (e.g. the prompt's text).
	Title string
	// Tokens are the prompt's tokens, the queries and keys.
	Tokens []string
	// Weights[l][h][q][k] is head h of layer l's attention from query q to
	// key k: layers x heads x len(Tokens) x len(Tokens).
	Weights [][][][]float64
}

// FetchAttention runs prompt through m once, reading the attention_weight
// site of every layer, and returns the weights of all layers and heads. m
// may live in this process (engine.New) or in a session
// (session.Connect). It returns an error for an empty prompt, a failed
// run, or a site missing from the output or of an unexpected shape.
func FetchAttention(m govene.Model, prompt govene.Prompt) (*Attention, error) {
	if m == nil {
		return nil, fmt.Errorf("views: FetchAttention: nil model")
	}
	n := prompt.Len()
	if n == 0 {
		return nil, fmt.Errorf("views: FetchAttention: empty prompt")
	}
	tokens := prompt.Tokens
	if len(tokens) != n {
		var err error
		if tokens, err = m.Tokens(prompt.IDs); err != nil {
			return nil, fmt.Errorf("views: FetchAttention: %w", err)
		}
	}
	d := m.Dims()
	sites := make([]govene.Site, d.Layers)
	for l := range sites {
		sites[l] = govene.Site{Layer: l, Component: govene.AttentionWeight}
	}
	out, err := m.Run([]govene.Prompt{prompt}, sites...)
	if err != nil {
		return nil, fmt.Errorf("views: FetchAttention: %w", err)
	}
	a := &Attention{Title: prompt.Text, Tokens: tokens, Weights: make([][][][]float64, d.Layers)}
	for l, s := range sites {
		t, ok := out.Sites[s.String()]
		if !ok {
			return nil, fmt.Errorf("views: FetchAttention: site %s missing from the output", s)
		}
		if len(t.Shape) != 4 || t.Shape[0] != 1 || t.Shape[2] != n || t.Shape[3] != n || len(t.Data) != t.Shape[1]*n*n {
			return nil, fmt.Errorf("views: FetchAttention: site %s has shape %v with %d values; want [1 heads %d %d]", s, t.Shape, len(t.Data), n, n)
		}
		heads := t.Shape[1]
		a.Weights[l] = make([][][]float64, heads)
		for h := range heads {
			w := make([][]float64, n)
			for q := range n {
				w[q] = make([]float64, n)
				for k := range n {
					w[q][k] = float64(t.Data[(h*n+q)*n+k])
				}
			}
			a.Weights[l][h] = w
		}
	}
	return a, nil
}

// check returns an error naming the first field of a that is empty or of
// the wrong shape.
func (a *Attention) check() error {
	if a == nil {
		return fmt.Errorf("views: Attention: nil")
	}
	n := len(a.Tokens)
	if n == 0 {
		return fmt.Errorf("views: Attention.Tokens: empty")
	}
	if len(a.Weights) == 0 {
		return fmt.Errorf("views: Attention.Weights: no layers")
	}
	for l, heads := range a.Weights {
		if len(heads) == 0 {
			return fmt.Errorf("views: Attention.Weights[%d]: no heads", l)
		}
		for h, w := range heads {
			if len(w) != n {
				return fmt.Errorf("views: Attention.Weights[%d][%d]: %d query rows, but Attention.Tokens has %d", l, h, len(w), n)
			}
			for q, row := range w {
				if len(row) != n {
					return fmt.Errorf("views: Attention.Weights[%d][%d][%d]: %d keys, but Attention.Tokens has %d", l, h, q, len(row), n)
				}
			}
		}
	}
	return nil
}

// AttentionView is the attention explorer's view of one head: the prompt's
// tokens, each of which, hovered, shows below the line the tokens it
// attends to, shaded by weight (and lists its top keys in its tooltip,
// which an untrusted notebook keeps), and the head's query x key pattern
// (plots.AttentionPattern). It is a plots.Renderer with no SVG form. The
// HTML holds every query's row of keys, n² tokens for n tokens (about 60 KB
// for 14), which each redraw sends.
type AttentionView struct {
	// Data holds the weights of every layer and head.
	Data *Attention
	// Layer and Head select the head shown.
	Layer, Head int
	// Top is how many keys a token's tooltip lists (default 3).
	Top int
}

func (v *AttentionView) head() ([][]float64, error) {
	if v == nil {
		return nil, fmt.Errorf("views: AttentionView: nil")
	}
	if err := v.Data.check(); err != nil {
		return nil, err
	}
	if err := checkChoice("AttentionView.Layer", v.Layer, len(v.Data.Weights)); err != nil {
		return nil, err
	}
	if err := checkChoice("AttentionView.Head", v.Head, len(v.Data.Weights[v.Layer])); err != nil {
		return nil, err
	}
	return v.Data.Weights[v.Layer][v.Head], nil
}

func (v *AttentionView) name() string { return fmt.Sprintf("L%dH%d", v.Layer, v.Head) }

func (v *AttentionView) top() int {
	if v.Top > 0 {
		return v.Top
	}
	return 3
}

// topKeys returns the indices of row's k largest weights, largest first
// (ties: the earlier key).
func topKeys(row []float64, k int) []int {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	if k < len(idx) {
		idx = idx[:k]
	}
	return idx
}

// queryTip is query q's tooltip: where it attends most.
func (v *AttentionView) queryTip(w [][]float64, q int) string {
	var parts []string
	for _, k := range topKeys(w[q], v.top()) {
		parts = append(parts, fmt.Sprintf("%d %s %s", k, quoted(v.Data.Tokens[k]), num(w[q][k])))
	}
	return fmt.Sprintf("%s query %d %s attends to: %s", v.name(), q, quoted(v.Data.Tokens[q]), strings.Join(parts, ", "))
}

// attentionStyle shows a query's keys while the query is hovered, and
// styles the keys (n² of them: a class keeps them short). Only the hover
// needs it: an untrusted notebook drops it, and the tooltips remain.
const attentionStyle = `<style>.govene-attention .gv-q{cursor:default}` +
	`.govene-attention .gv-q:hover{outline:2px solid #e6550d}` +
	`.govene-attention .gv-q:hover .gv-keys{display:block !important}` +
	`.govene-attention .gv-k{` + tokenStyle + `}</style>`

// HTML returns the view as an HTML fragment (also well-formed XML): a
// <div class="govene-view govene-attention"> with data-layer and data-head
// attributes. It returns an error for missing or mis-shaped data or a
// layer or head out of range.
func (v *AttentionView) HTML() (string, error) {
	w, err := v.head()
	if err != nil {
		return "", err
	}
	toks := v.Data.Tokens
	var b strings.Builder
	b.WriteString(attentionStyle)
	title := fmt.Sprintf("attention, layer %d head %d (%s)", v.Layer, v.Head, v.name())
	if v.Data.Title != "" {
		title = v.Data.Title + " — " + title
	}
	b.WriteString(heading(title))
	b.WriteString(`<div style="position:relative;padding-bottom:2.4em;line-height:2em">`)
	for q := range toks {
		fmt.Fprintf(&b, `<span class="gv-q" data-q="%d" title="%s" style="%s;background:#f6f6f6">%s`,
			q, esc(v.queryTip(w, q)), tokenStyle, tokenHTML(toks[q]))
		b.WriteString(`<span class="gv-keys" style="display:none;position:absolute;left:0;bottom:0;white-space:nowrap">`)
		for k := range toks {
			if k > q && w[q][k] == 0 {
				// A causal model's future keys: grayed.
				fmt.Fprintf(&b, `<span class="gv-k" style="color:#bbb">%s</span>`, tokenHTML(toks[k]))
				continue
			}
			bg := plots.Blues.Color(unit(w[q][k]))
			fmt.Fprintf(&b, `<span class="gv-k" style="background:%s;color:%s">%s</span>`, bg, textOn(bg), tokenHTML(toks[k]))
		}
		b.WriteString(`</span></span>`)
	}
	b.WriteString(`</div>`)
	b.WriteString(note("hover a token to see where it attends (shaded by weight); its tooltip lists the top keys"))
	img, err := plotHTML(&plots.AttentionPattern{Title: v.Data.Title, Head: v.name(), Tokens: toks, Weights: w})
	if err != nil {
		return "", err
	}
	b.WriteString(img)
	return wrap("attention", [][2]string{{"layer", strconv.Itoa(v.Layer)}, {"head", strconv.Itoa(v.Head)}}, b.String()), nil
}

// Text returns the view as plain text: the head, then each query's top
// keys, one line per token. It returns HTML's errors.
func (v *AttentionView) Text() (string, error) {
	w, err := v.head()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "attention, layer %d head %d (%s)\n", v.Layer, v.Head, v.name())
	for q := range v.Data.Tokens {
		b.WriteString(v.queryTip(w, q) + "\n")
	}
	return b.String(), nil
}

// SVG returns an error: the view is HTML only.
func (v *AttentionView) SVG() (string, error) { return "", noSVG("AttentionView") }

// ExploreAttention shows the attention explorer in a GoNB notebook: layer
// and head selectors (gonbui widgets) above the view of the selected head
// (AttentionView), which each change of selection redraws in place from
// data, with no model run; the cell runs until Done is clicked or
// opts.Idle passes without a change. Outside a notebook, or when the page
// does not answer the widgets, it renders the first selection (layer and
// head as given) and returns. It returns the last view shown, or an error
// for bad data or a first selection out of range.
func ExploreAttention(data *Attention, layer, head int, opts Options) (*AttentionView, error) {
	if err := data.check(); err != nil {
		return nil, err
	}
	heads := len(data.Weights[0])
	controls := []control{
		{label: "layer", options: labels("", len(data.Weights)), value: layer},
		{label: "head", options: labels("", heads), value: head},
	}
	v, err := explore(defaultFrontEnd, controls, func(sel []int) (view, error) {
		v := &AttentionView{Data: data, Layer: sel[0], Head: sel[1]}
		_, err := v.head()
		return v, err
	}, opts)
	if err != nil {
		return nil, err
	}
	return v.(*AttentionView), nil
}
