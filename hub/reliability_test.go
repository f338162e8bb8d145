//go:build unix

package hub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/govene/govene/internal/fsx/fsxtest"
)

// hostileServer answers HEAD /{repo}/resolve/main/config.json with a
// redirect to a second server (the CDN) carrying etag and (when not "")
// size, like the Hub does for LFS files; the CDN serves the content with
// serve.
type hostileServer struct {
	etag, size string
	serve      func(w http.ResponseWriter)
}

func (h *hostileServer) start(t *testing.T) *httptest.Server {
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h.serve(w)
	}))
	t.Cleanup(cdn.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Repo-Commit", fakeCommit)
		w.Header().Set("X-Linked-Etag", `"`+h.etag+`"`)
		if h.size != "" {
			w.Header().Set("X-Linked-Size", h.size)
		}
		w.Header().Set("Location", cdn.URL+"/config.json")
		w.WriteHeader(http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func body(b []byte) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.Write(b) }
}

// chunked sends b without a Content-Length.
func chunked(b []byte) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		w.Write(b)
	}
}

// endless streams zeros until the client goes away.
func endless(w http.ResponseWriter) {
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 64<<10)
	for {
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

// errAnyFailure marks a case that must fail without wrapping a sentinel.
var errAnyFailure = errors.New("any failure")

// TestDownloadHostileServer checks what is verified for every kind of ETag
// and that a server sending more (or endless) data cannot fill the disk.
func TestDownloadHostileServer(t *testing.T) {
	isolateEnv(t)
	content := []byte(`{"n_layer": 2}`)
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])
	size := strconv.Itoa(len(content))
	tests := []struct {
		name   string
		srv    hostileServer
		is     error    // nil: the download must succeed
		want   []string // in the error, or in the progress output on success
		noWarn bool     // success without the "not a digest" warning
	}{
		{"opaque ETag, size announced: size checked, warned",
			hostileServer{"mirror-etag-1", size, body(content)}, nil,
			[]string{"warning", `ETag "mirror-etag-1"`, "not a sha256 (LFS) or git blob sha1 digest", "only its size (14 bytes) was checked"}, false},
		{"opaque ETag, no size: nothing checked, warned",
			hostileServer{"mirror-etag-2", "", chunked(content)}, nil,
			[]string{"warning", `ETag "mirror-etag-2"`, "neither its content nor its size could be checked"}, false},
		{"opaque ETag, body longer than announced",
			hostileServer{"mirror-etag-3", size, body(append(bytes.Clone(content), "garbage"...))}, ErrIntegrity,
			[]string{"config.json", "expected 14 bytes, got more"}, false},
		{"opaque ETag, body shorter than announced",
			hostileServer{"mirror-etag-4", "100", chunked(content)}, ErrIntegrity,
			[]string{"config.json", "expected 100 bytes, got 14"}, false},
		{"endless body, size announced",
			hostileServer{"mirror-etag-5", "1000", endless}, ErrIntegrity,
			[]string{"config.json", "expected 1000 bytes, got more"}, false},
		{"endless body, sha256 ETag",
			hostileServer{sha, size, endless}, ErrIntegrity,
			[]string{"config.json", "expected 14 bytes, got more"}, false},
		{"sha256 ETag in upper case, right content",
			hostileServer{strings.ToUpper(sha), size, body(content)}, nil, nil, true},
		{"sha256 ETag, wrong content of the right size",
			hostileServer{sha, size, body(bytes.ToUpper(content))}, ErrIntegrity,
			[]string{"config.json", "sha256", sha}, false},
		{"sha256 ETag, no size, wrong content",
			hostileServer{sha, "", chunked([]byte("{}"))}, ErrIntegrity,
			[]string{"config.json", "sha256", sha}, false},
		{"git blob sha1 ETag, right content",
			hostileServer{gitBlobSHA1(content), size, body(content)}, nil, nil, true},
		{"git blob sha1 ETag, no size, right content",
			hostileServer{gitBlobSHA1(content), "", chunked(content)}, nil, nil, true},
		{"git blob sha1 ETag, wrong content",
			hostileServer{gitBlobSHA1(content), size, body(bytes.ToUpper(content))}, ErrIntegrity,
			[]string{"config.json", "git-blob-sha1", gitBlobSHA1(content)}, false},
		{"ETag escapes the blobs folder",
			hostileServer{"../../../evil", size, body(content)}, errAnyFailure,
			[]string{"config.json", `invalid ETag "../../../evil"`}, false},
		{"negative size",
			hostileServer{sha, "-5", body(content)}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.srv.start(t)
			var progress bytes.Buffer
			opt := Options{CacheDir: t.TempDir(), Endpoint: srv.URL, Progress: &progress, Files: []string{"config.json"}}
			var dir string
			err := fsxtest.Within(t, func() error {
				var err error
				dir, err = Download("acme/tiny", opt)
				return err
			})
			if tt.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(dir, "config.json"))
				if err != nil || !bytes.Equal(got, content) {
					t.Fatalf("cached content %q, %v", got, err)
				}
				out := progress.String()
				if tt.noWarn && strings.Contains(out, "warning") {
					t.Errorf("unexpected warning: %s", out)
				}
				for _, w := range tt.want {
					if !strings.Contains(out, w) {
						t.Errorf("progress output %q lacks %q", out, w)
					}
				}
				return
			}
			is := tt.is
			if is == errAnyFailure {
				is = nil
			}
			wantErr(t, err, is, tt.want...)
			for _, e := range cacheTree(t, opt.CacheDir) {
				if _, f, _ := strings.Cut(e, "/blobs/"); f != "" || strings.Contains(e, "snapshots/"+fakeCommit+"/") {
					t.Errorf("left in the cache: %s", e)
				}
			}
		})
	}
	t.Logf("hostile cases: %d", len(tests))
}

