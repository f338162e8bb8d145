package views

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/govene/govene/plots"
)

// testLens is a Lens over 3 tokens and 2 targets that counts its calls.
func testLens(grids, bars map[string]int) *Lens {
	toks := []string{"When", " Mary", " <b>"}
	return &Lens{
		Title: "lens & test", Tokens: toks, Targets: []string{" Mary", " John"},
		Grid: func(target int) (*plots.LogitLens, error) {
			grids[fmt.Sprint(target)]++
			v := float64(target+1) / 4
			return &plots.LogitLens{Title: fmt.Sprintf("lens of target %d", target), Tokens: toks, Target: "x",
				Values: [][]float64{{v, v, v}, {v / 2, v, 1}}}, nil
		},
		Attribution: func(position, target int) (*plots.Bars, error) {
			bars[fmt.Sprint(position, target)]++
			if position == 0 && target == 1 {
				return nil, errors.New("no attribution here")
			}
			return &plots.Bars{Title: fmt.Sprintf("DLA at %d to %d", position, target), Labels: []string{"L0H0", "L0H1"},
				Values: []float64{float64(position), -float64(target)}}, nil
		},
	}
}

func TestLensViewHTML(t *testing.T) {
	grid := &plots.LogitLens{Tokens: []string{"a", "b"}, Values: [][]float64{{0.1, 0.9}}}
	bars := &plots.Bars{Values: []float64{1, -2}}
	for _, c := range []struct {
		name string
		v    *LensView
		want []string
		lack []string
	}{
		{"position 1 with bars", &LensView{Tokens: []string{"<a>", "b"}, Targets: []string{" P&Q"}, Position: 1, Grid: grid, Bars: bars},
			[]string{`data-position="1" data-target="0"`, `target &#34; P&amp;Q&#34; at position 1 &#34;b&#34;`, "&lt;a&gt;", `data-pos="1" title="position 1" style="` + tokenStyle + `;outline`},
			[]string{"<a>"}},
		{"position 0 without bars", &LensView{Tokens: []string{"<a>", "b"}, Targets: []string{" P&Q"}, Grid: grid},
			[]string{`data-position="0"`, `data-pos="0" title="position 0" style="` + tokenStyle + `;outline`},
			[]string{`data-pos="1" title="position 1" style="` + tokenStyle + `;outline`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := htmlOf(t, c.v)
			for _, w := range c.want {
				if !strings.Contains(h, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			for _, w := range c.lack {
				if strings.Contains(h, w) {
					t.Errorf("HTML holds %q", w)
				}
			}
			imgs := 1
			if c.v.Bars != nil {
				imgs = 2
			}
			if n := strings.Count(h, "<img "); n != imgs {
				t.Errorf("%d images, want %d", n, imgs)
			}
		})
	}
	for _, c := range []struct {
		name string
		v    *LensView
		want string
	}{
		{"nil", nil, "LensView: nil"},
		{"position", &LensView{Tokens: []string{"a"}, Targets: []string{"x"}, Position: 1, Grid: grid}, "LensView.Position: 1 out of range: want 0 to 0"},
		{"target", &LensView{Tokens: []string{"a"}, Grid: grid}, "LensView.Target: nothing to choose from"},
		{"grid", &LensView{Tokens: []string{"a"}, Targets: []string{"x"}}, "LensView.Grid: nil"},
		{"bad grid", &LensView{Tokens: []string{"a"}, Targets: []string{"x"}, Grid: &plots.LogitLens{}}, "LogitLens.Tokens: empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.v.HTML(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestExploreLens(t *testing.T) {
	grids, bars := map[string]int{}, map[string]int{}
	fe := &fakeFrontEnd{inNotebook: true, changes: []change{
		{0, 2}, // position 2: bars only
		{1, 1}, // target 1: grid and bars
		{0, 1}, // position 1
		{1, 0}, // back to target 0: kept
		{0, 0}, // position 0, target 0: kept
		{1, 1}, // position 0, target 1: Attribution fails, an error is shown
	}}
	withFrontEnd(t, fe)
	v, err := ExploreLens(testLens(grids, bars), 0, 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(grids) != "map[0:1 1:1]" {
		t.Errorf("Grid calls %v, want each target once", grids)
	}
	if fmt.Sprint(bars) != "map[0 0:1 0 1:1 1 0:1 1 1:1 2 0:1 2 1:1]" {
		t.Errorf("Attribution calls %v, want each (position, target) once", bars)
	}
	if len(fe.shows) != 7 {
		t.Fatalf("%d outputs, want 7", len(fe.shows))
	}
	last := fe.shows[6].bundle[plots.MIMEHTML]
	if !strings.Contains(last, "Lens.Attribution(0, 1): no attribution here") || !strings.Contains(last, "govene-error") {
		t.Errorf("last output %q: want the Attribution error", last)
	}
	if v.Position != 0 || v.Target != 0 {
		t.Errorf("last good view at (%d, %d), want (0, 0)", v.Position, v.Target)
	}
	for i, want := range []string{`data-position="0" data-target="0"`, `data-position="2" data-target="0"`, `data-position="2" data-target="1"`} {
		if h := fe.shows[i].bundle[plots.MIMEHTML]; !strings.Contains(h, want) {
			t.Errorf("output %d lacks %q", i, want)
		}
	}
	if _, err := ExploreLens(&Lens{Tokens: []string{"a"}, Targets: []string{"b"}}, 0, 0, Options{}); err == nil || !strings.Contains(err.Error(), "Lens.Grid: nil") {
		t.Errorf("no Grid: error %v", err)
	}
}
