package hub

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// isolateEnv clears every environment variable the package reads, so the
// tests see neither the developer's cache nor their token.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_ENDPOINT",
		"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_ETAG_TIMEOUT"} {
		t.Setenv(v, "")
	}
	t.Setenv("HF_HOME", t.TempDir())
}

func testOptions(t *testing.T, f *fakeHub) (Options, *bytes.Buffer) {
	var progress bytes.Buffer
	return Options{CacheDir: t.TempDir(), Endpoint: f.hub.URL + "/", Progress: &progress}, &progress
}

// cacheTree lists every entry under root as "path" or "path -> target" for
// symlinks, sorted.
func cacheTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			rel += " -> " + filepath.ToSlash(target)
		} else if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func wantErr(t *testing.T, err error, is error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %v", is)
	}
	t.Logf("error: %v", err)
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error does not wrap %v: %v", is, err)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error lacks %q:\n%v", c, err)
		}
	}
}

// TestDownloadCacheLayout downloads "gpt2" (an alias the Hub redirects to
// openai-community/gpt2) and checks the cache is exactly what
// huggingface_hub writes.
func TestDownloadCacheLayout(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)
	opt, progress := testOptions(t, f)
	opt.Token = "hf_secret"
	dir, err := Download("gpt2", opt)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(opt.CacheDir, "models--gpt2")
	if want := filepath.Join(repoDir, "snapshots", fakeCommit); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	files := gpt2Files()
	var want []string
	want = append(want, ".no_exist/", ".no_exist/"+fakeCommit+"/", ".no_exist/"+fakeCommit+"/tokenizer.json",
		"blobs/", "refs/", "refs/main", "snapshots/", "snapshots/"+fakeCommit+"/")
	for name, ff := range files {
		want = append(want, "blobs/"+ff.etag(), "snapshots/"+fakeCommit+"/"+name+" -> ../../blobs/"+ff.etag())
	}
	slices.Sort(want)
	if got := cacheTree(t, repoDir); !slices.Equal(got, want) {
		t.Errorf("cache layout:\n got %q\nwant %q", got, want)
	}
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if err != nil || string(ref) != fakeCommit {
		t.Errorf("refs/main = %q, %v; want %q with no newline", ref, err, fakeCommit)
	}
	for name, ff := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, ff.data) {
			t.Errorf("%s: content differs (err %v)", name, err)
		}
	}
	// The LFS blob is named by the sha256 of its content (X-Linked-Etag), not
	// by the pointer's ETag; a git file by its git blob sha1.
	if _, err := os.Stat(filepath.Join(repoDir, "blobs", sha256Hex(files["model.safetensors"].data))); err != nil {
		t.Error("LFS blob must be named by its sha256")
	}
	if _, err := os.Stat(filepath.Join(repoDir, "blobs", gitBlobSHA1(files["config.json"].data))); err != nil {
		t.Error("git blob must be named by its git sha1")
	}
	t.Logf("progress output: %q", progress.String())
	// The token reaches the Hub, never the CDN.
	if len(f.hubAuth) == 0 || f.hubAuth[0] != "Bearer hf_secret" {
		t.Errorf("hub saw Authorization %q", f.hubAuth)
	}
	if len(f.cdnAuth) != 0 {
		t.Errorf("CDN saw Authorization %q; the token must not leave the Hub", f.cdnAuth)
	}
	// One bar for the 1.5 MiB file, none for the small ones.
	if p := progress.String(); !strings.Contains(p, "gpt2/model.safetensors") || !strings.Contains(p, "MB") ||
		strings.Contains(p, "config.json") {
		t.Errorf("progress output: %q", p)
	}

	// A second download finds every blob: HEADs only, no GET.
	gets := f.requests("GET")
	if _, err := Download("gpt2", opt); err != nil {
		t.Fatal(err)
	}
	if n := f.requests("GET"); n != gets {
		t.Errorf("second Download made %d GETs, want 0", n-gets)
	}
}

