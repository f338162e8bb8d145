// Package plots draws govene's results as standalone HTML and SVG: token
// probability tables, heat maps of patching and causal-tracing sweeps, line
// charts of training curves, attention patterns, and reports that put
// several of them on one page. The same values show inline in a GoNB
// (Jupyter) notebook and are written to files elsewhere.
//
// # Renderers
//
// Every plot is a Renderer: HTML returns an HTML fragment (a <div> with a
// small <style> block scoped to the class govene-plot, and the plot), SVG a
// standalone <svg> element. Both are strings, so tests and programs can
// check or store them.
//
//   - ProbTable: top-k tokens ([]lm.TokenProb, e.g. from lm.TopK) with bars;
//     like Comparison and TextTable it has a plain-text form (Text).
//   - Comparison: base against intervened probabilities with the change in
//     percentage points, green up and red down; made by CompareTable from two
//     []lm.TokenProb, or by CompareVectors from two full probability vectors,
//     a label function, k, and extra tokens always shown (" Rome", " Paris").
//   - HeatMap: e.g. layers x tokens (sweep.Result's Rows, Cols and Values
//     fit as they are; Transpose draws tokens down and layers across, as
//     ROME's causal-tracing figures do), with axis titles, tooltips holding
//     exact values, a color scale with marked values (e.g. the corrupted
//     baseline and the clean probability), optional fixed Min/Max and
//     highlighted cells. NaN and infinite cells are neutral gray with
//     "nan", "+inf" or "-inf" in their tooltip.
//   - AttentionPattern (one head, query x key, lower triangular) and
//     AttentionHeads (small multiples sharing a color scale).
//   - LogitLens: layers x positions colored by the target token's
//     probability (or rank, on a log scale), with the top tokens and their
//     probabilities in each cell's tooltip and, with ShowTop, the top token
//     written in the cell.
//   - Bars: signed horizontal bars with labels and values (e.g. per-head
//     direct logit attribution), in order, by value or by magnitude,
//     optionally only the first Limit.
//   - Scatter: pairs of values (e.g. attribution patching against exact
//     patching) on one shared range with the diagonal y = x, labels in
//     tooltips (and written for the Annotate largest points), and the
//     correlation in the title.
//   - LineChart: lines with axes, ticks, grid and legend, log y optional;
//     LiveChart grows one while a loop runs, redrawing one notebook output in
//     place (one output with a display id of its own) or printing a
//     progress line outside notebooks.
//   - Report: headings, paragraphs, preformatted text and any renderers on
//     one page.
//
// Tokens are shown as they are, spaces included, with invalid UTF-8 (GPT-2's
// byte-level tokens can split a character) and control characters written as
// Go escapes (\xe2, \n), and every string is escaped, so the output is
// always well-formed XML: "<|endoftext|>" is written &lt;|endoftext|&gt;.
// Bad input (mismatched lengths, an empty grid, Min above Max, an
// out-of-range highlight) is an error that names the field, never a panic.
//
// # Showing and saving
//
// Display(r) shows r in the notebook when the program runs in a GoNB kernel
// (GoNB sets GONB_PIPE; see InNotebook); elsewhere it shows nothing and
// returns nil, or the error if r does not render.
// WriteFile(r, path) writes a standalone .html page or .svg file, atomically
// (a temporary file renamed over path). Show(r, name) is Display in a
// notebook and WriteFile to name in $GOVENE_PLOTS_DIR (else the current
// folder) outside, returning the path. In a notebook cell:
//
//	probs := lm.Softmax(logits)
//	plots.Display(&plots.ProbTable{Title: "next token", Tokens: lm.TopK(probs, 10, tok.Token)})
//	plots.Display(&plots.HeatMap{Title: "causal trace", Rows: res.Rows, Cols: res.Cols, Values: res.Values})
//
//	live := plots.NewLiveChart(plots.LineChart{Title: "DAS", XLabel: "step", YLabel: "loss"})
//	for step := ... { live.Add("train", float64(step), loss) }
//	live.Flush()
//
// # Libraries
//
// LineChart is drawn by gonum.org/v1/plot (v0.15.2, which GoMLX already
// requires) with its SVG backend: it is well kept, and its axis ranges, tick
// placement, text measurement and legend layout are better than a
// hand-written chart's. The package adds what the library lacks: a legend
// outside the data area, gaps for NaN/Inf points (gonum rejects them),
// 1-2-5 log ticks, decimation of long series, font fallbacks (Arial, which
// has Liberation Sans' metrics), pixel sizes, input checks that keep
// gonum's panics (e.g. a log scale over values <= 0) out of reach, and a
// recover as a last guard.
//
// The heat maps, logit lenses, attention patterns, bar charts, scatter
// plots and tables are hand-written SVG and HTML. gonum's HeatMap (which does have a NaN color) draws no per-cell
// tooltips, needs custom tickers to put token strings on its numeric axes,
// and its color bar is a separate plot to align by hand; a table is not a
// plot at all. github.com/erkkah/margaid (also in GoMLX's module graph) was
// tried for line charts and dropped: one NaN turns every coordinate of a
// line into NaN, it writes the attribute "viewbox" (SVG needs viewBox, so
// the chart does not scale), and it has no tooltips. The colormaps are
// matplotlib's viridis and ColorBrewer's sequential Purples, Blues, Greens
// and Reds (as in ROME's figures) and RdBu reversed for signed values.
//
// Notebook output goes through github.com/janpfeifer/gonb/gonbui (v0.11.4):
// SendData with a MIME bundle (see NotebookBundle), a UniqueId display id
// for live charts, and Sync.
//
// # Untrusted notebooks
//
// JupyterLab treats the saved outputs of a notebook it did not run (every
// fresh clone) as untrusted: it passes text/html through its sanitiser,
// which drops <svg> and <style> elements but keeps their text (an inline
// SVG plot turns into a wall of numbers), and it refuses image/svg+xml
// outputs outright. So in a notebook, plots are sent as text/html holding
// an <img> whose src is the SVG as a data: URI (the sanitiser keeps img
// src), and tables as HTML tables styled only with inline style attributes
// and the attributes the sanitiser keeps; each with a text/plain
// alternative (an aligned text table, or the plot's title and size).
// Tooltips on cells show in files written by WriteFile, not in notebooks.
//
// HTML output is also well-formed XML (void elements self-closed, numeric
// character references only), so the tests parse every HTML fragment and
// page with encoding/xml in strict mode: golang.org/x/net/html is not in
// the module graph, and an HTML5 parser accepts anything anyway.
package plots
