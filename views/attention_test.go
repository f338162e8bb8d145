package views

import (
	"fmt"
	"strings"
	"testing"

	"github.com/govene/govene"
	"github.com/govene/govene/plots"
)

// testAttention is 2 layers x 2 heads over 3 tokens: head (l, h) attends
// from every query to key (l+h) % 3 where it may, else to itself.
func testAttention() *Attention {
	toks := []string{"<|endoftext|>", " Tom & Jerry", "\n"}
	a := &Attention{Title: "test <prompt>", Tokens: toks, Weights: make([][][][]float64, 2)}
	for l := range 2 {
		a.Weights[l] = make([][][]float64, 2)
		for h := range 2 {
			w := make([][]float64, 3)
			for q := range 3 {
				w[q] = make([]float64, 3)
				k := (l + h) % 3
				if k > q {
					k = q
				}
				w[q][k] = 1
			}
			a.Weights[l][h] = w
		}
	}
	return a
}

func TestAttentionViewHTML(t *testing.T) {
	data := testAttention()
	for _, c := range []struct {
		name        string
		layer, head int
		want        []string
	}{
		{"L0H0", 0, 0, []string{`data-layer="0" data-head="0"`, "layer 0 head 0 (L0H0)", "test &lt;prompt&gt;",
			"&lt;|endoftext|&gt;", " Tom &amp; Jerry", `>\n<`, `L0H0 query 2 &#34;\n&#34; attends to: 0 &#34;&lt;|endoftext|&gt;&#34; 1`}},
		{"L1H1", 1, 1, []string{`data-layer="1" data-head="1"`, "(L1H1)", `L1H1 query 2 &#34;\n&#34; attends to: 2 &#34;\n&#34; 1`}},
		{"L0H1", 0, 1, []string{`data-head="1"`, `L0H1 query 1 &#34; Tom &amp; Jerry&#34; attends to: 1`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := htmlOf(t, &AttentionView{Data: data, Layer: c.layer, Head: c.head})
			for _, w := range c.want {
				if !strings.Contains(h, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			if strings.Contains(h, "<|endoftext|>") || strings.Contains(h, "Tom & Jerry") {
				t.Error("HTML holds an unescaped token")
			}
			if n := strings.Count(h, `class="gv-q"`); n != 3 {
				t.Errorf("%d hoverable tokens, want 3", n)
			}
			if !strings.Contains(h, `<img src="data:image/svg+xml;base64,`) {
				t.Error("no attention pattern image")
			}
		})
	}
	a := htmlOf(t, &AttentionView{Data: data, Layer: 0, Head: 0})
	b := htmlOf(t, &AttentionView{Data: data, Layer: 0, Head: 1})
	if a == b {
		t.Error("another head renders the same HTML")
	}
}

func TestAttentionViewErrors(t *testing.T) {
	ragged := testAttention()
	ragged.Weights[1][0][2] = []float64{1}
	for _, c := range []struct {
		name string
		v    *AttentionView
		want string
	}{
		{"nil", nil, "AttentionView: nil"},
		{"no data", &AttentionView{}, "Attention: nil"},
		{"layer", &AttentionView{Data: testAttention(), Layer: 2}, "AttentionView.Layer: 2 out of range: want 0 to 1"},
		{"head", &AttentionView{Data: testAttention(), Head: -1}, "AttentionView.Head: -1 out of range"},
		{"ragged", &AttentionView{Data: ragged}, "Attention.Weights[1][0][2]: 1 keys, but Attention.Tokens has 3"},
		{"no tokens", &AttentionView{Data: &Attention{}}, "Attention.Tokens: empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.v.HTML()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("HTML error %v, want one containing %q", err, c.want)
			}
			if _, terr := c.v.Text(); terr == nil {
				t.Error("Text: no error")
			}
		})
	}
}

