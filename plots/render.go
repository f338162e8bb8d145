package plots

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/govene/govene/internal/atomicfs"
)

// Renderer is anything this package can draw: HTML returns an HTML fragment
// (a <div> with a small scoped <style> block and the plot) for a notebook
// cell or a Report, SVG a standalone <svg> element. Tables are HTML tables
// in HTML and drawn rows in SVG; a Report has no SVG form.
type Renderer interface {
	HTML() (string, error)
	SVG() (string, error)
}

// The notebook hooks, variables so that tests can stand in for GoNB.
var (
	inNotebook   = func() bool { return gonbui.IsNotebook }
	publish      = sendBundle
	uniqueID     = gonbui.UniqueId
	notebookErr  = gonbui.Error
	syncNotebook = gonbui.Sync
)

// sendBundle sends one notebook output, a MIME bundle (MIME type ->
// content), through GoNB; a non-empty id makes it an output that later
// bundles with the same id replace (Jupyter's update_display_data).
// gonbui's DisplayHTML and UpdateHTML only send text/html, and its
// DisplaySVG wraps the SVG in text/html too.
func sendBundle(id string, bundle map[string]string) {
	data := &protocol.DisplayData{Data: make(map[protocol.MIMEType]any, len(bundle)), DisplayID: id}
	for mime, content := range bundle {
		data.Data[protocol.MIMEType(mime)] = content
	}
	gonbui.SendData(data)
}

// InNotebook reports whether the program runs inside a GoNB (Jupyter)
// kernel, which GoNB signals with its GONB_PIPE environment variable.
func InNotebook() bool { return inNotebook() }

// DirEnvVar names the environment variable with the folder Show writes
// files to outside a notebook (default: the current folder).
const DirEnvVar = "GOVENE_PLOTS_DIR"

// style is the CSS of every HTML fragment, scoped to .govene-plot so that it
// leaves the notebook's own styles alone. It holds no '<' or '&', so the
// fragments stay well-formed XML as well as HTML.
const style = `<style>
.govene-plot{font-family:` + sansFont + `;font-size:13px;color:#222;background:#fff;margin:6px 0;display:inline-block;max-width:100%;overflow-x:auto}
.govene-plot svg{display:block;max-width:none}
.govene-plot table{border-collapse:collapse;margin:2px 0}
.govene-plot caption{font-weight:bold;text-align:left;padding:4px 0;font-size:14px}
.govene-plot th,.govene-plot td{padding:2px 8px;border-bottom:1px solid #e6e6e6;text-align:left;white-space:nowrap}
.govene-plot th{font-weight:600;border-bottom:1px solid #999}
.govene-plot td.num,.govene-plot th.num{text-align:right;font-variant-numeric:tabular-nums}
.govene-plot td.id{color:#888;text-align:right;font-size:11px}
.govene-plot code{font-family:` + monoFont + `;white-space:pre;background:#f2f2f2;padding:0 3px;border-radius:2px}
.govene-plot .bar{display:inline-block;height:10px;background:#6a51a3;vertical-align:middle}
.govene-plot .bar.after{background:#e6550d}
.govene-plot .up{color:#1a7f37}
.govene-plot .down{color:#cf222e}
.govene-plot .none{color:#999}
.govene-plot tr.extra td{background:#fffbe6}
.govene-report h1{font-size:22px}
.govene-report h2{font-size:17px;margin-top:18px}
.govene-report p{max-width:60em;line-height:1.4}
.govene-report pre{background:#f6f6f6;padding:6px;overflow-x:auto}
</style>`

// fragment wraps body in the HTML fragment every renderer returns.
func fragment(class, body string) string {
	return `<div class="govene-plot ` + class + `">` + style + body + `</div>`
}

// svgHTML returns the SVG that svg renders wrapped in the HTML fragment of
// class, or svg's error.
func svgHTML(class string, svg func() (string, error)) (string, error) {
	s, err := svg()
	if err != nil {
		return "", err
	}
	return fragment(class, s), nil
}

// gridSVG renders the grid that build lays out, or returns build's error.
func gridSVG(build func() (*gridPlot, error)) (string, error) {
	g, err := build()
	if err != nil {
		return "", err
	}
	return g.svg(), nil
}

