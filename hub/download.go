package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/govene/govene/internal/atomicfs"
	"github.com/govene/govene/internal/fsx"
	"github.com/govene/govene/internal/progress"
)

const (
	// headTimeout bounds a metadata request, like huggingface_hub's
	// HF_HUB_ETAG_TIMEOUT (10 s; the same variable overrides it here).
	headTimeout = 10 * time.Second
	// stallTimeout aborts a transfer that receives no byte for this long.
	stallTimeout = 60 * time.Second
	// getAttempts is how many times a blob transfer is tried when the
	// network fails; each try starts over from byte 0.
	getAttempts = 3
	// largeFile is the size from which a progress bar is shown.
	largeFile = 1 << 20
	userAgent = "govene-hub/1 (huggingface_hub-compatible cache)"
)

// Download fetches the files Options.Files (DefaultFiles when empty) of the
// model repository repoID at Options.Revision from the Hub into the cache,
// laid out exactly as huggingface_hub lays it out, and returns the snapshot
// directory <cache>/models--{org}--{name}/snapshots/{commit}.
//
// Each file's metadata comes from a HEAD on
// {endpoint}/{repo}/resolve/{revision}/{file}; its content is streamed from
// the (possibly CDN) location into blobs/{etag}.{random}.incomplete, checked
// against the etag (sha256 for LFS files, git blob sha1 otherwise) and the
// announced size (a body longer than announced is cut off after one extra
// byte and refused), then renamed to blobs/{etag} and linked from
// snapshots/{commit}/{file}. A blob already in the cache is not downloaded
// again. An ETag that is neither digest (a mirror's opaque ETag) cannot be
// verified: only the size is checked, and a warning saying so is written to
// Options.Progress. refs/{revision} is written last, when the revision is a branch or
// tag. No partially written file ever appears under a final name.
//
// It returns an error wrapping ErrInvalidRepoID for a bad repo id,
// ErrOffline in offline mode, ErrUnauthorized on HTTP 401/403, ErrNotFound on
// a 404 for the repository, the revision or a required file (a 404 for a file
// in OptionalFiles is skipped), ErrIntegrity when a file does not match its
// etag or size (nothing is left in the cache for it), and ErrNetwork when the
// Hub cannot be reached or a transfer keeps failing. Every error names the
// repository and the file.
func Download(repoID string, opt Options) (string, error) {
	if err := ValidateRepoID(repoID); err != nil {
		return "", err
	}
	s, err := opt.settings()
	if err != nil {
		return "", fmt.Errorf("hub: download %s: %w", repoID, err)
	}
	if s.offline {
		return "", fmt.Errorf("hub: download %s: %w (Options.Offline or HF_HUB_OFFLINE); use Resolve to load it from the cache", repoID, ErrOffline)
	}
	return download(repoID, s)
}

// downloader holds the state of one Download call.
type downloader struct {
	s       settings
	repoID  string
	repoDir string
	commit  string // the commit every file comes from; "" until the first answer
	fetched int    // files in the snapshot (a 404 for an optional file does not count)
}

// fileMeta is what a HEAD on /resolve/ tells about a file.
type fileMeta struct {
	commit   string
	etag     string
	size     int64 // -1 when unknown
	location string
	maxSize  int64 // the largest size accepted; 0 means no cap
}

func newDownloader(repoID string, s settings) *downloader {
	d := &downloader{s: s, repoID: repoID, repoDir: filepath.Join(s.cacheDir, RepoFolderName(repoID))}
	if commitHashRE.MatchString(s.revision) {
		d.commit = s.revision
	}
	return d
}

func download(repoID string, s settings) (string, error) {
	d := newDownloader(repoID, s)
	for _, file := range s.files {
		if _, err := d.fetch(file, required(file), 0); err != nil {
			return "", err
		}
	}
	return d.finish()
}

