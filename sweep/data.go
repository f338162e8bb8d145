package sweep

import (
	"fmt"

	"github.com/govene/govene"
)

// Corruption adds fixed noise to the token embeddings at Positions; see
// govene.Corruption.
type Corruption = govene.Corruption

// Result is a grid of metric values; see govene.SweepResult.
type Result = govene.SweepResult

// MetricOf returns the Metric a govene.MetricSpec names (TokenProb or
// LogitDiff), or an error naming the bad field and the valid kinds.
func MetricOf(m govene.MetricSpec) (Metric, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if m.Kind == govene.MetricLogitDiff {
		return LogitDiff(m.Tokens[0], m.Tokens[1]), nil
	}
	return TokenProb(m.Tokens[0]), nil
}

// ConfigFrom returns the Config of data g, with its metric built by
// MetricOf and no OnProgress callback; an error for a bad metric. The
// sweep checks the other fields when it runs.
func ConfigFrom(g govene.SweepConfig) (Config, error) {
	m, err := MetricOf(g.Metric)
	if err != nil {
		return Config{}, err
	}
	return Config{Component: g.Component, Unit: g.Unit, Layers: g.Layers, Positions: g.Positions,
		Window: g.Window, Metric: m, ChunkSize: g.ChunkSize, MaxBytes: g.MaxBytes}, nil
}
