// Package views holds interactive explorers for GoNB notebooks: a notebook
// cell calls one, it shows widgets (gonbui/widgets selects, sliders and a
// Done button) above a view, and each change of selection redraws the view
// in place.
//
//   - ExploreAttention: layer and head selectors over a prompt's attention
//     (FetchAttention runs the prompt once through a govene.Model, local or
//     a session's, reading every layer's attention_weight site; a change of
//     selection only re-renders). Hovering a token shows the tokens it
//     attends to, shaded by weight; the head's query x key pattern is below.
//   - ExploreLens: position and target selectors over a logit lens and a
//     direct logit attribution, computed by functions the caller gives, each
//     at most once per argument; views/local.Lens makes them with package
//     analysis from one cached run of a model in this process.
//   - ExploreFeatures: a feature slider (or a select of chosen features)
//     over prompts' tokens shaded by that feature's activation, from a
//     function func(feature int) ([][]float32, error) (e.g. an SAE's).
//
// Each explorer has a pure view (AttentionView, LensView, FeatureView): a
// plots.Renderer with no SVG form whose HTML method returns the view as an
// HTML fragment (well-formed XML too; tokens escaped as package plots
// shows them) with data attributes naming the selection, and Text a
// plain-text form. plots.WriteFile(view, "x.html") saves one.
//
// # In a notebook
//
// The view is an output with a display id of its own: a change of
// selection replaces it (Jupyter's update_display_data), so no output is
// appended, and the saved notebook holds the last selection. The view is
// styled with inline style attributes and its plots are <img> of SVG, which
// an untrusted notebook shows too; only the hover (one <style> rule) needs
// a trusted output, and each token's tooltip lists where it attends
// without it. The widgets need the notebook's page (their JavaScript talks
// to the cell's program through GoNB's comms), so the cell keeps running
// while they are in use: until Done is clicked, or Options.Idle (default 5
// minutes) passes without a change; then the widgets are removed and the
// last view stays. A notebook run without a Jupyter server (nbconvert,
// papermill, make test; GoNB's kernel then has no $JPY_SESSION_NAME) shows
// the first selection at once, and one whose page does not answer the
// widgets after Options.Connect (default 10 seconds).
// Outside a notebook the explorers render the first selection and return
// it (written to a file when Options.Name is set).
//
//	a := nb.Must(views.FetchAttention(m, nb.Must(m.Encode("When Mary and John went to the store, John gave a drink to"))))
//	nb.Must(views.ExploreAttention(a, 4, 3, views.Options{}))
//
//	nb.Must(views.ExploreFeatures(&views.Features{Prompts: toks, Count: sae.Features(), Activations: acts}, 0, views.Options{}))
//
// The package links no GoMLX (a cell that talks to a session builds fast).
package views