// TestResolveCacheFirstAndOffline resolves once online, then offline from
// the cache only, with a dead endpoint.
func TestResolveCacheFirstAndOffline(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)
	opt, _ := testOptions(t, f)
	dir, err := Resolve("gpt2", opt)
	if err != nil {
		t.Fatal(err)
	}
	n := f.requests("")
	again, err := Resolve("gpt2", opt)
	if err != nil || again != dir {
		t.Fatalf("second Resolve = %q, %v; want %q", again, err, dir)
	}
	if f.requests("") != n {
		t.Errorf("a cached model must be resolved without network access")
	}
	dead := httptest.NewServer(nil)
	dead.Close()
	for name, o := range map[string]Options{
		"Options.Offline": {CacheDir: opt.CacheDir, Endpoint: dead.URL, Offline: true},
		"dead endpoint":   {CacheDir: opt.CacheDir, Endpoint: dead.URL},
	} {
		got, err := Resolve("gpt2", o)
		if err != nil || got != dir {
			t.Errorf("%s: Resolve = %q, %v; want %q", name, got, err, dir)
		}
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", opt.CacheDir)
	if got, err := Resolve("gpt2", Options{}); err != nil || got != dir {
		t.Errorf("HF_HUB_OFFLINE=1, HF_HUB_CACHE: Resolve = %q, %v; want %q", got, err, dir)
	}
	// Another name is another cache folder, even if the Hub aliases it.
	_, err = Resolve("openai-community/gpt2", Options{})
	wantErr(t, err, ErrNotCached, "models--openai-community--gpt2")
}

// TestResolveNotAvailable checks the error when nothing is cached and the
// Hub cannot be used: it names what is missing and the three remedies.
func TestResolveNotAvailable(t *testing.T) {
	isolateEnv(t)
	dead := httptest.NewServer(nil)
	dead.Close()
	cache := t.TempDir()
	remedies := []string{`"gpt2"`, cache, "config.json", "model.safetensors",
		"local folder in Hugging Face layout",
		`python -c "from transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained('gpt2')"`,
		"huggingface-cli download gpt2",
		"HF_ENDPOINT"}
	tests := []struct {
		name  string
		opt   Options
		extra []string
		is    error
	}{
		{"offline", Options{CacheDir: cache, Offline: true}, []string{"offline mode"}, nil},
		{"network error", Options{CacheDir: cache, Endpoint: dead.URL}, []string{dead.URL, "could not be reached"}, ErrNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve("gpt2", tt.opt)
			wantErr(t, err, ErrNotCached, append(remedies, tt.extra...)...)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error does not wrap %v", tt.is)
			}
		})
	}
	_, err := Download("gpt2", Options{CacheDir: cache, Offline: true})
	wantErr(t, err, ErrOffline, "gpt2")
}