func TestExploreAttention(t *testing.T) {
	for _, c := range []struct {
		name       string
		fe         fakeFrontEnd
		wantShows  int
		wantLayer  int
		wantHead   int
		wantRemove bool
	}{
		{"not in a notebook", fakeFrontEnd{}, 0, 1, 0, false},
		{"no page", fakeFrontEnd{inNotebook: true, noPage: true}, 1, 1, 0, false},
		{"no answer", fakeFrontEnd{inNotebook: true, noAnswer: true}, 1, 1, 0, false},
		{"head then layer", fakeFrontEnd{inNotebook: true, changes: []change{{1, 1}, {0, 0}}}, 3, 0, 1, true},
		{"bad choice shows an error", fakeFrontEnd{inNotebook: true, changes: []change{{1, 7}}}, 2, 1, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe := c.fe
			withFrontEnd(t, &fe)
			v, err := ExploreAttention(testAttention(), 1, 0, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Layer != c.wantLayer || v.Head != c.wantHead {
				t.Errorf("last view L%dH%d, want L%dH%d", v.Layer, v.Head, c.wantLayer, c.wantHead)
			}
			if len(fe.shows) != c.wantShows {
				t.Fatalf("%d outputs sent, want %d", len(fe.shows), c.wantShows)
			}
			for i, s := range fe.shows {
				if s.id != "view1" {
					t.Errorf("output %d has display id %q: every redraw must replace the first", i, s.id)
				}
				if i > 0 && s.bundle[plots.MIMEHTML] == fe.shows[i-1].bundle[plots.MIMEHTML] {
					t.Errorf("output %d is the same as the one before", i)
				}
			}
			if fe.removed != c.wantRemove {
				t.Errorf("widgets removed %v, want %v", fe.removed, c.wantRemove)
			}
			if wantWidgets := c.fe.inNotebook && !c.fe.noPage; (fe.placed == 1) != wantWidgets {
				t.Errorf("widgets' output made %d times, want it %v", fe.placed, wantWidgets)
			}
			if c.fe.inNotebook && !c.fe.noPage && len(fe.controls) != 2 {
				t.Errorf("%d widgets, want 2 (layer, head)", len(fe.controls))
			}
		})
	}
	if _, err := ExploreAttention(testAttention(), 5, 0, Options{}); err == nil || !strings.Contains(err.Error(), "AttentionView.Layer: 5") {
		t.Errorf("first layer out of range: error %v", err)
	}
}

// fakeModel answers Run with attention weights w[l][h][q][k] = (l+h+q+k)/100.
type fakeModel struct {
	govene.Model
	dims govene.Dims
	runs int
}

func (m *fakeModel) Dims() govene.Dims { return m.dims }

func (m *fakeModel) Tokens(ids []int) ([]string, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("t%d", id)
	}
	return out, nil
}

func (m *fakeModel) Run(prompts []govene.Prompt, sites ...govene.Site) (*govene.Output, error) {
	m.runs++
	n, h := prompts[0].Len(), m.dims.Heads
	out := &govene.Output{Sites: map[string]govene.Tensor{}}
	for _, s := range sites {
		t := govene.Tensor{Shape: []int{1, h, n, n}, Data: make([]float32, h*n*n)}
		for i := range t.Data {
			hh, q, k := i/(n*n), i/n%n, i%n
			t.Data[i] = float32(s.Layer+hh+q+k) / 100
		}
		out.Sites[s.String()] = t
	}
	return out, nil
}

func TestFetchAttention(t *testing.T) {
	m := &fakeModel{dims: govene.Dims{Layers: 3, Heads: 2}}
	a, err := FetchAttention(m, govene.Prompt{IDs: []int{5, 6, 7, 8}})
	if err != nil {
		t.Fatal(err)
	}
	if m.runs != 1 {
		t.Errorf("%d runs, want 1", m.runs)
	}
	if strings.Join(a.Tokens, ",") != "t5,t6,t7,t8" {
		t.Errorf("tokens %v", a.Tokens)
	}
	if len(a.Weights) != 3 || len(a.Weights[2]) != 2 {
		t.Fatalf("weights %d layers", len(a.Weights))
	}
	if got, want := a.Weights[2][1][3][1], float64(float32(2+1+3+1)/100); got != want {
		t.Errorf("Weights[2][1][3][1] = %v, want %v", got, want)
	}
	if _, err := FetchAttention(m, govene.Prompt{}); err == nil {
		t.Error("empty prompt: no error")
	}
}
