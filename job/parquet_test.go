package job

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestParquetMatchesJSONL runs each kind on the pyarrow-written Parquet copy
// of its JSONL dataset and checks that the shards equal the JSONL job's:
// byte for byte but for the dataset's sha256 in the metadata and, where the
// JSONL file has a blank line (collect), the row indices.
func TestParquetMatchesJSONL(t *testing.T) {
	tests := []struct {
		kind  string
		sites []string
		blank int // line index of the JSONL file's blank line (-1: none)
	}{
		{Collect, []string{"blocks.3.block_output", "head_result.1"}, 10},
		{Patch, []string{"blocks.6.block_output"}, -1},
		{IIA, []string{"blocks.4.block_output"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			js := testSpec(t, tt.kind, tt.sites...)
			pq := testSpec(t, tt.kind, tt.sites...)
			pq.Dataset = filepath.Join("testdata", tt.kind+".parquet")
			jm, pm := runJob(t, js), runJob(t, pq)
			if pm.Rows != jm.Rows || len(pm.Shards) != len(jm.Shards) || len(pm.Shards) < 2 {
				t.Fatalf("parquet: %d rows in %d shards; jsonl: %d rows in %d shards", pm.Rows, len(pm.Shards), jm.Rows, len(jm.Shards))
			}
			if !reflect.DeepEqual(pm.Summary, jm.Summary) {
				t.Errorf("summary: parquet %v, jsonl %v", pm.Summary, jm.Summary)
			}
			_, sum, err := fileSHA256(pq.Dataset)
			if err != nil || pm.DatasetSHA256 != sum {
				t.Errorf("dataset sha256 %s, the file's %s (%v)", pm.DatasetSHA256, sum, err)
			}
			for i, sh := range pm.Shards {
				if sh.Offset != 0 || sh.Line != sh.First {
					t.Errorf("shard %d: offset %d, line %d; want 0 and its first row %d", i, sh.Offset, sh.Line, sh.First)
				}
				pBytes, err := os.ReadFile(filepath.Join(pq.Out, sh.File))
				if err != nil {
					t.Fatal(err)
				}
				jBytes, err := os.ReadFile(filepath.Join(js.Out, sh.File))
				if err != nil {
					t.Fatal(err)
				}
				same := bytes.Equal(bytes.ReplaceAll(pBytes, []byte(pm.DatasetSHA256), []byte(jm.DatasetSHA256)), jBytes)
				ps, jsh := readShard(t, filepath.Join(pq.Out, sh.File)), readShard(t, filepath.Join(js.Out, sh.File))
				for n, v := range jsh.f32 {
					if !reflect.DeepEqual(ps.f32[n], v) || !reflect.DeepEqual(ps.shape[n], jsh.shape[n]) {
						t.Errorf("shard %d: tensor %q differs", i, n)
					}
				}
				for n, v := range jsh.i64 {
					if n == "row" {
						continue
					}
					if !reflect.DeepEqual(ps.i64[n], v) {
						t.Errorf("shard %d: tensor %q: parquet %v, jsonl %v", i, n, ps.i64[n], v)
					}
				}
				for j, r := range ps.i64["row"] {
					line := r
					if tt.blank >= 0 && r >= int64(tt.blank) {
						line++ // the JSONL row's line index counts the blank line
					}
					if r != int64(sh.First+j) || jsh.i64["row"][j] != line {
						t.Errorf("shard %d: row[%d] = %d (jsonl %d), want %d (jsonl %d)", i, j, r, jsh.i64["row"][j], sh.First+j, line)
					}
				}
				if tt.blank < 0 && !same {
					t.Errorf("shard %d: bytes differ beyond the dataset sha256", i)
				}
			}
		})
	}
}

