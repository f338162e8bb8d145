package views

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/govene/govene/plots"
)

// Lens is what the logit-lens and attribution explorer draws from: a
// prompt's positions, the target tokens to choose from, and functions that
// compute the logit lens for a target and the direct logit attribution at
// a position (e.g. with package analysis: LogitLens with Targets, and DLA
// of StackHeadResults read at the position). The explorer calls each at
// most once per argument and keeps the result.
type Lens struct {
	// Title names the view (e.g. the prompt's text).
	Title string
	// Tokens are the prompt's tokens, the positions to choose from.
	Tokens []string
	// Targets are the target tokens to choose from (e.g. " Mary", " John").
	Targets []string
	// Grid returns the logit lens (layers x Tokens) of Targets[target].
	Grid func(target int) (*plots.LogitLens, error)
	// Attribution returns the direct logit attribution to
	// Targets[target] at Tokens[position] (e.g. one bar per head). Nil:
	// the view shows the grid only.
	Attribution func(position, target int) (*plots.Bars, error)
}

func (l *Lens) check() error {
	switch {
	case l == nil:
		return fmt.Errorf("views: Lens: nil")
	case len(l.Tokens) == 0:
		return fmt.Errorf("views: Lens.Tokens: empty")
	case len(l.Targets) == 0:
		return fmt.Errorf("views: Lens.Targets: empty")
	case l.Grid == nil:
		return fmt.Errorf("views: Lens.Grid: nil")
	}
	return nil
}

// LensView is the logit-lens explorer's view of one selection: the
// prompt's tokens with the selected position marked, the logit lens of
// the selected target (Grid) and the direct logit attribution to it at
// that position (Bars, optional). It is a plots.Renderer with no SVG form.
type LensView struct {
	// Title names the view.
	Title string
	// Tokens are the prompt's tokens; Targets the target tokens.
	Tokens, Targets []string
	// Position (into Tokens) and Target (into Targets) are the selection.
	Position, Target int
	// Grid is the logit lens of the target (required).
	Grid *plots.LogitLens
	// Bars is the attribution at the position (nil: not shown).
	Bars *plots.Bars
}

func (v *LensView) check() error {
	if v == nil {
		return fmt.Errorf("views: LensView: nil")
	}
	if err := checkChoice("LensView.Position", v.Position, len(v.Tokens)); err != nil {
		return err
	}
	if err := checkChoice("LensView.Target", v.Target, len(v.Targets)); err != nil {
		return err
	}
	if v.Grid == nil {
		return fmt.Errorf("views: LensView.Grid: nil")
	}
	return nil
}

func (v *LensView) heading() string {
	s := fmt.Sprintf("target %s at position %d %s", quoted(v.Targets[v.Target]), v.Position, quoted(v.Tokens[v.Position]))
	if v.Title != "" {
		s = v.Title + " — " + s
	}
	return s
}

// HTML returns the view as an HTML fragment (also well-formed XML): a
// <div class="govene-view govene-lens"> with data-position and
// data-target attributes, the tokens (the selected one outlined), then
// the grid and the bars as images. It returns an error for a selection
// out of range, a nil Grid, or the plots' errors.
func (v *LensView) HTML() (string, error) {
	if err := v.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(heading(v.heading()))
	b.WriteString(`<div style="line-height:2em">`)
	for i, t := range v.Tokens {
		style := tokenStyle
		if i == v.Position {
			style += ";outline:2px solid #e6550d;background:#fff3e0"
		}
		fmt.Fprintf(&b, `<span data-pos="%d" title="position %d" style="%s">%s</span>`, i, i, style, tokenHTML(t))
	}
	b.WriteString(`</div>`)
	grid, err := plotHTML(v.Grid)
	if err != nil {
		return "", err
	}
	b.WriteString(grid)
	if v.Bars != nil {
		bars, err := plotHTML(v.Bars)
		if err != nil {
			return "", err
		}
		b.WriteString(bars)
	}
	return wrap("lens", [][2]string{{"position", strconv.Itoa(v.Position)}, {"target", strconv.Itoa(v.Target)}}, b.String()), nil
}

// Text returns the selection and the plots' titles as plain text, or
// HTML's errors.
func (v *LensView) Text() (string, error) {
	if err := v.check(); err != nil {
		return "", err
	}
	s := v.heading() + "\nlogit lens: " + plots.OneLine(v.Grid.Title)
	if v.Bars != nil {
		s += "\nattribution: " + plots.OneLine(v.Bars.Title)
	}
	return s + "\n", nil
}

// SVG returns an error: the view is HTML only.
func (v *LensView) SVG() (string, error) { return "", noSVG("LensView") }

// memo calls f at most once per key and keeps its result (errors too).
type memo[K comparable, V any] struct {
	f    func(K) (V, error)
	done map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v   V
	err error
}

func newMemo[K comparable, V any](f func(K) (V, error)) *memo[K, V] {
	return &memo[K, V]{f: f, done: map[K]memoEntry[V]{}}
}

func (m *memo[K, V]) get(k K) (V, error) {
	if e, ok := m.done[k]; ok {
		return e.v, e.err
	}
	v, err := m.f(k)
	m.done[k] = memoEntry[V]{v, err}
	return v, err
}

// ExploreLens shows the logit-lens and attribution explorer in a GoNB
// notebook: position and target selectors above the view (LensView),
// which each change redraws in place; a change of position calls only
// data.Attribution, a change of target both functions, each once per
// argument (results are kept). The cell runs until Done or opts.Idle.
// Outside a notebook, or when the page does not answer, it renders the
// first selection and returns. It returns the last view shown, or an error
// for bad data, a first selection out of range or the functions' errors
// on it.
func ExploreLens(data *Lens, position, target int, opts Options) (*LensView, error) {
	if err := data.check(); err != nil {
		return nil, err
	}
	grids := newMemo(data.Grid)
	type at struct{ position, target int }
	bars := newMemo(func(k at) (*plots.Bars, error) {
		if data.Attribution == nil {
			return nil, nil
		}
		return data.Attribution(k.position, k.target)
	})
	controls := []control{
		{label: "position", options: tokenOptions(data.Tokens), value: position},
		{label: "target", options: tokenOptions(data.Targets), value: target},
	}
	v, err := explore(defaultFrontEnd, controls, func(sel []int) (view, error) {
		if err := checkChoice("position", sel[0], len(data.Tokens)); err != nil {
			return nil, err
		}
		if err := checkChoice("target", sel[1], len(data.Targets)); err != nil {
			return nil, err
		}
		g, err := grids.get(sel[1])
		if err != nil {
			return nil, fmt.Errorf("views: Lens.Grid(%d): %w", sel[1], err)
		}
		b, err := bars.get(at{sel[0], sel[1]})
		if err != nil {
			return nil, fmt.Errorf("views: Lens.Attribution(%d, %d): %w", sel[0], sel[1], err)
		}
		return &LensView{Title: data.Title, Tokens: data.Tokens, Targets: data.Targets, Position: sel[0], Target: sel[1], Grid: g, Bars: b}, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	return v.(*LensView), nil
}