// TestResolveHostileCache checks that a cache whose files are named pipes,
// links to /dev/zero, directories or oversized refs is reported, not read,
// and that a token file that is a FIFO does not block.
func TestResolveHostileCache(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, repo, snap string)
		want   []string
	}{
		{"config.json is a FIFO", func(t *testing.T, repo, snap string) {
			fsxtest.Mkfifo(t, filepath.Join(snap, "config.json"))
		}, []string{"missing: config.json (a named pipe (FIFO), not a regular file)"}},
		{"config.json blob is a FIFO", func(t *testing.T, repo, snap string) {
			fsxtest.Mkfifo(t, filepath.Join(repo, "blobs", "cfg"))
		}, []string{"config.json (a named pipe (FIFO), not a regular file)"}},
		{"model.safetensors links to /dev/zero", func(t *testing.T, repo, snap string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(snap, "model.safetensors"))
		}, []string{"model.safetensors (a character device, not a regular file)"}},
		{"config.json is a directory", func(t *testing.T, repo, snap string) {
			os.Remove(filepath.Join(snap, "config.json"))
			os.Mkdir(filepath.Join(snap, "config.json"), 0o755)
		}, []string{"config.json (a directory, not a regular file)"}},
		{"dangling pointer", func(t *testing.T, repo, snap string) {
			os.Remove(filepath.Join(repo, "blobs", "cfg"))
		}, []string{"missing: config.json"}},
		{"refs/main is a FIFO", func(t *testing.T, repo, snap string) {
			fsxtest.Mkfifo(t, filepath.Join(repo, "refs", "main"))
		}, []string{"refs/main (unreadable", "named pipe"}},
		{"refs/main links to /dev/zero", func(t *testing.T, repo, snap string) {
			fsxtest.Symlink(t, "/dev/zero", filepath.Join(repo, "refs", "main"))
		}, []string{"refs/main (unreadable", "character device"}},
		{"refs/main is 2 KiB", func(t *testing.T, repo, snap string) {
			os.WriteFile(filepath.Join(repo, "refs", "main"), bytes.Repeat([]byte("a"), 2048), 0o644)
		}, []string{"refs/main (unreadable", "2048 bytes", "1 KiB (1024 bytes) limit"}},
		{"refs/main escapes the snapshots folder", func(t *testing.T, repo, snap string) {
			os.WriteFile(filepath.Join(repo, "refs", "main"), []byte("../../../etc"), 0o644)
		}, []string{"refs/main (holds \"../../../etc\", not a commit hash)"}},
		{"refs/main is a directory", func(t *testing.T, repo, snap string) {
			os.Remove(filepath.Join(repo, "refs", "main"))
			os.Mkdir(filepath.Join(repo, "refs", "main"), 0o755)
		}, []string{"refs/main (unreadable", "directory"}},
		{"token file is a FIFO", func(t *testing.T, repo, snap string) {
			p := filepath.Join(t.TempDir(), "token")
			fsxtest.Mkfifo(t, p)
			t.Setenv("HF_TOKEN_PATH", p)
			os.Remove(filepath.Join(repo, "refs", "main"))
		}, []string{"missing: config.json, model.safetensors"}},
		{"token file links to /dev/zero", func(t *testing.T, repo, snap string) {
			p := filepath.Join(t.TempDir(), "token")
			fsxtest.Symlink(t, "/dev/zero", p)
			t.Setenv("HF_TOKEN_PATH", p)
			os.Remove(filepath.Join(repo, "refs", "main"))
		}, []string{"missing: config.json, model.safetensors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			cache := t.TempDir()
			repo := filepath.Join(cache, RepoFolderName("acme/tiny"))
			snap := filepath.Join(repo, "snapshots", fakeCommit)
			for _, d := range []string{filepath.Join(repo, "blobs"), filepath.Join(repo, "refs"), snap} {
				os.MkdirAll(d, 0o755)
			}
			for file, blob := range map[string]string{"config.json": "cfg", "model.safetensors": "weights"} {
				os.WriteFile(filepath.Join(repo, "blobs", blob), []byte("{}"), 0o644)
				fsxtest.Symlink(t, "../../blobs/"+blob, filepath.Join(snap, file))
			}
			os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(fakeCommit), 0o644)
			opt := Options{CacheDir: cache, Offline: true}
			if dir, err := Resolve("acme/tiny", opt); err != nil || dir != snap {
				t.Fatalf("intact cache: %q, %v", dir, err)
			}
			tt.break_(t, repo, snap)
			err := fsxtest.Within(t, func() error {
				_, err := Resolve("acme/tiny", opt)
				return err
			})
			wantErr(t, err, ErrNotCached, append([]string{"acme/tiny"}, tt.want...)...)
		})
	}
	t.Logf("hostile cases: %d", len(tests))
}
