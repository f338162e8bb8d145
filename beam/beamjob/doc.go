// Package beamjob runs the dataset jobs of package job (collect, patch,
// iia) as Apache Beam pipelines: one element per shard, reshuffled across
// workers, each worker process loading the model once and computing the
// shards it is given, then one element writing manifest.json. The shard
// files, sidecars and manifest are the ones job.Run writes in a single
// process, so a Beam job and a single-process job on the same spec and
// dataset write byte-identical shards, and either can resume the other.
//
// The pipeline runs on any Beam runner: the embedded Prism runner (the
// default of beamx, also used by the tests), Flink, Spark, Dataflow or any
// portable job server. Workers must see the dataset and the output folder
// at the same paths as the launcher (a shared filesystem).
package beamjob
