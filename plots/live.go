package plots

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// LiveChart is a LineChart that grows while a program runs, e.g. a training
// loop's loss: each Add appends a point and re-renders the chart. In a GoNB
// notebook the chart is redrawn in place, in one output block of the cell
// (an output with a display id of its own, replaced by each re-render's
// NotebookBundle: an SVG image, so the chart saved with the notebook shows
// in an untrusted notebook too); elsewhere each re-render
// prints a progress line with every series' latest point. Re-renders are at
// most one per Interval; a pending one runs after the Interval, or at Flush.
// A LiveChart is safe for concurrent use.
type LiveChart struct {
	// Interval is the least time between two re-renders (default 500ms).
	// Set it before the first Add.
	Interval time.Duration
	// Out receives the progress lines outside a notebook (default
	// os.Stdout). Set it before the first Add.
	Out io.Writer

	mu      sync.Mutex
	chart   LineChart
	index   map[string]int
	id      string
	last    time.Time
	pending bool
	timer   *time.Timer
	err     error
}

// NewLiveChart returns a LiveChart drawn like chart (title, axis labels,
// LogY, YMin, YMax, size); chart's series, if any, are its first points.
func NewLiveChart(chart LineChart) *LiveChart {
	c := &LiveChart{chart: chart, index: map[string]int{}}
	c.chart.Series = nil
	for _, s := range chart.Series {
		c.index[s.Name] = len(c.chart.Series)
		c.chart.Series = append(c.chart.Series, copySeries(s))
	}
	return c
}

func copySeries(s Series) Series {
	out := Series{Name: s.Name, Y: append([]float64(nil), s.Y...)}
	if s.X != nil {
		out.X = append([]float64(nil), s.X...)
	} else {
		out.X = make([]float64, len(s.Y))
		for i := range out.X {
			out.X[i] = float64(i)
		}
	}
	return out
}

func (c *LiveChart) title() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chart.Title
}

// Add appends the point (x, y) to the named series (a new series starts the
// first time its name is seen) and re-renders the chart if the Interval
// has passed since the last time. Rendering errors are kept for Err.
func (c *LiveChart) Add(series string, x, y float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[series]
	if !ok {
		i = len(c.chart.Series)
		c.index[series] = i
		c.chart.Series = append(c.chart.Series, Series{Name: series})
	}
	s := &c.chart.Series[i]
	s.X = append(s.X, x)
	s.Y = append(s.Y, y)
	c.pending = true
	interval := c.interval()
	if since := time.Since(c.last); since >= interval {
		c.renderLocked()
	} else if c.timer == nil {
		c.timer = time.AfterFunc(interval-since, c.tick)
	}
}

func (c *LiveChart) interval() time.Duration {
	if c.Interval > 0 {
		return c.Interval
	}
	return 500 * time.Millisecond
}

func (c *LiveChart) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if c.pending {
		c.renderLocked()
	}
}

// renderLocked draws the chart; c.mu is held.
func (c *LiveChart) renderLocked() {
	c.pending = false
	c.last = time.Now()
	if !inNotebook() {
		out := c.Out
		if out == nil {
			out = os.Stdout
		}
		if _, err := fmt.Fprintln(out, c.progressLocked()); err != nil {
			c.err = fmt.Errorf("plots: LiveChart: %w", err)
		}
		return
	}
	b, err := NotebookBundle(&c.chart)
	if err != nil {
		c.err = err
		return
	}
	if c.id == "" {
		c.id = "govene_live_" + uniqueID()
	}
	publish(c.id, b)
	if err := notebookErr(); err != nil {
		c.err = fmt.Errorf("plots: LiveChart: notebook: %w", err)
	}
}

// progressLocked is the progress line: the title, then each series' latest
// point.
func (c *LiveChart) progressLocked() string {
	var parts []string
	for _, s := range c.chart.Series {
		if len(s.Y) == 0 {
			continue
		}
		n := len(s.Y) - 1
		name := s.Name
		if name == "" {
			name = "y"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s %s)", oneLine(name), short4(s.Y[n]), axisName(c.chart.XLabel, "x"), short4(s.X[n])))
	}
	line := strings.Join(parts, "  ")
	if c.chart.Title != "" {
		line = oneLine(c.chart.Title) + ": " + line
	}
	return line
}

func axisName(l, def string) string {
	if l == "" {
		return def
	}
	return oneLine(l)
}

func short4(v float64) string {
	if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}

// Flush re-renders the chart now if points were added since the last
// render, waits (in a notebook) until GoNB has taken the output, and
// returns the last rendering error. Call it when the loop ends (a program
// may exit before a pending re-render).
func (c *LiveChart) Flush() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.pending {
		c.renderLocked()
	}
	err := c.err
	nb := c.id != ""
	c.mu.Unlock()
	if nb {
		syncNotebook()
	}
	return err
}

// Err returns the last error rendering or showing the chart, if any.
func (c *LiveChart) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Chart returns a copy of the chart as it is now, e.g. to save it at the
// end with WriteFile.
func (c *LiveChart) Chart() LineChart {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.chart
	out.Series = make([]Series, len(c.chart.Series))
	for i, s := range c.chart.Series {
		out.Series[i] = copySeries(s)
	}
	return out
}

// SVG renders the chart as it is now.
func (c *LiveChart) SVG() (string, error) {
	ch := c.Chart()
	return ch.SVG()
}

// HTML renders the chart as it is now, in an HTML fragment.
func (c *LiveChart) HTML() (string, error) {
	ch := c.Chart()
	return ch.HTML()
}