// TestDownloadErrors covers the Hub's failure answers: nothing may be left
// under a final name in the cache after a failure.
func TestDownloadErrors(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)
	tests := []struct {
		name     string
		repo     string
		opt      func(*Options)
		is       error
		contains []string
	}{
		{"private repo without token", "acme/private", nil, ErrUnauthorized,
			[]string{"acme/private", "config.json", "HF_TOKEN", "401", "no token was sent", "Repository not found"}},
		{"private repo with a wrong token", "acme/private", func(o *Options) { o.Token = "hf_wrong" }, ErrUnauthorized,
			[]string{"acme/private", "HF_TOKEN", "token sent was refused"}},
		{"unknown repo", "acme/nope", nil, ErrUnauthorized, []string{"acme/nope", "HF_TOKEN"}},
		{"required file missing", "acme/no-weights", nil, ErrNotFound,
			[]string{"acme/no-weights", "model.safetensors", "404"}},
		{"unknown revision", "gpt2", func(o *Options) { o.Revision = "v9" }, ErrNotFound, []string{"gpt2", `revision "v9"`}},
		{"corrupt LFS file", "acme/corrupt-lfs", nil, ErrIntegrity,
			[]string{"acme/corrupt-lfs", "model.safetensors", "sha256", f.repos["acme/corrupt-lfs"].files["model.safetensors"].etag(),
				sha256Hex(f.repos["acme/corrupt-lfs"].files["model.safetensors"].served())}},
		{"corrupt git file", "acme/corrupt-git", nil, ErrIntegrity,
			[]string{"acme/corrupt-git", "config.json", "git-blob-sha1", f.repos["acme/corrupt-git"].files["config.json"].etag(),
				gitBlobSHA1(f.repos["acme/corrupt-git"].files["config.json"].served())}},
		{"not a Hub", "gpt2", func(o *Options) { f.omitCommit = true }, nil, []string{"X-Repo-Commit", "HF_ENDPOINT"}},
		{"bad repo id", "a/b/c", nil, ErrInvalidRepoID, []string{"a/b/c"}},
		{"bad file name", "gpt2", func(o *Options) { o.Files = []string{"../../etc/passwd"} }, nil, []string{"invalid file name"}},
		{"bad revision", "gpt2", func(o *Options) { o.Revision = "../x" }, nil, []string{"invalid revision"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.omitCommit = false
			opt, _ := testOptions(t, f)
			if tt.opt != nil {
				tt.opt(&opt)
			}
			dir, err := Download(tt.repo, opt)
			if dir != "" {
				t.Errorf("dir = %q on error", dir)
			}
			wantErr(t, err, tt.is, tt.contains...)
			// No partial or unverified file and no ref may remain.
			for _, e := range cacheTree(t, opt.CacheDir) {
				if strings.Contains(e, ".incomplete") || strings.Contains(e, ".tmp") || strings.HasPrefix(strings.TrimPrefix(e, "models--"+strings.ReplaceAll(tt.repo, "/", "--")+"/"), "refs/main") {
					t.Errorf("left behind: %s", e)
				}
			}
			if tt.is == ErrIntegrity {
				ff := f.repos[tt.repo].files["model.safetensors"]
				bad := "model.safetensors"
				if f.repos[tt.repo].files["config.json"].corrupt {
					ff, bad = f.repos[tt.repo].files["config.json"], "config.json"
				}
				repoDir := filepath.Join(opt.CacheDir, RepoFolderName(tt.repo))
				if _, err := os.Lstat(filepath.Join(repoDir, "blobs", ff.etag())); err == nil {
					t.Errorf("corrupt blob kept")
				}
				if _, err := os.Lstat(filepath.Join(repoDir, "snapshots", fakeCommit, bad)); err == nil {
					t.Errorf("corrupt file linked in the snapshot")
				}
			}
		})
	}
	f.omitCommit = false

	// The right token opens the private repo.
	opt, _ := testOptions(t, f)
	opt.Token = "hf_secret"
	if _, err := Download("acme/private", opt); err != nil {
		t.Fatal(err)
	}
	// So does the token file under HF_HOME.
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	os.WriteFile(filepath.Join(home, "token"), []byte("hf_secret\n"), 0o600)
	opt, _ = testOptions(t, f)
	if _, err := Download("acme/private", opt); err != nil {
		t.Fatalf("token from $HF_HOME/token: %v", err)
	}
	// And Resolve passes Hub errors through.
	opt, _ = testOptions(t, f)
	_, err := Resolve("acme/corrupt-lfs", opt)
	wantErr(t, err, ErrIntegrity, "acme/corrupt-lfs")
}

