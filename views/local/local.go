// Package local computes the data of package views' explorers in this
// process, with package analysis (it links GoMLX; package views does not,
// so a cell that explores through a session builds fast).
package local

import (
	"fmt"
	"strconv"

	"github.com/govene/govene/analysis"
	"github.com/govene/govene/lm"
	"github.com/govene/govene/plots"
	"github.com/govene/govene/views"
)

// lensTop is how many top tokens each logit-lens cell lists.
const lensTop = 5

// Lens returns the data of the logit-lens and attribution explorer
// (views.ExploreLens) for prompt and the target tokens, from one cached
// run of m: Grid(t) is the logit lens of targets[t] (its probability in
// each cell, the top tokens in the tooltips and the top one written), and
// Attribution(p, t) each head's direct logit attribution to targets[t] at
// position p (plots.Bars by magnitude, the 16 largest). The lens of a
// target is computed when the explorer first asks for it, the heads'
// attributions to all targets once, at the first ask. Tokens are named by
// m's tokenizer when it has one, else "#id". It returns an error for an
// empty prompt, no targets, a target outside the vocabulary, or the
// cached run's error.
func Lens(m lm.Model, prompt lm.Prompt, targets []int) (*views.Lens, error) {
	n := prompt.Len()
	if n == 0 {
		return nil, fmt.Errorf("views/local: Lens: empty prompt")
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("views/local: Lens: no targets")
	}
	vocab := m.Dims().Vocab
	for i, t := range targets {
		if t < 0 || t >= vocab {
			return nil, fmt.Errorf("views/local: Lens: targets[%d]: %d outside the vocabulary [0, %d)", i, t, vocab)
		}
	}
	name := func(id int) string { return "#" + strconv.Itoa(id) }
	if tok, ok := m.(lm.Tokenizer); ok {
		name = tok.TokenString
	}
	tokens := prompt.Tokens
	if len(tokens) != n {
		tokens = make([]string, n)
		for i, id := range prompt.IDs {
			tokens[i] = name(id)
		}
	}
	c, err := analysis.RunWithCache(m, []lm.Prompt{prompt})
	if err != nil {
		return nil, fmt.Errorf("views/local: Lens: %w", err)
	}
	l := &views.Lens{Title: prompt.Text, Tokens: tokens, Targets: make([]string, len(targets))}
	for i, t := range targets {
		l.Targets[i] = name(t)
	}
	l.Grid = func(target int) (*plots.LogitLens, error) {
		lens, err := analysis.LogitLens(m, c, analysis.LensConfig{Targets: targets[target : target+1], Top: lensTop})
		if err != nil {
			return nil, err
		}
		g := &plots.LogitLens{Title: "logit lens of " + strconv.Quote(l.Targets[target]), Layers: lens.Labels,
			Tokens: tokens, Target: l.Targets[target], ShowTop: true}
		for k := range lens.Cells {
			row := make([]float64, n)
			top := make([][]lm.TokenProb, n)
			for j, cell := range lens.Cells[k][0] {
				row[j], top[j] = float64(cell.TargetProb), cell.Top
			}
			g.Values, g.Top = append(g.Values, row), append(g.Top, top)
		}
		return g, nil
	}
	var dla *analysis.Attribution
	l.Attribution = func(position, target int) (*plots.Bars, error) {
		if dla == nil {
			st, err := c.StackHeadResults(-1, false, false)
			if err != nil {
				return nil, err
			}
			if dla, err = analysis.DLA(m, c, st, targets...); err != nil {
				return nil, err
			}
		}
		b := &plots.Bars{Title: fmt.Sprintf("direct logit attribution to %q at position %d %q", l.Targets[target], position, tokens[position]),
			XLabel: "logit", Labels: dla.Labels, Order: plots.ByMagnitude, Limit: 16}
		col := c.Batch.Offset(0) + position
		for k := range dla.Labels {
			b.Values = append(b.Values, float64(dla.At(k, 0, col, target)))
		}
		return b, nil
	}
	return l, nil
}
