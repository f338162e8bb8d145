package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
	"github.com/govene/govene/bpe"
)

// encoder is one tokenizer under test: Encode without BOS/EOS.
type encoder struct {
	name   string
	encode func(string) []int
}

// loadEncoders loads tokenizer.json with both libraries; a library that
// refuses the file gives a nil encoder and the error.
func loadEncoders(tokenizerJSON string) (gov, ghf *encoder, govErr, ghfErr error, govLoad, ghfLoad time.Duration) {
	dir, err := os.MkdirTemp("", "hfcompare-tok")
	if err != nil {
		return nil, nil, err, err, 0, 0
	}
	defer os.RemoveAll(dir)
	abs, _ := filepath.Abs(tokenizerJSON)
	if err := os.Symlink(abs, filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil, nil, err, err, 0, 0
	}
	start := time.Now()
	if t, err := bpe.Load(dir); err != nil {
		govErr = err
	} else {
		gov = &encoder{"govene bpe", func(s string) []int { return t.EncodeWith(s, false) }}
	}
	govLoad = time.Since(start)
	start = time.Now()
	if t, err := hftokenizer.NewFromFile(&api.Config{}, tokenizerJSON); err != nil {
		ghfErr = err
	} else if err := t.With(api.EncodeOptions{AddSpecialTokens: false}); err != nil {
		ghfErr = err
	} else {
		ghf = &encoder{"go-huggingface hftokenizer", t.Encode}
	}
	ghfLoad = time.Since(start)
	return gov, ghf, govErr, ghfErr, govLoad, ghfLoad
}

type idCase struct {
	Text string `json:"text"`
	IDs  []int  `json:"ids"`
}

func readCases(path string) ([]idCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Cases []idCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f.Cases, nil
}

// exactness counts the cases whose ids equal the reference, and names the
// first few that differ.
func exactness(e *encoder, cases []idCase) (int, []string) {
	n := 0
	var bad []string
	for _, c := range cases {
		if got := e.encode(c.Text); slices.Equal(got, c.IDs) || (len(got) == 0 && len(c.IDs) == 0) {
			n++
		} else if len(bad) < 3 {
			bad = append(bad, fmt.Sprintf("%q", truncate(c.Text, 24)))
		}
	}
	return n, bad
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// corpus returns the paragraphs of the repository's Markdown files (about
// 100 kB of English prose, code and tables): the speed test's input.
func corpus(root string) ([]string, int) {
	var paras []string
	size := 0
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".md") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, para := range strings.Split(string(data), "\n\n") {
			if strings.TrimSpace(para) != "" {
				paras = append(paras, para)
				size += len(para)
			}
		}
		return nil
	})
	return paras, size
}

// speed encodes every paragraph once (cold: a tokenizer fresh from its
// file) and then three more times, and returns the cold time and the best
// warm time.
func speed(e *encoder, paras []string) (cold, warm time.Duration, tokens int) {
	pass := func() time.Duration {
		start := time.Now()
		tokens = 0
		for _, p := range paras {
			tokens += len(e.encode(p))
		}
		return time.Since(start)
	}
	cold = pass()
	warm = pass()
	for range 2 {
		warm = min(warm, pass())
	}
	return cold, warm, tokens
}

// agreement counts the paragraphs on which b gives the same ids as a.
func agreement(a, b *encoder, paras []string) int {
	n := 0
	for _, p := range paras {
		if slices.Equal(a.encode(p), b.encode(p)) {
			n++
		}
	}
	return n
}
