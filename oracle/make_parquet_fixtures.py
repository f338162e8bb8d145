#!/usr/bin/env python3
"""Make the Parquet copies of job's JSONL datasets with pyarrow (job/testdata/*.parquet).

The job package reads a dataset named *.parquet as Parquet; its tests run each job on
these files and on the JSONL they come from and compare the shards. The files come from
pyarrow (Arrow's C++ writer, the one pandas, Spark-adjacent tools and Hugging Face
datasets use), so the Go reader is tested on a real-world writer's output, not only on
parquet-go's own.

    python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow
    /tmp/pa/bin/python oracle/make_parquet_fixtures.py

Made with pyarrow 26.0.1; seconds. Any pyarrow >= 14 should do (the tests compare rows,
not bytes). Writes, from job/testdata/{collect,patch,iia}.jsonl (blank lines dropped):

    collect.parquet  text string, ids list<int32> (nullable: a row has one of them),
                     id string (an extra column the reader ignores); row groups of 10
    patch.parquet    base, source string, targets list<string>; row groups of 7
    iia.parquet      base string, sources list<string>, label string; one row group

all snappy-compressed with dictionary encoding (pyarrow's defaults), and hostile ones:

    bad_ids_strings.parquet  collect with ids as list<string>
    bad_text_int.parquet     collect with text as int64
    bad_missing.parquet      patch without the source column
    bad_null.parquet         iia with a null label on row 2
"""

import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

TESTDATA = pathlib.Path(__file__).resolve().parent.parent / "job" / "testdata"


def rows(kind):
    """The JSONL rows of kind, blank lines dropped."""
    lines = (TESTDATA / f"{kind}.jsonl").read_text().splitlines()
    return [json.loads(l) for l in lines if l.strip()]


def write(name, table, row_group_size=None):
    pq.write_table(table, TESTDATA / name, compression="snappy", row_group_size=row_group_size)


def main():
    collect = rows("collect")
    collect_schema = pa.schema([
        ("text", pa.string()),
        ("ids", pa.list_(pa.int32())),
        ("id", pa.string()),
    ])
    for i, r in enumerate(collect):
        r["id"] = f"c{i}"
    write("collect.parquet", pa.Table.from_pylist(collect, schema=collect_schema), 10)

    patch_schema = pa.schema([
        ("base", pa.string()),
        ("source", pa.string()),
        ("targets", pa.list_(pa.string())),
    ])
    patch = rows("patch")
    write("patch.parquet", pa.Table.from_pylist(patch, schema=patch_schema), 7)

    iia_schema = pa.schema([
        ("base", pa.string()),
        ("sources", pa.list_(pa.string())),
        ("label", pa.string()),
    ])
    iia = rows("iia")
    write("iia.parquet", pa.Table.from_pylist(iia, schema=iia_schema))

    # Hostile files.
    bad_ids = [{"ids": [str(x) for x in r["ids"]]} for r in collect if "ids" in r]
    write("bad_ids_strings.parquet", pa.Table.from_pylist(bad_ids, schema=pa.schema([("ids", pa.list_(pa.string()))])))
    write("bad_text_int.parquet", pa.Table.from_pylist([{"text": i} for i in range(3)], schema=pa.schema([("text", pa.int64())])))
    write("bad_missing.parquet", pa.Table.from_pylist([{"base": r["base"], "targets": r["targets"]} for r in patch[:3]],
                                                      schema=pa.schema([("base", pa.string()), ("targets", pa.list_(pa.string()))])))
    nulled = [dict(r) for r in iia[:4]]
    nulled[2]["label"] = None
    write("bad_null.parquet", pa.Table.from_pylist(nulled, schema=iia_schema))


if __name__ == "__main__":
    main()
