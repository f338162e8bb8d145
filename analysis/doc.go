// Package analysis holds the analysis methods of issue #15 (cache decomposition, logit
// lens, direct logit attribution, attribution and path patching); testdata holds their
// TransformerLens 4.3.0 reference values (oracle/make_analysis_fixtures.py).
package analysis