// fetch makes sure snapshots/{commit}/file points at the verified content
// of file. It returns false, and no error, when file is optional (required
// is false) and the Hub answers 404 EntryNotFound for it; the absence is
// then recorded in .no_exist. A file larger than maxSize (when above 0) is
// refused with an error wrapping fsx.ErrTooLarge, before its download
// when the Hub announces its size.
func (d *downloader) fetch(file string, required bool, maxSize int64) (bool, error) {
	// Like huggingface_hub: a file already in the snapshot of an explicit
	// commit cannot have changed, so skip the HEAD.
	if d.commit == d.s.revision && d.commit != "" {
		if fi, err := os.Stat(d.pointerPath(d.commit, file)); err == nil && fi.Mode().IsRegular() && (maxSize <= 0 || fi.Size() <= maxSize) {
			d.fetched++
			return true, nil
		}
	}
	meta, err := d.head(file)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusNotFound && !required &&
			(he.errorCode == "" || he.errorCode == "EntryNotFound") {
			d.markNoExist(he.commit, file)
			return false, nil
		}
		return false, err
	}
	if d.commit == "" {
		d.commit = meta.commit
	} else if meta.commit != d.commit {
		return false, fmt.Errorf("hub: download %s: %s: the Hub answered commit %s, but the other files came from commit %s (revision %q moved during the download?); try again",
			d.repoID, file, meta.commit, d.commit, d.s.revision)
	}
	meta.maxSize = maxSize
	if maxSize > 0 && meta.size > maxSize {
		return false, fmt.Errorf("hub: download %s: %s: the Hub announces %d bytes, over the %s limit: %w (nothing downloaded)",
			d.repoID, file, meta.size, fsx.FormatSize(maxSize), fsx.ErrTooLarge)
	}
	blob, err := d.fetchBlob(file, meta)
	if err != nil {
		return false, err
	}
	if err := linkPointer(d.pointerPath(d.commit, file), blob); err != nil {
		return false, fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	d.fetched++
	return true, nil
}

// finish writes refs/{revision} once every file is in the snapshot and
// returns the snapshot directory; it returns an error wrapping ErrNotFound
// when no file at all was found.
func (d *downloader) finish() (string, error) {
	if d.commit == "" || d.fetched == 0 {
		return "", fmt.Errorf("hub: download %s@%s: %w: none of the files %s exists in the repository",
			d.repoID, d.s.revision, ErrNotFound, strings.Join(d.s.files, ", "))
	}
	if d.s.revision != d.commit {
		if err := writeRef(filepath.Join(d.repoDir, "refs", filepath.FromSlash(d.s.revision)), d.commit); err != nil {
			return "", fmt.Errorf("hub: download %s: write ref %s: %w", d.repoID, d.s.revision, err)
		}
	}
	return filepath.Join(d.repoDir, "snapshots", d.commit), nil
}

func (d *downloader) pointerPath(commit, file string) string {
	return filepath.Join(d.repoDir, "snapshots", commit, filepath.FromSlash(file))
}

// resolveURL is huggingface_hub's hf_hub_url: the revision is escaped as one
// path segment, the file name keeps its "/".
func (d *downloader) resolveURL(file string) string {
	segs := strings.Split(file, "/")
	for i, p := range segs {
		segs[i] = url.PathEscape(p)
	}
	return d.s.endpoint + "/" + d.repoID + "/resolve/" + url.PathEscape(d.s.revision) + "/" + strings.Join(segs, "/")
}

// markNoExist records, like huggingface_hub, that file does not exist at
// commit, so Python's offline loaders do not look for it. Failures are ignored.
func (d *downloader) markNoExist(commit, file string) {
	if !safeComponent(commit) {
		return
	}
	p := filepath.Join(d.repoDir, ".no_exist", commit, filepath.FromSlash(file))
	if os.MkdirAll(filepath.Dir(p), 0o755) == nil {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o666); err == nil {
			f.Close()
		}
	}
}

// httpError is a non-success HTTP answer from the Hub or the CDN.
type httpError struct {
	status    int
	errorCode string // X-Error-Code
	commit    string // X-Repo-Commit, if any
	msg       string
	kind      error // one of the sentinels
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.kind }

