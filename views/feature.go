package views

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/govene/govene/plots"
)

// Features is what the feature viewer draws from: prompts' tokens and a
// function returning one feature's activation at every token (e.g. an
// SAE's encoder output for that feature). The viewer calls it once per
// feature and keeps the result.
type Features struct {
	// Title names the view (e.g. the SAE's name).
	Title string
	// Prompts holds each prompt's tokens.
	Prompts [][]string
	// Count is the number of features: the slider runs from 0 to
	// Count-1. Ignored when Choices is set.
	Count int
	// Choices, when not nil, are the features offered, in a select (e.g.
	// a position's top features), instead of the slider.
	Choices []int
	// Activations returns feature's activations, [prompts][tokens] in the
	// shape of Prompts.
	Activations func(feature int) ([][]float32, error)
}

func (f *Features) check() error {
	switch {
	case f == nil:
		return fmt.Errorf("views: Features: nil")
	case len(f.Prompts) == 0:
		return fmt.Errorf("views: Features.Prompts: empty")
	case f.Activations == nil:
		return fmt.Errorf("views: Features.Activations: nil")
	case f.Choices == nil && f.Count <= 0:
		return fmt.Errorf("views: Features.Count: %d: want 1 or more (or set Choices)", f.Count)
	case f.Choices != nil && len(f.Choices) == 0:
		return fmt.Errorf("views: Features.Choices: empty")
	}
	for i, c := range f.Choices {
		if c < 0 {
			return fmt.Errorf("views: Features.Choices[%d]: %d: want 0 or more", i, c)
		}
	}
	return nil
}

// FeatureView is the feature viewer's view of one feature: each prompt's
// tokens shaded by the feature's activation (white at 0, dark at Max),
// each token's tooltip holding the exact value. It is a plots.Renderer
// with no SVG form.
type FeatureView struct {
	// Title names the view.
	Title string
	// Feature is the feature shown.
	Feature int
	// Prompts holds each prompt's tokens; Acts the activations in the
	// same shape.
	Prompts [][]string
	Acts    [][]float32
	// Max is the activation drawn darkest (0: the largest activation
	// shown; negative activations are drawn as 0).
	Max float64
}

func (v *FeatureView) check() error {
	if v == nil {
		return fmt.Errorf("views: FeatureView: nil")
	}
	if len(v.Prompts) == 0 {
		return fmt.Errorf("views: FeatureView.Prompts: empty")
	}
	if len(v.Acts) != len(v.Prompts) {
		return fmt.Errorf("views: FeatureView.Acts: %d prompts, but FeatureView.Prompts has %d", len(v.Acts), len(v.Prompts))
	}
	for i, p := range v.Prompts {
		if len(v.Acts[i]) != len(p) {
			return fmt.Errorf("views: FeatureView.Acts[%d]: %d values, but FeatureView.Prompts[%d] has %d tokens", i, len(v.Acts[i]), i, len(p))
		}
	}
	if v.Max < 0 || math.IsNaN(v.Max) || math.IsInf(v.Max, 0) {
		return fmt.Errorf("views: FeatureView.Max: %v: want 0 (automatic) or a positive number", v.Max)
	}
	return nil
}

// scale returns the activation drawn darkest and the largest one.
func (v *FeatureView) scale() (top, largest float64) {
	largest = math.Inf(-1)
	for _, p := range v.Acts {
		for _, a := range p {
			if float64(a) > largest {
				largest = float64(a)
			}
		}
	}
	top = v.Max
	if top == 0 {
		top = largest
	}
	if !(top > 0) {
		top = 1
	}
	return top, largest
}

// HTML returns the view as an HTML fragment (also well-formed XML): a
// <div class="govene-view govene-feature"> with a data-feature attribute,
// one line of shaded tokens per prompt. It returns an error for Acts not
// in the shape of Prompts or a bad Max.
func (v *FeatureView) HTML() (string, error) {
	if err := v.check(); err != nil {
		return "", err
	}
	top, largest := v.scale()
	var b strings.Builder
	title := fmt.Sprintf("feature %d", v.Feature)
	if v.Title != "" {
		title = v.Title + " — " + title
	}
	b.WriteString(heading(title))
	for i, p := range v.Prompts {
		fmt.Fprintf(&b, `<div data-prompt="%d" style="line-height:2em">`, i)
		for j, t := range p {
			a := float64(v.Acts[i][j])
			b.WriteString(shaded(t, a/top, plots.Reds, fmt.Sprintf("feature %d, prompt %d token %d %s: %s", v.Feature, i, j, quoted(t), num(a))))
		}
		b.WriteString(`</div>`)
	}
	b.WriteString(note(fmt.Sprintf("shaded from 0 (white) to %s; largest activation %s", num(top), num(largest))))
	return wrap("feature", [][2]string{{"feature", strconv.Itoa(v.Feature)}}, b.String()), nil
}

// Text returns the view as plain text: each prompt's tokens with their
// nonzero activations in brackets, or HTML's errors.
func (v *FeatureView) Text() (string, error) {
	if err := v.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "feature %d\n", v.Feature)
	for i, p := range v.Prompts {
		for j, t := range p {
			b.WriteString(plots.TokenText(t))
			if a := v.Acts[i][j]; a != 0 {
				b.WriteString("[" + num(float64(a)) + "]")
			}
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// SVG returns an error: the view is HTML only.
func (v *FeatureView) SVG() (string, error) { return "", noSVG("FeatureView") }

// ExploreFeatures shows the feature viewer in a GoNB notebook: a feature
// slider (0 to Count-1) or, with Choices, a select, above the view
// (FeatureView), which each change redraws in place, calling
// data.Activations once per feature (results are kept). The cell runs
// until Done or opts.Idle. Outside a notebook, or when the page does not
// answer, it renders the first feature and returns. It returns the last
// view shown, or an error for bad data, a first feature out of range or
// Activations' error on it.
func ExploreFeatures(data *Features, feature int, opts Options) (*FeatureView, error) {
	if err := data.check(); err != nil {
		return nil, err
	}
	acts := newMemo(data.Activations)
	c := control{label: "feature", min: 0, max: data.Count - 1, value: feature}
	pick := func(v int) int { return v }
	if data.Choices != nil {
		c = control{label: "feature", options: make([]string, len(data.Choices)), value: -1}
		for i, f := range data.Choices {
			c.options[i] = strconv.Itoa(f)
			if f == feature {
				c.value = i
			}
		}
		if c.value < 0 {
			return nil, fmt.Errorf("views: ExploreFeatures: feature %d is not one of Features.Choices %v", feature, data.Choices)
		}
		pick = func(v int) int { return data.Choices[v] }
	}
	v, err := explore(defaultFrontEnd, []control{c}, func(sel []int) (view, error) {
		if data.Choices != nil {
			if err := checkChoice("feature choice", sel[0], len(data.Choices)); err != nil {
				return nil, err
			}
		} else if err := checkChoice("feature", sel[0], data.Count); err != nil {
			return nil, err
		}
		f := pick(sel[0])
		a, err := acts.get(f)
		if err != nil {
			return nil, fmt.Errorf("views: Features.Activations(%d): %w", f, err)
		}
		fv := &FeatureView{Title: data.Title, Feature: f, Prompts: data.Prompts, Acts: a}
		return fv, fv.check()
	}, opts)
	if err != nil {
		return nil, err
	}
	return v.(*FeatureView), nil
}
