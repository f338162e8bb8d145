package job

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNewPlanDatasetErrors checks that every odd or malformed dataset is
// refused promptly (no hang) with an error naming the file, the line and the
// field where there is one.
func TestNewPlanDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 1 << 10
	tests := []struct {
		name, kind, path string
		want             []string
	}{
		{"missing", Collect, filepath.Join(dir, "none.jsonl"), []string{"none.jsonl", "no such file"}},
		{"folder", Collect, dir, []string{"is a folder", "want a JSONL file"}},
		{"fifo", Collect, fifo, []string{"named pipe (FIFO)"}},
		{"empty", Collect, write("empty.jsonl", "\n \n"), []string{"empty.jsonl has no examples"}},
		{"binary", Collect, write("bin.jsonl", "{\"text\":\"a\"}\n\x00\x01\x02\xff"), []string{"bin.jsonl:2: binary data"}},
		{"not utf-8", Collect, write("latin.jsonl", "{\"text\":\"caf\xe9\"}\n"), []string{"latin.jsonl:1: not valid UTF-8"}},
		{"huge line", Collect, write("huge.jsonl", "{\"text\":\"a\"}\n\n"+strings.Repeat("x", 5000)), []string{"huge.jsonl:3: line longer than 1024 bytes"}},
		{"not json", Collect, write("bad.jsonl", "{\"text\":\"a\"}\n{text: b}\n"), []string{"bad.jsonl:2: not a JSON object"}},
		{"array", Collect, write("arr.jsonl", "[1,2]\n"), []string{"arr.jsonl:1: not a JSON object"}},
		{"text type", Collect, write("type.jsonl", "{\"text\":5}\n"), []string{"type.jsonl:1: field \"text\"", "want a string"}},
		{"ids type", Collect, write("ids.jsonl", "{\"ids\":[1,\"a\"]}\n"), []string{"ids.jsonl:1: field \"ids", "string"}},
		{"no text", Collect, write("notext.jsonl", "{\"id\":\"x\"}\n"), []string{"notext.jsonl:1: field \"text\" (or \"ids\") is missing"}},
		{"empty text", Collect, write("emptytext.jsonl", "{\"text\":\"\"}\n"), []string{"emptytext.jsonl:1: field \"text\" is empty"}},
		{"text and ids", Collect, write("both.jsonl", "{\"text\":\"a\",\"ids\":[1]}\n"), []string{`"text" and "ids" both given`}},
		{"empty ids", Collect, write("noids.jsonl", "{\"ids\":[]}\n"), []string{`field "ids" is empty`}},
		{"patch no source", Patch, write("p1.jsonl", "{\"base\":\"a\"}\n"), []string{"p1.jsonl:1: field \"source\" is missing"}},
		{"patch empty target", Patch, write("p2.jsonl", "{\"base\":\"a\",\"source\":\"b\",\"targets\":[\"\"]}\n"), []string{`p2.jsonl:1: field "targets"[0] is empty`}},
		{"patch target counts", Patch, write("p3.jsonl", "{\"base\":\"a\",\"source\":\"b\",\"targets\":[\" x\"]}\n\n{\"base\":\"a\",\"source\":\"b\"}\n"),
			[]string{`p3.jsonl:3: field "targets" has 0 targets, the rows before have 1`}},
		{"iia no sources", IIA, write("i1.jsonl", "{\"base\":\"a\",\"label\":\" x\"}\n"), []string{`i1.jsonl:1: field "sources" is missing`}},
		{"iia sources type", IIA, write("i2.jsonl", "{\"base\":\"a\",\"sources\":\"b\",\"label\":\" x\"}\n"), []string{`i2.jsonl:1: field "sources"`, "list of strings"}},
		{"iia no label", IIA, write("i3.jsonl", "{\"base\":\"a\",\"sources\":[\"b\"]}\n"), []string{`i3.jsonl:1: field "label" is missing`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, planErr(t, tt.kind, tt.path, dir), tt.want)
		})
	}
}

// TestPlanShards checks the rows, shards and their dataset locations of
// collect.jsonl (40 rows with a blank line before row 10, CRLF endings
// tolerated), and that each shard's Offset and Line point at its first row.
func TestPlanShards(t *testing.T) {
	p, err := NewPlan(Spec{Kind: Collect, Dataset: "testdata/collect.jsonl", Out: t.TempDir(), Sites: []string{"embed"}, ShardSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 40 || len(p.Shards) != 3 || len(p.DatasetSHA256) != 64 {
		t.Fatalf("plan: %d rows, %d shards, sha %q; want 40 rows, 3 shards", p.Rows, len(p.Shards), p.DatasetSHA256)
	}
	data, err := os.ReadFile("testdata/collect.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, want := range []struct{ first, end, line int }{{0, 16, 0}, {16, 32, 17}, {32, 40, 33}} {
		sh := p.Shards[i]
		if sh.Index != i || sh.First != want.first || sh.End != want.end || sh.Line != want.line || sh.File != ShardFile(i) {
			t.Errorf("shard %d = %+v, want rows [%d, %d) from line index %d", i, sh, want.first, want.end, want.line)
		}
		if rest := string(data[sh.Offset:]); !strings.HasPrefix(rest, lines[sh.Line]+"\n") {
			t.Errorf("shard %d: offset %d points at %.40q, want line %d %.40q", i, sh.Offset, rest, sh.Line, lines[sh.Line])
		}
	}
	// CRLF line endings and surrounding spaces give the same rows.
	crlf := filepath.Join(t.TempDir(), "crlf.jsonl")
	if err := os.WriteFile(crlf, []byte(strings.ReplaceAll(string(data), "\n", " \r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := NewPlan(Spec{Kind: Collect, Dataset: crlf, Out: t.TempDir(), Sites: []string{"embed"}, ShardSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if q.Rows != 40 || q.Shards[1].Line != 17 || q.DatasetSHA256 == p.DatasetSHA256 {
		t.Errorf("CRLF plan: %d rows, shard 1 at line %d, sha equal: %v", q.Rows, q.Shards[1].Line, q.DatasetSHA256 == p.DatasetSHA256)
	}
}