// statusError turns a failed response into an error naming repo and file.
func (d *downloader) statusError(resp *http.Response, file, what string) error {
	e := &httpError{
		status:    resp.StatusCode,
		errorCode: resp.Header.Get("X-Error-Code"),
		commit:    resp.Header.Get("X-Repo-Commit"),
	}
	detail := ""
	if m := resp.Header.Get("X-Error-Message"); m != "" {
		detail = " (Hub says: " + m + ")"
	}
	prefix := fmt.Sprintf("hub: %s %s: %s: HTTP %d%s", what, d.repoID, file, resp.StatusCode, detail)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.kind = ErrUnauthorized
		auth := "no token was sent"
		if d.s.token != "" {
			auth = "the token sent was refused"
		}
		e.msg = fmt.Sprintf("%s: %v: repository %q is private or gated, or does not exist, and %s: set HF_TOKEN (or Options.Token, or log in with `huggingface-cli login`) to a token that can read it; for a gated model first accept its terms at %s/%s",
			prefix, ErrUnauthorized, d.repoID, auth, d.s.endpoint, d.repoID)
	case resp.StatusCode == http.StatusNotFound:
		e.kind = ErrNotFound
		switch e.errorCode {
		case "EntryNotFound":
			e.msg = fmt.Sprintf("%s: %v: repository %q has no file %q at revision %q", prefix, ErrNotFound, d.repoID, file, d.s.revision)
		case "RevisionNotFound":
			e.msg = fmt.Sprintf("%s: %v: repository %q has no revision %q", prefix, ErrNotFound, d.repoID, d.s.revision)
		case "RepoNotFound":
			e.msg = fmt.Sprintf("%s: %v: no repository %q (check the name)", prefix, ErrNotFound, d.repoID)
		default:
			e.msg = fmt.Sprintf("%s: %v: no repository %q, or no file %q in it at revision %q", prefix, ErrNotFound, d.repoID, file, d.s.revision)
		}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		e.kind = ErrNetwork
		e.msg = fmt.Sprintf("%s: %v: the Hub at %s is unavailable or rate-limiting", prefix, ErrNetwork, d.s.endpoint)
	default:
		e.kind = nil
		e.msg = fmt.Sprintf("%s: unexpected answer from %s", prefix, resp.Request.URL.Redacted())
	}
	return e
}

// networkError wraps a transport failure with ErrNetwork.
func (d *downloader) networkError(file, what string, err error) error {
	return fmt.Errorf("hub: %s %s: %s: %w: %w (is the machine offline? set HF_ENDPOINT for a mirror, or supply the model from a local folder or the HF cache)",
		what, d.repoID, file, ErrNetwork, err)
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// hubHost reports whether u is served by the Hub (the configured endpoint,
// huggingface.co or hf.co): the Authorization header may go there.
func (d *downloader) hubHost(u *url.URL) bool {
	for _, e := range []string{d.s.endpoint, DefaultEndpoint, "https://hf.co"} {
		if eu, err := url.Parse(e); err == nil && sameOrigin(eu, u) {
			return true
		}
	}
	return false
}

func (d *downloader) newRequest(ctx context.Context, method, u string, auth bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	// The real size and the etag digest are those of the uncompressed bytes.
	req.Header.Set("Accept-Encoding", "identity")
	if auth && d.s.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.s.token)
	}
	return req, nil
}

func etagTimeout() time.Duration {
	if v := os.Getenv("HF_HUB_ETAG_TIMEOUT"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			return time.Duration(f * float64(time.Second))
		}
	}
	return headTimeout
}

