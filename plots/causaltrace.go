package plots

import (
	"fmt"

	"github.com/govene/govene"
)

// TraceHeatMaps renders a causal trace's grids (trace.Result.Data, or what
// a session returns), one heat map per grid: tokens down and layers across,
// as in ROME's figures, subject tokens marked with "*", and the corrupted
// and clean probabilities marked on the color bar. A nil trace gives none.
func TraceHeatMaps(r *govene.TraceResult) []*HeatMap {
	if r == nil {
		return nil
	}
	cols := make([]string, len(r.Tokens))
	for i, t := range r.Tokens {
		cols[i] = t
		if i >= r.SubjectFrom && i < r.SubjectTo {
			cols[i] = t + "*"
		}
	}
	var out []*HeatMap
	for _, g := range r.Grids {
		title := fmt.Sprintf("restoring %s", g.Component)
		if g.Window > 1 {
			title += fmt.Sprintf(" (window of %d layers)", g.Window)
		}
		out = append(out, &HeatMap{Title: title, Rows: g.Result.Rows, Cols: cols, Values: g.Result.Values,
			ColorLabel: fmt.Sprintf("P(%q)", r.Config.Target), Min: Float(0), Max: Float(1),
			Transpose: true, RowTitle: "layer", ColTitle: "token (* = subject)",
			Marks: []Mark{{Label: "corrupted", Value: r.Corrupted}, {Label: "clean", Value: r.Clean}}})
	}
	return out
}

// TraceReport is a standalone page of a causal trace: what was corrupted
// and the target's probabilities, a table of the clean and corrupted
// next-token distributions (when label, which names token ids, is not nil
// and the trace holds them), and TraceHeatMaps. A nil trace gives an empty
// report. label is called for up to every id (the target is found by its
// text), so give a cheap one: over a session, fetch every token's text
// once (Model.Tokens) and index that slice.
func TraceReport(r *govene.TraceResult, label func(id int) string) *Report {
	if r == nil {
		return NewReport("Causal trace")
	}
	c := r.Config
	rep := NewReport(fmt.Sprintf("Causal trace: %q -> %q", c.Prompt, c.Target))
	rep.Paragraph(fmt.Sprintf("Subject %q (tokens %d..%d) corrupted with Gaussian noise of level %.3g (%.0fx the embeddings' standard deviation). P(%q): clean %.4f, corrupted %.4f. Each cell restores the clean value at one layer and position.",
		c.Subject, r.SubjectFrom, r.SubjectTo-1, r.NoiseLevel, c.NoiseScale, c.Target, r.Clean, r.Corrupted))
	if label != nil && r.CleanProbs != nil {
		if t, err := CompareVectors("next token, clean and with the subject corrupted", r.CleanProbs, r.CorruptedProbs, label, 8,
			CompareOptions{BeforeLabel: "clean", AfterLabel: "corrupted"}, c.Target); err == nil {
			rep.Add(t)
		}
	}
	for _, h := range TraceHeatMaps(r) {
		rep.Add(h)
	}
	return rep
}