// TestDownloadRevisionsAndFiles checks a commit-hash revision (no ref
// written, snapshot reused without HEAD), custom files in subfolders with
// escaped names, and that Resolve completes a partial snapshot.
func TestDownloadRevisionsAndFiles(t *testing.T) {
	isolateEnv(t)
	f := newFakeHub(t)

	opt, _ := testOptions(t, f)
	opt.Revision = fakeCommit
	dir, err := Download("gpt2", opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(opt.CacheDir, "models--gpt2", "refs")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a commit revision must not write refs/: %v", err)
	}
	n := f.requests("")
	if again, err := Download("gpt2", opt); err != nil || again != dir {
		t.Fatalf("again: %q, %v", again, err)
	}
	// Only the file absent at that commit (tokenizer.json) is asked again.
	if got := f.requests("") - n; got != 2 { // HEAD /gpt2 -> 307, HEAD canonical -> 404
		t.Errorf("second Download at a commit made %d requests, want 2", got)
	}

	opt, _ = testOptions(t, f)
	opt.Files = []string{"config.json", "onnx/model.onnx", "tokenizer/vocab 1.json"}
	dir, err = Download("acme/sub", opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range opt.Files {
		ff := f.repos["acme/sub"].files[name]
		p := filepath.Join(dir, filepath.FromSlash(name))
		target, err := os.Readlink(p)
		want := strings.Repeat("../", strings.Count(name, "/")+2) + "blobs/" + ff.etag()
		if err != nil || filepath.ToSlash(target) != want {
			t.Errorf("%s -> %q (%v), want %q", name, target, err, want)
		}
		if b, _ := os.ReadFile(p); !bytes.Equal(b, ff.data) {
			t.Errorf("%s: content differs", name)
		}
	}

	// A snapshot with config.json only (e.g. an interrupted download) is
	// incomplete: Resolve fetches the rest and reuses the blob it has.
	opt, _ = testOptions(t, f)
	opt.Files = []string{"config.json"}
	if _, err := Download("gpt2", opt); err != nil {
		t.Fatal(err)
	}
	opt.Files = nil
	gets := f.requests("GET")
	if _, err := Resolve("gpt2", Options{CacheDir: opt.CacheDir, Offline: true}); !errors.Is(err, ErrNotCached) ||
		!strings.Contains(err.Error(), "missing: model.safetensors") || strings.Contains(err.Error(), "missing: config.json") {
		t.Errorf("offline, partial snapshot: %v", err)
	}
	if _, err := Resolve("gpt2", opt); err != nil {
		t.Fatal(err)
	}
	// model.safetensors + 4 small optional files; config.json is not fetched again.
	if got := f.requests("GET") - gets; got != 5 {
		t.Errorf("completing the snapshot made %d GETs, want 5", got)
	}
}

// TestResolvePythonCache builds by hand a cache exactly as huggingface_hub
// 2.x leaves it after AutoModelForCausalLM.from_pretrained("gpt2") and checks
// Resolve finds it offline.
func TestResolvePythonCache(t *testing.T) {
	isolateEnv(t)
	cache := t.TempDir()
	const commit = "607a30d783dfa663caf39e06633721c8d4cfcd7e"
	const other = "11c5a3d5811f50298f278a704980280950aedb10"
	repo := filepath.Join(cache, "models--gpt2")
	config := []byte(`{"model_type": "gpt2"}`)
	safetensors := []byte("fake weights")
	blobs := map[string][]byte{gitBlobSHA1(config): config, sha256Hex(safetensors): safetensors}
	mustMkdir := func(p string) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustMkdir(filepath.Join(repo, "blobs"))
	mustMkdir(filepath.Join(repo, "refs", "refs", "pr"))
	mustMkdir(filepath.Join(repo, "snapshots", commit))
	mustMkdir(filepath.Join(repo, "snapshots", other))
	mustMkdir(filepath.Join(repo, ".no_exist", commit))
	for h, b := range blobs {
		os.WriteFile(filepath.Join(repo, "blobs", h), b, 0o644)
	}
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644)
	os.WriteFile(filepath.Join(repo, "refs", "refs", "pr", "1"), []byte(other), 0o644)
	os.WriteFile(filepath.Join(repo, "refs", "broken"), []byte(other), 0o644)
	os.WriteFile(filepath.Join(repo, ".no_exist", commit, "tokenizer.json"), nil, 0o644)
	for _, snap := range []string{commit, other} {
		os.Symlink("../../blobs/"+gitBlobSHA1(config), filepath.Join(repo, "snapshots", snap, "config.json"))
	}
	os.Symlink("../../blobs/"+sha256Hex(safetensors), filepath.Join(repo, "snapshots", commit, "model.safetensors"))
	// In the other snapshot the weights pointer dangles (blob deleted).
	os.Symlink("../../blobs/"+strings.Repeat("e", 64), filepath.Join(repo, "snapshots", other, "model.safetensors"))

	want := filepath.Join(repo, "snapshots", commit)
	tests := []struct {
		revision string
		want     string
	}{
		{"", want},
		{"main", want},
		{commit, want},
		{"refs/pr/1", ""}, // snapshot with a dangling weights symlink
		{other, ""},       // same, by commit
		{"broken", ""},    // idem
		{"v1.0", ""},      // no such ref
		{"0000000000000000000000000000000000000000", ""}, // no such snapshot
	}
	for _, tt := range tests {
		t.Run("revision="+tt.revision, func(t *testing.T) {
			dir, err := Resolve("gpt2", Options{CacheDir: cache, Revision: tt.revision, Offline: true})
			if tt.want == "" {
				wantErr(t, err, ErrNotCached, "model.safetensors")
				return
			}
			if err != nil || dir != tt.want {
				t.Fatalf("Resolve = %q, %v; want %q", dir, err, tt.want)
			}
			b, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil || !bytes.Equal(b, config) {
				t.Errorf("config.json: %q, %v", b, err)
			}
		})
	}
	// The cache root from HF_HOME, as Python computes it.
	home := filepath.Dir(cache)
	os.Rename(cache, filepath.Join(home, "hub"))
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_HUB_OFFLINE", "true")
	if dir, err := Resolve("gpt2", Options{}); err != nil || dir != filepath.Join(home, "hub", "models--gpt2", "snapshots", commit) {
		t.Errorf("from $HF_HOME/hub: %q, %v", dir, err)
	}
}

