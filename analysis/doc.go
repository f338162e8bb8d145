// Package analysis holds TransformerLens-style analysis methods on govene's models: cache decompositions, the logit lens, direct logit attribution, attribution patching and path patching.
package analysis
