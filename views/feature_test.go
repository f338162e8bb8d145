package views

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govene/govene/plots"
)

var featurePrompts = [][]string{{"The", " <city>"}, {" Paris", " & ", "\t"}}

// featureActs: feature f fires on token (f % 2) of every prompt, f+1 high.
func featureActs(calls map[int]int) func(int) ([][]float32, error) {
	return func(f int) ([][]float32, error) {
		calls[f]++
		if f == 13 {
			return nil, errors.New("feature 13 is dead")
		}
		out := make([][]float32, len(featurePrompts))
		for i, p := range featurePrompts {
			out[i] = make([]float32, len(p))
			out[i][f%2] = float32(f + 1)
		}
		return out, nil
	}
}

func TestFeatureViewHTML(t *testing.T) {
	for _, c := range []struct {
		name string
		v    *FeatureView
		want []string
	}{
		{"feature 0", &FeatureView{Feature: 0, Prompts: featurePrompts, Acts: [][]float32{{1, 0}, {0.5, 0, 0}}},
			[]string{`data-feature="0"`, "&lt;city&gt;", " &amp; ", `>\t<`, "background:" + plots.Reds.Color(1), "background:" + plots.Reds.Color(0.5),
				`feature 0, prompt 1 token 0 &#34; Paris&#34;: 0.5`, "largest activation 1"}},
		{"feature 7 with Max", &FeatureView{Title: "sae <x>", Feature: 7, Prompts: featurePrompts, Acts: [][]float32{{0, 2}, {0, 0, 4}}, Max: 8},
			[]string{`data-feature="7"`, "sae &lt;x&gt; — feature 7", "background:" + plots.Reds.Color(0.25), "background:" + plots.Reds.Color(0.5), "shaded from 0 (white) to 8"}},
		{"negative drawn as 0", &FeatureView{Feature: 1, Prompts: featurePrompts, Acts: [][]float32{{-3, 0}, {0, 0, 0}}},
			[]string{"background:" + plots.Reds.Color(0), ": -3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := htmlOf(t, c.v)
			for _, w := range c.want {
				if !strings.Contains(h, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			if strings.Contains(h, "<city>") {
				t.Error("an unescaped token")
			}
		})
	}
	a := htmlOf(t, &FeatureView{Feature: 0, Prompts: featurePrompts, Acts: [][]float32{{1, 0}, {0, 0, 0}}})
	b := htmlOf(t, &FeatureView{Feature: 0, Prompts: featurePrompts, Acts: [][]float32{{0, 1}, {0, 0, 0}}})
	if a == b {
		t.Error("other activations render the same HTML")
	}
	for _, c := range []struct {
		name string
		v    *FeatureView
		want string
	}{
		{"nil", nil, "FeatureView: nil"},
		{"prompts", &FeatureView{}, "FeatureView.Prompts: empty"},
		{"acts", &FeatureView{Prompts: featurePrompts, Acts: [][]float32{{1, 2}}}, "FeatureView.Acts: 1 prompts, but FeatureView.Prompts has 2"},
		{"ragged", &FeatureView{Prompts: featurePrompts, Acts: [][]float32{{1, 2}, {1}}}, "FeatureView.Acts[1]: 1 values, but FeatureView.Prompts[1] has 3 tokens"},
		{"max", &FeatureView{Prompts: featurePrompts, Acts: [][]float32{{1, 2}, {1, 2, 3}}, Max: -1}, "FeatureView.Max: -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.v.HTML(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	txt, err := (&FeatureView{Feature: 2, Prompts: featurePrompts, Acts: [][]float32{{0, 2}, {0, 0, 0}}}).Text()
	if err != nil || txt != "feature 2\nThe <city>[2]\n Paris & \\t\n" {
		t.Errorf("Text = %q, %v", txt, err)
	}
}

func TestExploreFeatures(t *testing.T) {
	calls := map[int]int{}
	fe := &fakeFrontEnd{inNotebook: true, changes: []change{{0, 5}, {0, 13}, {0, 2}, {0, 5}}}
	withFrontEnd(t, fe)
	v, err := ExploreFeatures(&Features{Prompts: featurePrompts, Count: 20, Activations: featureActs(calls)}, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(calls) != "map[2:1 5:1 13:1]" {
		t.Errorf("Activations calls %v, want each feature once", calls)
	}
	if v.Feature != 5 {
		t.Errorf("last view feature %d, want 5", v.Feature)
	}
	if c := fe.controls[0]; c.options != nil || c.min != 0 || c.max != 19 || c.value != 2 {
		t.Errorf("control %+v, want a slider 0..19 at 2", c)
	}
	if len(fe.shows) != 5 || !strings.Contains(fe.shows[2].bundle[plots.MIMEHTML], "feature 13 is dead") {
		t.Errorf("%d outputs; want 5, the third the error", len(fe.shows))
	}

	calls = map[int]int{}
	fe = &fakeFrontEnd{inNotebook: true, changes: []change{{0, 1}}}
	withFrontEnd(t, fe)
	v, err = ExploreFeatures(&Features{Prompts: featurePrompts, Choices: []int{40, 7}, Activations: featureActs(calls)}, 40, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Feature != 7 || fmt.Sprint(calls) != "map[7:1 40:1]" {
		t.Errorf("feature %d, calls %v; want 7 after picking the second choice", v.Feature, calls)
	}
	if c := fe.controls[0]; fmt.Sprint(c.options) != "[40 7]" || c.value != 0 {
		t.Errorf("control %+v, want a select of 40, 7 at 40", c)
	}

	for _, c := range []struct {
		name    string
		f       *Features
		feature int
		want    string
	}{
		{"no count", &Features{Prompts: featurePrompts, Activations: featureActs(calls)}, 0, "Features.Count: 0"},
		{"out of range", &Features{Prompts: featurePrompts, Count: 3, Activations: featureActs(calls)}, 3, "feature: 3 out of range: want 0 to 2"},
		{"not a choice", &Features{Prompts: featurePrompts, Choices: []int{1}, Activations: featureActs(calls)}, 3, "feature 3 is not one of Features.Choices [1]"},
		{"dead first", &Features{Prompts: featurePrompts, Count: 20, Activations: featureActs(calls)}, 13, "Features.Activations(13): feature 13 is dead"},
		{"no func", &Features{Prompts: featurePrompts, Count: 2}, 0, "Features.Activations: nil"},
	} {
		t.Run(c.name, func(t *testing.T) {
			withFrontEnd(t, &fakeFrontEnd{})
			if _, err := ExploreFeatures(c.f, c.feature, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestExploreWritesOutsideNotebook(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(plots.DirEnvVar, dir)
	withFrontEnd(t, &fakeFrontEnd{})
	if _, err := ExploreFeatures(&Features{Prompts: featurePrompts, Count: 4, Activations: featureActs(map[int]int{})}, 3, Options{Name: "feature"}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "feature.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `data-feature="3"`) || !strings.HasPrefix(string(page), "<!DOCTYPE html>") {
		t.Errorf("feature.html is not a page of feature 3:\n%s", page)
	}
	withFrontEnd(t, &fakeFrontEnd{})
	if _, err := ExploreFeatures(&Features{Prompts: featurePrompts, Count: 4, Activations: featureActs(map[int]int{})}, 1, Options{}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files written; with no Name nothing more should be", len(entries))
	}
}