func TestResolveLocalDir(t *testing.T) {
	isolateEnv(t)
	good := t.TempDir()
	os.WriteFile(filepath.Join(good, "config.json"), []byte(`{}`), 0o644)
	empty := t.TempDir()
	file := filepath.Join(good, "config.json")
	tests := []struct {
		name, in string
		want     string
		is       error
		contains []string
	}{
		{"folder", good, good, nil, nil},
		{"folder without config.json", empty, "", nil, []string{empty, "no config.json"}},
		{"a file", file, "", nil, []string{file, "not a model directory"}},
		{"missing path", filepath.Join(empty, "nope"), "", ErrInvalidRepoID, []string{"not an existing directory"}},
		{"empty", "", "", nil, []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := Resolve(tt.in, Options{CacheDir: t.TempDir(), Offline: true})
			if tt.want != "" {
				if err != nil || dir != tt.want {
					t.Fatalf("Resolve(%q) = %q, %v", tt.in, dir, err)
				}
				return
			}
			wantErr(t, err, tt.is, tt.contains...)
		})
	}
}

// TestResolveShadowDir: a folder named like a repo id but without
// config.json (the project's own "gpt2" Go package, say) does not hide the
// model of that name.
func TestResolveShadowDir(t *testing.T) {
	isolateEnv(t)
	t.Chdir(t.TempDir())
	os.Mkdir("gpt2", 0o755)
	os.WriteFile(filepath.Join("gpt2", "gpt2.go"), []byte("package gpt2\n"), 0o644)
	cache := t.TempDir()
	_, err := Resolve("gpt2", Options{CacheDir: cache, Offline: true})
	wantErr(t, err, ErrNotCached, `local directory "gpt2" was not used: it has no config.json`, "models--gpt2")
	_, err = Resolve("./gpt2", Options{CacheDir: cache, Offline: true})
	wantErr(t, err, nil, `"./gpt2" has no config.json`)

	f := newFakeHub(t)
	opt, _ := testOptions(t, f)
	want, err := Download("gpt2", opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Offline = true
	if got, err := Resolve("gpt2", opt); err != nil || got != want {
		t.Errorf("Resolve = %q, %v; want the cached %q", got, err, want)
	}
}

// TestDownloadRetry: a transfer cut off halfway is started over and leaves
// no partial file; one cut off every time fails with ErrNetwork.
func TestDownloadRetry(t *testing.T) {
	isolateEnv(t)
	defer func(d time.Duration) { retryDelay = d }(retryDelay)
	retryDelay = time.Millisecond
	f := newFakeHub(t)
	for _, tt := range []struct {
		drops int
		is    error
	}{{getAttempts - 1, nil}, {getAttempts, ErrNetwork}} {
		f.cdnDrops = tt.drops
		opt, _ := testOptions(t, f)
		dir, err := Download("gpt2", opt)
		if tt.is == nil && err != nil {
			t.Fatalf("%d drops: %v", tt.drops, err)
		}
		if tt.is != nil {
			wantErr(t, err, tt.is, "gpt2", "model.safetensors")
		} else if b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors")); !bytes.Equal(b, gpt2Files()["model.safetensors"].data) {
			t.Errorf("%d drops: content differs", tt.drops)
		}
		for _, e := range cacheTree(t, opt.CacheDir) {
			if strings.Contains(e, ".incomplete") {
				t.Errorf("%d drops: left %s", tt.drops, e)
			}
		}
	}
}

