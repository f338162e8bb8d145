package main

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
)

// hubFiles are the repository files the fake Hub serves.
func hubFiles() map[string][]byte {
	weights := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range weights {
		weights[i] = byte(r.Uint32())
	}
	return map[string][]byte{
		"config.json":       []byte(`{"model_type": "gpt2", "n_layer": 2}` + "\n"),
		"model.safetensors": weights,
	}
}

// fakeHub serves hubFiles the way huggingface.co does, for both libraries:
// the info API go-huggingface asks first, and HEAD/GET on
// /{repo}/resolve/{revision}/{file} with X-Repo-Commit, X-Linked-Etag (the
// sha256), X-Linked-Size and Content-Length. mode "corrupt" flips one byte
// of every body; "truncate" announces the full length and stops halfway.
type fakeHub struct {
	*httptest.Server
	requests atomic.Int64
}

func newFakeHub(mode string) *fakeHub {
	files := hubFiles()
	h := &fakeHub{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	info := infoHandler(names)
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		if isInfoRequest(r) {
			info(w, r)
			return
		}
		_, rest, ok := strings.Cut(r.URL.Path, "/"+localRepoID+"/resolve/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, file, _ := strings.Cut(rest, "/")
		data, ok := files[file]
		if !ok {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(data)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		hd := w.Header()
		hd.Set("X-Repo-Commit", localCommit)
		hd.Set("X-Linked-Etag", etag)
		hd.Set("ETag", etag)
		hd.Set("X-Linked-Size", strconv.Itoa(len(data)))
		hd.Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodHead {
			return
		}
		body := append([]byte(nil), data...)
		switch mode {
		case "corrupt":
			body[len(body)/2] ^= 0xff
		case "truncate":
			_, _ = w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // close the connection mid-body
		}
		_, _ = w.Write(body)
	}))
	return h
}