// TestParquetGoWriterAndChangedCopy checks a file written by parquet-go
// itself (many row groups of 3 rows, required columns, int64 ids) plans the
// same rows as pyarrow's, and that a worker reading a copy changed after
// planning (one prompt altered, same rows and schema) refuses the shard.
func TestParquetGoWriterAndChangedCopy(t *testing.T) {
	type ids struct {
		IDs []int64 `parquet:"ids,list"`
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ids.parquet")
	write := func(first int64) {
		rows := make([]ids, 8)
		for i := range rows {
			rows[i].IDs = []int64{first, 412 + int64(i), 318, 287}
		}
		if err := parquet.WriteFile(path, rows, parquet.MaxRowsPerRowGroup(3)); err != nil {
			t.Fatal(err)
		}
	}
	write(464)
	spec := Spec{Kind: Collect, Backend: "go", Dataset: path, Out: filepath.Join(dir, "out"), Sites: []string{"embed"}, ShardSize: 5, BatchSize: 4}
	p, err := NewPlan(spec)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 8 || len(p.Shards) != 2 || p.Shards[1].Line != 5 {
		t.Fatalf("plan: %d rows, shards %+v; want 8 rows, shard 1 from row 5", p.Rows, p.Shards)
	}
	w, err := NewWorker(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := p.Prepare(); err != nil {
		t.Fatal(err)
	}
	info, err := w.RunShard(context.Background(), p.Shards[1]) // from row 2 of row group 1
	if err != nil {
		t.Fatal(err)
	}
	got := readShard(t, filepath.Join(spec.Out, info.File))
	if !reflect.DeepEqual(got.i64["row"], []int64{5, 6, 7}) {
		t.Errorf("shard 1 rows %v, want [5 6 7]", got.i64["row"])
	}
	write(465)
	_, err = w.RunShard(context.Background(), p.Shards[1])
	if err == nil || !strings.Contains(err.Error(), "differs from the planned one: shard 1's rows (rows 5 to 7) have sha256") {
		t.Errorf("RunShard on a changed copy: %v", err)
	}
}

// TestParquetDatasetErrors checks that malformed Parquet datasets are
// refused promptly (no panic, no hang) with an error naming the file and,
// where there is one, the row and the column, the type found and the one
// wanted.
func TestParquetDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/collect.parquet")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A footer length claiming more than the file, and a footer of garbage.
	huge := bytes.Clone(good)
	copy(huge[len(huge)-8:], []byte{0xff, 0xff, 0xff, 0x7f})
	garbage := bytes.Clone(good)
	footer := int(garbage[len(garbage)-8]) | int(garbage[len(garbage)-7])<<8
	for i := len(garbage) - 8 - footer; i < len(garbage)-8; i++ {
		garbage[i] = 0xee
	}
	defer func(n int64) { maxParquetFooter = n }(maxParquetFooter)
	maxParquetFooter = 1 << 20
	bigFooter := bytes.Clone(good)
	copy(bigFooter[len(bigFooter)-8:], []byte{0x00, 0x00, 0x20, 0x00}) // 2 MiB
	bigFooter = append(make([]byte, 0, 3<<20), bigFooter[:4]...)
	bigFooter = append(bigFooter, make([]byte, 2<<20)...)
	bigFooter = append(bigFooter, good[len(good)-8:]...)
	copy(bigFooter[len(bigFooter)-8:], []byte{0x00, 0x00, 0x20, 0x00})

	folder := filepath.Join(dir, "d.parquet")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kind, path string
		want             []string
	}{
		{"jsonl named parquet", Collect, write("x.parquet", []byte("{\"text\": \"a\"}\n{\"text\": \"b\"}\n")), []string{"x.parquet: not a Parquet file", `"PAR1"`}},
		{"empty", Collect, write("empty.parquet", nil), []string{"empty.parquet: 0 bytes, too short"}},
		{"magic only", Collect, write("magic.parquet", []byte("PAR1PAR1PAR1")), []string{"magic.parquet:", "footer claims"}},
		{"truncated half", Collect, write("half.parquet", good[:len(good)/2]), []string{"half.parquet: no Parquet footer", "truncated"}},
		{"truncated by one", Collect, write("cut1.parquet", good[:len(good)-1]), []string{"cut1.parquet: no Parquet footer"}},
		{"head cut", Collect, write("head.parquet", good[len(good)/2:]), []string{"head.parquet: not a Parquet file"}},
		{"footer too long", Collect, write("huge.parquet", huge), []string{"huge.parquet: the footer claims 2147483647 bytes", "truncated or corrupt"}},
		{"footer over limit", Collect, write("big.parquet", bigFooter), []string{"big.parquet: a footer of 2097152 bytes, more than the 1048576 read"}},
		{"footer garbage", Collect, write("garbage.parquet", garbage), []string{"garbage.parquet: corrupt Parquet"}},
		{"folder", Collect, folder, []string{"d.parquet is a folder; want a Parquet file"}},
		{"ids as strings", Collect, "testdata/bad_ids_strings.parquet", []string{`bad_ids_strings.parquet: column "ids" holds a list of strings; want a list of integers`}},
		{"text as int", Collect, "testdata/bad_text_int.parquet", []string{`bad_text_int.parquet: column "text" holds an integer; want a string`}},
		{"missing column", Patch, "testdata/bad_missing.parquet", []string{`bad_missing.parquet: no column "source"; the file's columns: base, targets`}},
		{"null label", IIA, "testdata/bad_null.parquet", []string{`bad_null.parquet: row 2: column "label" is missing`}},
		{"wrong kind", IIA, "testdata/collect.parquet", []string{`collect.parquet: no column "base"; the file's columns: text, ids, id`}},
		{"no collect column", Collect, "testdata/iia.parquet", []string{`iia.parquet: no column "text" or "ids"; the file's columns: base, sources, label`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, planErr(t, tt.kind, tt.path, t.TempDir()), tt.want)
		})
	}
}