// TestRemoveStale: leftovers of killed downloads go, live ones stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	etag := strings.Repeat("a", 64)
	old, fresh, other := etag+".0badc0de.incomplete", etag+".12345678.incomplete", strings.Repeat("b", 64)+".0badc0de.incomplete"
	for _, n := range []string{old, fresh, other, etag} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	past := time.Now().Add(-2 * staleAfter)
	for _, n := range []string{old, other, etag} {
		os.Chtimes(filepath.Join(dir, n), past, past)
	}
	removeStale(dir, etag)
	got := cacheTree(t, dir)
	if want := []string{other, fresh, etag}; !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("after removeStale: %q", got)
	}
}

func TestValidateRepoID(t *testing.T) {
	for _, id := range []string{"gpt2", "distilgpt2", "openai-community/gpt2-medium", "a", "a/b", "Foo-BAR_foo.bar123", "EleutherAI/pythia-70m", "_x_/1.5"} {
		if err := ValidateRepoID(id); err != nil {
			t.Errorf("ValidateRepoID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "a/b/c", "/gpt2", "gpt2/", ".repo", "repo-", "foo--bar", "foo..bar", "foo.git",
		"gpt 2", "café", "a\\b", strings.Repeat("x", 97), "./gpt2", "~/models/gpt2"} {
		if err := ValidateRepoID(id); !errors.Is(err, ErrInvalidRepoID) {
			t.Errorf("ValidateRepoID(%q) = %v, want ErrInvalidRepoID", id, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	isolateEnv(t)
	home, _ := os.UserHomeDir()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HF_HOME": ""}, filepath.Join(home, ".cache", "huggingface", "hub")},
		{map[string]string{"HF_HOME": "", "XDG_CACHE_HOME": "/x"}, "/x/huggingface/hub"},
		{map[string]string{"HF_HOME": "/h", "XDG_CACHE_HOME": "/x"}, "/h/hub"},
		{map[string]string{"HF_HOME": "/h", "HUGGINGFACE_HUB_CACHE": "/legacy"}, "/legacy"},
		{map[string]string{"HF_HOME": "/h", "HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HUB_CACHE": "/c"}, "/c"},
		{map[string]string{"HF_HUB_CACHE": "~/c"}, filepath.Join(home, "c")},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		if got, err := DefaultCacheDir(); err != nil || got != tt.want {
			t.Errorf("%v: DefaultCacheDir() = %q, %v; want %q", tt.env, got, err, tt.want)
		}
		for k := range tt.env {
			t.Setenv(k, "")
		}
	}

	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	t.Setenv("HF_TOKEN", " hf_env \n")
	s, err := Options{}.settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.revision != "main" || s.endpoint != "https://mirror.example" || s.token != "hf_env" || s.offline ||
		s.progress != os.Stderr || !slices.Equal(s.files, DefaultFiles) || s.httpClient == nil {
		t.Errorf("defaults: %+v", s)
	}
	for _, v := range []string{"1", "ON", "yes", "True"} {
		t.Setenv("HF_HUB_OFFLINE", v)
		if s, _ := (Options{}).settings(); !s.offline {
			t.Errorf("HF_HUB_OFFLINE=%s is not offline", v)
		}
	}
	t.Setenv("HF_HUB_OFFLINE", "0")
	if s, _ := (Options{}).settings(); s.offline {
		t.Error("HF_HUB_OFFLINE=0 is offline")
	}
	if s, _ := (Options{Endpoint: "http://e", Token: "t", Progress: io.Discard}).settings(); s.endpoint != "http://e" || s.token != "t" {
		t.Errorf("explicit options lost: %+v", s)
	}
	for _, e := range []struct{ in, want string }{{`"abc"`, "abc"}, {`W/"abc"`, "abc"}, {"abc", "abc"}, {"", ""}} {
		if got := normalizeETag(e.in); got != e.want {
			t.Errorf("normalizeETag(%q) = %q", e.in, got)
		}
	}
	if RepoFolderName("openai-community/gpt2") != "models--openai-community--gpt2" || RepoFolderName("gpt2") != "models--gpt2" {
		t.Error("RepoFolderName")
	}
}
