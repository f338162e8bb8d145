// Command govene-beam runs govene's dataset jobs (collect, patch, iia) as
// Apache Beam pipelines:
//
//	govene-beam collect|patch|iia -model M -data D -out O [job flags] [Beam flags]
//
// The job flags are those of `govene job`; the Beam flags are the Go SDK's
// (-runner prism|flink|spark|dataflow|universal, -endpoint,
// -environment_type, -environment_config, -worker_binary, -job_name,
// -parallelism, ...). The default runner is Prism, embedded in this
// process. The binary is also its own Beam worker: on linux/amd64 it
// stages itself as the worker binary (unless -worker_binary names another),
// and a runner's SDK harness starts it with -worker and the harness flags,
// and no job kind.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/govene/govene/beam/beamjob"
	"github.com/govene/govene/job"
)

const usage = `usage: govene-beam collect|patch|iia -model M -data D -out O [flags]

Runs a govene job as an Apache Beam pipeline; the output folder receives the
same shards and manifest.json as "govene job". Finished shards in -out are
kept, the rest computed.

Job flags (those of "govene job"):
`

func main() {
	args := os.Args[1:]
	kind := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kind, args = args[0], args[1:]
	}
	var spec job.Spec
	job.BindFlags(flag.CommandLine, &spec)
	logLevel := flag.String("log_level", "warn", "level of Beam's and Prism's logs: debug | info | warn | error")
	flag.Usage = func() { printUsage(flag.CommandLine) }
	if err := flag.CommandLine.Parse(args); err != nil {
		os.Exit(2) // the flag package printed the error, naming the flag
	}
	beamlog.LogLevel = *logLevel
	// In worker mode (-worker) Init runs the Beam harness and never returns.
	beam.Init()
	selfAsWorker()
	if kind == "" {
		flag.Usage()
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "govene-beam %s: unexpected argument %q (flags go after the job's name)\n", kind, flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	spec.Kind = kind
	if err := run(ctx, spec, os.Stdout); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "govene-beam:", err)
		os.Exit(1)
	}
}

// selfAsWorker sets Beam's -worker_binary, when unset, to this executable
// on linux/amd64 (the platform of Beam's workers). Without it the SDK
// cross-compiles the main package with CGO_ENABLED=0, which cannot build
// the XLA backend. On other platforms -worker_binary must name a
// linux/amd64 build of govene-beam.
func selfAsWorker() {
	if *jobopts.WorkerBinary != "" || runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return
	}
	if self, err := os.Executable(); err == nil {
		*jobopts.WorkerBinary = self
	}
}

// run runs the job spec as a pipeline on the runner Beam's flags pick and
// prints a summary to w.
func run(ctx context.Context, spec job.Spec, w io.Writer) error {
	kind := spec.Kind
	if kind == "" {
		return fmt.Errorf("missing the job kind: one of %s", strings.Join(job.Kinds, ", "))
	}
	if !slices.Contains(job.Kinds, kind) {
		return fmt.Errorf("job kind %q: valid kinds are %s", kind, strings.Join(job.Kinds, ", "))
	}
	var counts beamjob.Counts
	m, err := beamjob.Run(ctx, spec, beamjob.Options{Counts: &counts, Progress: true})
	if err != nil {
		return err
	}
	if m == nil {
		fmt.Fprintf(w, "%s: submitted (-async); %s appears when every shard is done\n", kind, filepath.Join(spec.Out, job.ManifestFile))
		return nil
	}
	fmt.Fprintf(w, "%s: %d rows in %d shards (%d computed, %d kept) -> %s\n",
		kind, m.Rows, len(m.Shards), counts.Computed, counts.Kept, spec.Out)
	for _, k := range slices.Sorted(maps.Keys(m.Summary)) {
		fmt.Fprintf(w, "  %s: %g\n", k, m.Summary[k])
	}
	return nil
}

// printUsage writes the usage text to fs's output: the job's flags first,
// then -log_level and the Beam Go SDK's flags.
func printUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, usage)
	jobFlags := flag.NewFlagSet("job", flag.ContinueOnError)
	job.BindFlags(jobFlags, new(job.Spec))
	jobFlags.SetOutput(w)
	jobFlags.PrintDefaults()
	fmt.Fprint(w, "\nBeam flags (the Go SDK's; -runner picks prism, flink, spark, dataflow or universal):\n")
	rest := flag.NewFlagSet("beam", flag.ContinueOnError)
	fs.VisitAll(func(f *flag.Flag) {
		if jobFlags.Lookup(f.Name) == nil {
			rest.Var(f.Value, f.Name, f.Usage)
		}
	})
	rest.SetOutput(w)
	rest.PrintDefaults()
}