// TestParquetRowErrors checks errors on values, written with parquet-go:
// a null list element, an empty list, an empty string and mixed targets.
func TestParquetRowErrors(t *testing.T) {
	type patchRow struct {
		Base    *string   `parquet:"base,optional"`
		Source  string    `parquet:"source"`
		Targets []*string `parquet:"targets,list"`
	}
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		rows []patchRow
		want string
	}{
		{"null element", []patchRow{{s("a"), "b", []*string{s(" x")}}, {s("a"), "b", []*string{s(" x"), nil}}}, `row 1: column "targets": element 1 is null; want a list of strings`},
		{"empty string", []patchRow{{s("a"), "", nil}}, `row 0: column "source" is empty`},
		{"null base", []patchRow{{s("a"), "b", nil}, {s("a"), "b", nil}, {nil, "b", nil}}, `row 2: column "base" is missing`},
		{"target counts", []patchRow{{s("a"), "b", []*string{s(" x")}}, {s("a"), "b", []*string{}}}, `row 1: column "targets" has 0 targets, the rows before have 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.parquet")
			if err := parquet.WriteFile(path, tt.rows); err != nil {
				t.Fatal(err)
			}
			_, err := NewPlan(Spec{Kind: Patch, Dataset: path, Out: t.TempDir(), Sites: []string{"blocks.1.block_output"}})
			if err == nil || !strings.Contains(err.Error(), "p.parquet: "+tt.want) {
				t.Errorf("NewPlan: %v\nwant %q", err, tt.want)
			}
		})
	}
}

// TestParquetCorruptBytes flips bytes all over a valid file: every copy
// must be read or refused with an error, never a panic or a hang.
func TestParquetCorruptBytes(t *testing.T) {
	good, err := os.ReadFile("testdata/patch.parquet")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "c.parquet")
	refused := 0
	for i := 4; i < len(good)-8; i += 7 {
		bad := bytes.Clone(good)
		bad[i] ^= 0x5a
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := planErr(t, Patch, path, dir); err != nil {
			refused++
			if !strings.Contains(err.Error(), "c.parquet") {
				t.Errorf("byte %d: error does not name the file: %v", i, err)
			}
		}
	}
	if refused == 0 {
		t.Error("no corrupt copy was refused")
	}
}
