package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeHub emulates the parts of the Hugging Face Hub that huggingface_hub's
// hf_hub_download uses, with the same headers as huggingface.co:
//
//   - HEAD/GET /{repo}/resolve/{revision}/{file}
//   - a renamed repo ("gpt2") answers 307 with a relative Location to the
//     canonical id ("openai-community/gpt2"), like the real Hub;
//   - a regular (git) file answers 200 with ETag "<git blob sha1>",
//     Content-Length and X-Repo-Commit;
//   - an LFS file answers 302 to a signed URL on a second server (the CDN),
//     with X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit and a weak
//     ETag of the pointer file (which must be ignored);
//   - a missing file: 404 with X-Error-Code EntryNotFound and X-Repo-Commit;
//     an unknown or private repo without the right token: 401 with
//     X-Error-Code RepoNotFound; an unknown revision: 404 RevisionNotFound.
type fakeHub struct {
	hub, cdn *httptest.Server
	commit   string
	token    string
	repos    map[string]*fakeRepo
	aliases  map[string]string
	blobs    map[string]*fakeFile // sha256 -> LFS file, served by the CDN
	// omitCommit drops X-Repo-Commit (a server that is not a Hub).
	omitCommit bool
	// cdnDrops is how many CDN transfers are cut off halfway before one
	// goes through.
	cdnDrops int

	mu      sync.Mutex
	log     []string // "METHOD path" for every hub and CDN request
	hubAuth []string // Authorization headers the hub saw
	cdnAuth []string // Authorization headers the CDN saw
}

type fakeRepo struct {
	files   map[string]*fakeFile
	private bool
}

type fakeFile struct {
	data    []byte
	lfs     bool
	corrupt bool // serve one flipped byte: the content no longer matches the etag
}

func gitBlobSHA1(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// etag is the blob name the Hub announces for f.
func (f *fakeFile) etag() string {
	if f.lfs {
		return sha256Hex(f.data)
	}
	return gitBlobSHA1(f.data)
}

func (f *fakeFile) served() []byte {
	if !f.corrupt {
		return f.data
	}
	b := bytes.Clone(f.data)
	b[len(b)/2] ^= 0xff
	return b
}

const fakeCommit = "0123456789abcdef0123456789abcdef01234567"

// weights returns n deterministic pseudo-random bytes.
func weights(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// gpt2Files is the fake content of openai-community/gpt2: no tokenizer.json,
// so the optional-file 404 path is exercised.
func gpt2Files() map[string]*fakeFile {
	return map[string]*fakeFile{
		"config.json":            {data: []byte(`{"model_type": "gpt2", "n_layer": 2}`)},
		"model.safetensors":      {data: weights(3<<19, 7), lfs: true}, // 1.5 MiB: gets a progress bar
		"vocab.json":             {data: []byte(`{"hello": 0, "world": 1}`)},
		"merges.txt":             {data: []byte("#version: 0.2\nh e\n")},
		"tokenizer_config.json":  {data: []byte(`{"model_max_length": 1024}`)},
		"generation_config.json": {data: []byte(`{"bos_token_id": 50256}`)},
	}
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	f := &fakeHub{
		commit: fakeCommit,
		token:  "hf_secret",
		repos: map[string]*fakeRepo{
			"openai-community/gpt2": {files: gpt2Files()},
			"acme/private": {private: true, files: map[string]*fakeFile{
				"config.json":       {data: []byte(`{"private": true}`)},
				"model.safetensors": {data: weights(1000, 2), lfs: true},
			}},
			"acme/corrupt-lfs": {files: map[string]*fakeFile{
				"config.json":       {data: []byte(`{}`)},
				"model.safetensors": {data: weights(5000, 3), lfs: true, corrupt: true},
			}},
			"acme/corrupt-git": {files: map[string]*fakeFile{
				"config.json":       {data: []byte(`{"corrupt": "yes"}`), corrupt: true},
				"model.safetensors": {data: weights(100, 4), lfs: true},
			}},
			"acme/no-weights": {files: map[string]*fakeFile{
				"config.json": {data: []byte(`{}`)},
			}},
			"acme/sub": {files: map[string]*fakeFile{
				"config.json":            {data: []byte(`{"sub": 1}`)},
				"model.safetensors":      {data: weights(10, 5), lfs: true},
				"onnx/model.onnx":        {data: weights(20, 6), lfs: true},
				"tokenizer/vocab 1.json": {data: []byte(`{}`)},
			}},
		},
		aliases: map[string]string{"gpt2": "openai-community/gpt2"},
		blobs:   map[string]*fakeFile{},
	}
	for _, r := range f.repos {
		for _, ff := range r.files {
			if ff.lfs {
				f.blobs[ff.etag()] = ff
			}
		}
	}
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	t.Cleanup(f.hub.Close)
	t.Cleanup(f.cdn.Close)
	return f
}

func (f *fakeHub) record(r *http.Request, auth *[]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, r.Method+" "+r.URL.EscapedPath())
	if a := r.Header.Get("Authorization"); a != "" {
		*auth = append(*auth, a)
	}
}

// requests returns how many requests matched method (or all for "").
func (f *fakeHub) requests(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.log {
		if method == "" || strings.HasPrefix(l, method+" ") {
			n++
		}
	}
	return n
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.record(r, &f.hubAuth)
	if r.Method != http.MethodHead && r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.EscapedPath()
	i := strings.Index(p, "/resolve/")
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	repo := p[1:i]
	revEsc, fileEsc, _ := strings.Cut(p[i+len("/resolve/"):], "/")
	rev, _ := url.PathUnescape(revEsc)
	file, _ := url.PathUnescape(fileEsc)
	h := w.Header()
	if canon, ok := f.aliases[repo]; ok {
		h.Set("Location", "/"+canon+"/resolve/"+revEsc+"/"+fileEsc)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	rp := f.repos[repo]
	if rp == nil || (rp.private && r.Header.Get("Authorization") != "Bearer "+f.token) {
		h.Set("X-Error-Code", "RepoNotFound")
		h.Set("X-Error-Message", "Repository not found")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rev != "main" && rev != f.commit {
		h.Set("X-Error-Code", "RevisionNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if !f.omitCommit {
		h.Set("X-Repo-Commit", f.commit)
	}
	ff := rp.files[file]
	if ff == nil {
		h.Set("X-Error-Code", "EntryNotFound")
		h.Set("X-Error-Message", "Entry not found")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if ff.lfs {
		h.Set("X-Linked-Etag", `"`+ff.etag()+`"`)
		h.Set("X-Linked-Size", strconv.Itoa(len(ff.data)))
		h.Set("ETag", `W/"0000000000000000000000000000000000000000"`) // the LFS pointer's: not the blob
		h.Set("Location", f.cdn.URL+"/repos/ab/cd/"+ff.etag()+"?X-Amz-Signature=fake")
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("ETag", `"`+ff.etag()+`"`)
	h.Set("Content-Length", strconv.Itoa(len(ff.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(ff.served())
	}
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.record(r, &f.cdnAuth)
	ff := f.blobs[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]
	if ff == nil || r.URL.Query().Get("X-Amz-Signature") == "" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(ff.data)))
	w.Header().Set("ETag", `"`+ff.etag()+`"`)
	f.mu.Lock()
	drop := f.cdnDrops > 0 && r.Method == http.MethodGet
	if drop {
		f.cdnDrops--
	}
	f.mu.Unlock()
	if drop {
		w.WriteHeader(http.StatusOK)
		w.Write(ff.data[:len(ff.data)/2])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	if r.Method == http.MethodGet {
		w.Write(ff.served())
	}
}