// head fetches the metadata of file. Redirects are followed while they stay
// on the Hub (e.g. the "gpt2" -> "openai-community/gpt2" rename), and not to
// a CDN: that redirect's own headers describe the file.
func (d *downloader) head(file string) (fileMeta, error) {
	meta := fileMeta{size: -1}
	ctx, cancel := context.WithTimeout(context.Background(), etagTimeout())
	defer cancel()
	req, err := d.newRequest(ctx, http.MethodHead, d.resolveURL(file), true)
	if err != nil {
		return meta, fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	client := *d.s.httpClient
	client.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !sameOrigin(next.URL, via[len(via)-1].URL) && !d.hubHost(next.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return meta, d.networkError(file, "download", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	redirect := resp.StatusCode >= 300 && resp.StatusCode < 400
	if !(resp.StatusCode >= 200 && resp.StatusCode < 300) && !(redirect && resp.Header.Get("Location") != "") {
		return meta, d.statusError(resp, file, "download")
	}
	meta.commit = resp.Header.Get("X-Repo-Commit")
	meta.etag = normalizeETag(resp.Header.Get("X-Linked-Etag"))
	if meta.etag == "" {
		meta.etag = normalizeETag(resp.Header.Get("ETag"))
	}
	sizeHeader := resp.Header.Get("X-Linked-Size")
	if sizeHeader == "" && !redirect {
		sizeHeader = resp.Header.Get("Content-Length")
	}
	if n, err := strconv.ParseInt(sizeHeader, 10, 64); err == nil && n >= 0 {
		meta.size = n
	}
	meta.location = resp.Request.URL.String()
	if redirect {
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			return meta, fmt.Errorf("hub: download %s: %s: bad redirect %q: %w", d.repoID, file, resp.Header.Get("Location"), err)
		}
		meta.location = loc.String()
	}
	if meta.commit == "" {
		return meta, fmt.Errorf("hub: download %s: %s: the answer from %s has no X-Repo-Commit header, so it does not come from a Hugging Face Hub endpoint (check HF_ENDPOINT, proxy and firewall settings)",
			d.repoID, file, d.s.endpoint)
	}
	if !safeComponent(meta.commit) {
		return meta, fmt.Errorf("hub: download %s: %s: invalid X-Repo-Commit %q", d.repoID, file, meta.commit)
	}
	if meta.etag == "" {
		return meta, fmt.Errorf("hub: download %s: %s: the Hub sent no ETag, so the file cannot be cached or verified", d.repoID, file)
	}
	if !safeComponent(meta.etag) {
		return meta, fmt.Errorf("hub: download %s: %s: invalid ETag %q", d.repoID, file, meta.etag)
	}
	return meta, nil
}

// normalizeETag is huggingface_hub's _normalize_etag: drop W/ and quotes.
func normalizeETag(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimLeft(etag, "W/") // same as Python's lstrip("W/")
	return strings.Trim(etag, `"`)
}

// retryDelay is the pause before the second try of a transfer (doubled
// before the third); a variable so tests need not wait.
var retryDelay = time.Second

// fetchBlob makes sure blobs/{etag} holds the verified content of file and
// returns its path.
func (d *downloader) fetchBlob(file string, meta fileMeta) (string, error) {
	blobs := filepath.Join(d.repoDir, "blobs")
	final := filepath.Join(blobs, meta.etag)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && (meta.size < 0 || fi.Size() == meta.size) {
		return final, nil
	}
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return "", fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	removeStale(blobs, meta.etag)
	var err error
	for attempt := 1; attempt <= getAttempts; attempt++ {
		err = d.fetchOnce(file, meta, final)
		if err == nil || !errors.Is(err, ErrNetwork) {
			break
		}
		if attempt < getAttempts {
			time.Sleep(time.Duration(attempt) * retryDelay)
		}
	}
	if err != nil {
		return "", err
	}
	return final, nil
}

// staleAfter is how long an .incomplete file must have been left untouched
// before it is taken for the leftover of a killed download and removed.
const staleAfter = time.Hour

// removeStale deletes the {etag}.{random}.incomplete files (this package's
// and huggingface_hub's temporary names) that no download has written to
// for staleAfter. Errors are ignored.
func removeStale(blobs, etag string) {
	entries, err := os.ReadDir(blobs)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, etag+".") || !strings.HasSuffix(name, ".incomplete") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleAfter {
			os.Remove(filepath.Join(blobs, name))
		}
	}
}