// checkFilled returns an error naming typ when r is nil, or typ.field when
// size(r), the length of that field, is 0; else nil. It is the start of
// the renderers' check methods.
func checkFilled[T any](r *T, typ, field string, size func(*T) int) error {
	if r == nil {
		return fmt.Errorf("plots: %s: nil", typ)
	}
	if size(r) == 0 {
		return fmt.Errorf("plots: %s.%s: empty", typ, field)
	}
	return nil
}

// titler is implemented by the package's renderers, for a page's <title>.
type titler interface{ title() string }

// Page returns r as a standalone HTML document.
func Page(r Renderer) (string, error) {
	if r == nil {
		return "", errors.New("plots: Page: nil Renderer")
	}
	body, err := r.HTML()
	if err != nil {
		return "", err
	}
	title := "govene plot"
	if t, ok := r.(titler); ok && t.title() != "" {
		title = t.title()
	}
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>` + esc(oneLine(title)) + `</title>
<style>body{margin:16px;background:#fff}</style>
</head>
<body>
` + body + `
</body>
</html>
`, nil
}

// Display shows r inline in a GoNB notebook cell, as the output that
// NotebookBundle returns (plots as SVG images, tables as inline-styled HTML,
// both of which JupyterLab shows in an untrusted notebook). Outside a
// notebook it shows nothing and returns nil, after checking that r renders
// (so a bad plot fails the same way in a test as in a notebook). It returns
// once GoNB has taken the output (gonbui.Sync): a cell that ends right after
// its last Display otherwise lost that output now and then (one CI run in
// four, 2026-11-30: two of three heat maps of notebook 02).
func Display(r Renderer) error {
	if r == nil {
		return errors.New("plots: Display: nil Renderer")
	}
	b, err := NotebookBundle(r)
	if err != nil {
		return err
	}
	if !inNotebook() {
		return nil
	}
	publish("", b)
	if err := notebookErr(); err != nil {
		return fmt.Errorf("plots: Display: notebook: %w", err)
	}
	syncNotebook()
	return nil
}

// WriteFile writes r to path as a standalone document chosen by the
// extension: .html or .htm (a page, see Page) or .svg (the SVG with an XML
// declaration). It writes a temporary file in the same folder, fsyncs it and
// renames it over path (internal/atomicfs), so a failed or killed write
// leaves an earlier file at path as it was. Errors name path.
func WriteFile(r Renderer, path string) error {
	if r == nil {
		return fmt.Errorf("plots: WriteFile %q: nil Renderer", path)
	}
	var doc string
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".html", ".htm":
		doc, err = Page(r)
	case ".svg":
		doc, err = r.SVG()
		if err == nil {
			doc = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + doc + "\n"
		}
	default:
		return fmt.Errorf("plots: WriteFile %q: extension %q: want .html, .htm or .svg", path, ext)
	}
	if err != nil {
		return fmt.Errorf("plots: WriteFile %q: %w", path, err)
	}
	if err := atomicfs.WriteFile(path, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("plots: WriteFile %q: %w", path, err)
	}
	return nil
}

// Show displays r inline in a GoNB notebook and returns "". Outside a
// notebook it writes r to the file name (".html" is added when name has no
// extension) in $GOVENE_PLOTS_DIR, else the current folder, creating the
// folder if needed, and returns the file's absolute path. An absolute name is
// used as it is.
func Show(r Renderer, name string) (string, error) {
	if r == nil {
		return "", errors.New("plots: Show: nil Renderer")
	}
	if inNotebook() {
		return "", Display(r)
	}
	if name == "" {
		return "", errors.New("plots: Show: name: empty")
	}
	if filepath.Ext(name) == "" {
		name += ".html"
	}
	path := name
	if !filepath.IsAbs(name) {
		dir := os.Getenv(DirEnvVar)
		if dir == "" {
			dir = "."
		}
		path = filepath.Join(dir, name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("plots: Show: %w", err)
	}
	if err := WriteFile(r, path); err != nil {
		return "", err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}
