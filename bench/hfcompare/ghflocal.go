package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	ghfhub "github.com/gomlx/go-huggingface/hub"
)

const (
	localRepoID  = "local/model"
	localCommit  = "0123456789abcdef0123456789abcdef01234567"
	localFolder  = "models--local--model"
	ghfInfoRoute = "/api/models/"
)

// infoHandler answers go-huggingface's repository-info request
// (/api/models/{id}/revision/{rev}) with the commit and file list, which it
// asks for before every download and every read, even of cached files.
func infoHandler(files []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		siblings := make([]map[string]any, len(files))
		for i, f := range files {
			siblings[i] = map[string]any{"rfilename": f}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": localRepoID, "sha": localCommit, "siblings": siblings})
	}
}

// ghfLocalRepo makes go-huggingface read local files: a cache whose
// snapshot links each repository file name to a path, and an in-process
// server for the info request. It returns the repo and a function that
// stops the server.
func ghfLocalRepo(cacheDir string, files map[string]string) (*ghfhub.Repo, func(), error) {
	snap := filepath.Join(cacheDir, localFolder, "snapshots", localCommit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return nil, nil, err
	}
	var names []string
	for name, target := range files {
		names = append(names, name)
		if err := os.Symlink(target, filepath.Join(snap, name)); err != nil {
			return nil, nil, fmt.Errorf("link %s: %w", name, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle(ghfInfoRoute, infoHandler(names))
	srv := httptest.NewServer(mux)
	repo := ghfhub.New(localRepoID).WithCacheDir(cacheDir).WithEndpoint(srv.URL).WithProgressBar(false)
	repo.Verbosity = 0
	return repo, srv.Close, nil
}

// isInfoRequest reports whether r is go-huggingface's info request.
func isInfoRequest(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, ghfInfoRoute) }
