package job_test

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/govene/govene/job"
)

// Interchange intervention accuracy of the residual stream after block 6
// of the shipped model over a JSONL dataset, in shards of 16 examples:
// each line is {"base": ..., "sources": [...], "label": " token"}.
func ExampleRun() {
	out, err := os.MkdirTemp("", "govene-job-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(out)
	spec := job.Spec{
		Kind:      job.IIA,
		Dataset:   "testdata/iia.jsonl",
		Out:       out,
		Sites:     []string{"blocks.6.block_output"},
		ShardSize: 16,
		BatchSize: 8,
	}
	m, err := job.Run(context.Background(), spec, nil) // progress: nil is silent, os.Stderr shows a bar
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("rows:", m.Rows, "shards:", len(m.Shards))
	sh := m.Shards[1]
	fmt.Printf("%s: rows [%d, %d)\n", sh.File, sh.First, sh.End)
	var names []string
	for name := range sh.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Println(" ", name, sh.Tensors[name])
	}
	fmt.Printf("IIA: %.2f (%v of %v)\n", m.Summary["iia"], m.Summary["correct"], m.Summary["total"])
	// A second Run keeps the finished shards and recomputes nothing.
	again, err := job.Run(context.Background(), spec, os.Stdout)
	fmt.Println(err, again.Summary["iia"] == m.Summary["iia"])
	// Output:
	// rows: 24 shards: 2
	// shard-00001.safetensors: rows [16, 24)
	//   correct [8]
	//   label [8]
	//   predicted [8]
	//   row [8]
	// IIA: 1.00 (24 of 24)
	// job: kept 2 finished shards of 2
	// <nil> true
}