// fetchOnce streams the content into a unique .incomplete file, verifies it
// and renames it to final. On any failure the partial file is removed.
func (d *downloader) fetchOnce(file string, meta fileMeta, final string) (err error) {
	tmp, f, err := createUnique(final, ".incomplete")
	if err != nil {
		return fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loc, err := url.Parse(meta.location)
	if err != nil {
		return fmt.Errorf("hub: download %s: %s: bad location %q: %w", d.repoID, file, meta.location, err)
	}
	// The token goes to the Hub only, never to a CDN (its URL is signed).
	req, err := d.newRequest(ctx, http.MethodGet, meta.location, d.hubHost(loc))
	if err != nil {
		return fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	resp, err := d.s.httpClient.Do(req)
	if err != nil {
		return d.networkError(file, "download", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return d.statusError(resp, file, "download")
	}

	size := meta.size
	if size < 0 && resp.ContentLength >= 0 {
		size = resp.ContentLength
	}
	v := newVerifier(meta.etag, size)
	var bar *progress.Bar
	if size < 0 || size >= largeFile {
		bar = d.newBar(file, size)
		defer bar.Abandon() // does nothing once finished
	}
	var dst io.Writer = io.MultiWriter(f, v)
	if bar != nil {
		dst = io.MultiWriter(f, v, bar)
	}
	var body io.Reader = &stallReader{r: resp.Body, cancel: cancel}
	if size >= 0 {
		// One byte more than announced is enough to detect a longer body;
		// a server sending more must not fill the disk.
		body = io.LimitReader(body, size+1)
	} else if meta.maxSize > 0 {
		body = io.LimitReader(body, meta.maxSize+1)
	}
	n, err := io.Copy(dst, body)
	if err != nil {
		if werr := (*os.PathError)(nil); errors.As(err, &werr) {
			return fmt.Errorf("hub: download %s: %s: write %s: %w", d.repoID, file, tmp, err)
		}
		return d.networkError(file, "download", err)
	}
	if meta.maxSize > 0 && n > meta.maxSize {
		return fmt.Errorf("hub: download %s: %s: more than %s: %w (partial download deleted)",
			d.repoID, file, fsx.FormatSize(meta.maxSize), fsx.ErrTooLarge)
	}
	if size >= 0 && n != size {
		got := fmt.Sprintf("%d", n)
		if n > size {
			got = "more"
		}
		return fmt.Errorf("hub: download %s: %s: %w: expected %d bytes, got %s (partial download deleted)",
			d.repoID, file, ErrIntegrity, size, got)
	}
	if v.h == nil {
		checked := fmt.Sprintf("only its size (%d bytes) was checked", n)
		if size < 0 {
			checked = "neither its content nor its size could be checked (the server sent no size)"
		}
		fmt.Fprintf(d.s.progress, "hub: warning: %s/%s: ETag %q is not a sha256 (LFS) or git blob sha1 digest, so %s\n",
			d.repoID, file, meta.etag, checked)
	}
	bar.Finish()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	f = nil
	if algo, got, ok, verr := v.check(tmp, n); verr != nil {
		return fmt.Errorf("hub: download %s: %s: verify: %w", d.repoID, file, verr)
	} else if !ok {
		return fmt.Errorf("hub: download %s: %s: %w: expected %s %s, got %s (partial download deleted)",
			d.repoID, file, ErrIntegrity, algo, meta.etag, got)
	}
	if err := atomicfs.Rename(tmp, final); err != nil {
		return fmt.Errorf("hub: download %s: %s: %w", d.repoID, file, err)
	}
	return nil
}

func (d *downloader) newBar(file string, size int64) *progress.Bar {
	return progress.New(d.s.progress, d.repoID+"/"+file, size, progress.Options{Bytes: true})
}

// stallReader cancels the transfer when a Read waits longer than
// stallTimeout.
type stallReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (s *stallReader) Read(p []byte) (int, error) {
	t := time.AfterFunc(stallTimeout, s.cancel)
	n, err := s.r.Read(p)
	if !t.Stop() && err != nil {
		err = fmt.Errorf("no data for %v: %w", stallTimeout, err)
	}
	return n, err
}

// verifier hashes the content as it streams by, per the kind of etag:
// 64 hex digits = sha256 of the content (LFS), 40 hex digits = git blob sha1
// (sha1 of "blob <size>\x00" + content), either case. Any other etag (a
// mirror's opaque ETag) is not a digest: the content cannot be verified,
// only the size when the server announces one, and fetchOnce writes a
// warning saying so to Options.Progress.
type verifier struct {
	algo     string
	h        hash.Hash
	want     string
	prefixed bool // git blob header already written (size known up front)
}

func newVerifier(etag string, size int64) *verifier {
	etag = strings.ToLower(etag)
	switch {
	case sha256RE.MatchString(etag):
		return &verifier{algo: "sha256", h: sha256.New(), want: etag}
	case commitHashRE.MatchString(etag):
		v := &verifier{algo: "git-blob-sha1", h: sha1.New(), want: etag}
		if size >= 0 {
			fmt.Fprintf(v.h, "blob %d\x00", size)
			v.prefixed = true
		}
		return v
	}
	return &verifier{}
}

func (v *verifier) Write(p []byte) (int, error) {
	if v.h != nil && (v.prefixed || v.algo == "sha256") {
		v.h.Write(p)
	}
	return len(p), nil
}

// check returns the algorithm, the digest computed and whether it matches.
// For a git blob whose size was unknown while streaming it re-reads path.
func (v *verifier) check(path string, n int64) (algo, got string, ok bool, err error) {
	if v.h == nil {
		return "", "", true, nil
	}
	if v.algo == "git-blob-sha1" && !v.prefixed {
		v.h.Reset()
		fmt.Fprintf(v.h, "blob %d\x00", n)
		f, err := os.Open(path)
		if err != nil {
			return v.algo, "", false, err
		}
		defer f.Close()
		if _, err := io.Copy(v.h, f); err != nil {
			return v.algo, "", false, err
		}
	}
	got = hex.EncodeToString(v.h.Sum(nil))
	return v.algo, got, got == v.want, nil
}

// createUnique creates base.{random}{suffix} exclusively, mode 0666 less the
// umask, as huggingface_hub creates its blobs.
func createUnique(base, suffix string) (string, *os.File, error) {
	for range 10 {
		var b [4]byte
		rand.Read(b[:])
		name := base + "." + hex.EncodeToString(b[:]) + suffix
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", nil, err
		}
	}
	return "", nil, fmt.Errorf("cannot create a temporary file next to %s", base)
}

// linkPointer makes pointer a relative symlink to blob (copying the blob
// where symlinks are not supported), replacing any previous entry
// atomically (internal/atomicfs).
func linkPointer(pointer, blob string) error {
	dir := filepath.Dir(pointer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, blob)
	if err != nil {
		rel = blob
	}
	if err := atomicfs.Symlink(rel, pointer); err == nil {
		return nil
	}
	// No symlinks here (e.g. Windows without developer mode): copy.
	in, err := os.Open(blob)
	if err != nil {
		return fmt.Errorf("link %s: %w", pointer, err)
	}
	defer in.Close()
	err = atomicfs.WriteFileFunc(pointer, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("link %s: %w", pointer, err)
	}
	return nil
}

// writeRef atomically writes commit (no newline, as huggingface_hub does)
// to path, unless it already holds it.
func writeRef(path, commit string) error {
	if b, err := fsx.ReadFile(path, "refs file", maxRefBytes); err == nil && string(b) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfs.WriteFile(path, []byte(commit), 0o644)
}

// defaultHTTPClient follows http.DefaultTransport (proxies from the
// environment) and adds a response-header timeout; no overall timeout, so
// large files can take as long as they need.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t}
}
