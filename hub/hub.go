// Package hub finds a Hugging Face model checkpoint on disk, or downloads it,
// the way Python's huggingface_hub does.
//
// The on-disk cache it reads and writes is byte-for-byte the layout of
// huggingface_hub, so a model downloaded by Python's transformers is found
// here offline, and a model downloaded here is found by Python:
//
//	<cache>/models--{org}--{name}/
//	    blobs/{etag}                      file contents; etag = sha256 (LFS) or git blob sha1
//	    refs/{revision}                   the commit hash a branch or tag points at (no newline)
//	    snapshots/{commit}/{file}         relative symlink to ../../blobs/{etag}
//	    .no_exist/{commit}/{file}         empty marker: the file does not exist at that commit
//
// What was checked against huggingface_hub 2.4.0 (file_download.py,
// constants.py, utils/_http.py, utils/_validators.py, utils/_auth.py):
//   - cache root: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub,
//     else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub
//     (constants.py); the folder is "models" + "--" + repo id with "/"
//     replaced by "--" (repo_folder_name), named after the id as passed, so
//     "gpt2" lives in models--gpt2 even though the Hub redirects it to
//     openai-community/gpt2;
//   - URL: {endpoint}/{repo}/resolve/{quote(revision, safe="")}/{quote(file)}
//     (hf_hub_url), endpoint from HF_ENDPOINT with trailing "/" removed;
//   - metadata from a HEAD that follows redirects only while they stay on the
//     Hub's host, stopping at a CDN redirect (_httpx2_follow_hub_redirects_with_backoff):
//     commit = X-Repo-Commit, etag = X-Linked-Etag or ETag with a leading W/
//     and the quotes removed (_normalize_etag), size = X-Linked-Size or, when
//     the response is not a redirect, Content-Length, download URL = Location
//     (get_hf_file_metadata); the Authorization header is dropped when that
//     URL is on another host (_get_metadata_or_catch_error);
//   - the blob is written to a unique blobs/{etag}.{random}.incomplete and
//     renamed into place (_download_to_tmp_and_move), pointers are relative
//     symlinks with a copy as fallback (_create_symlink), refs/{revision} is
//     written atomically with the commit hash and no newline when the
//     revision is not the commit itself (_cache_commit_hash_for_specific_revision),
//     a 404 "EntryNotFound" is remembered as .no_exist/{commit}/{file};
//   - an etag of 64 hex digits is the sha256 of an LFS file (REGEX_SHA256);
//     one of 40 hex digits is the git blob sha1 of a regular file (any other
//     etag, from a non-Hub mirror, is not a digest: only the size is checked,
//     and Download writes a warning saying so to Options.Progress);
//   - the token comes from HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the
//     file HF_TOKEN_PATH or $HF_HOME/token, trimmed (_auth.py); offline mode
//     is HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE set to 1/ON/YES/TRUE;
//   - repo ids: "name" or "namespace/name", each part 1-96 characters of
//     [A-Za-z0-9_.-], starting and ending with [A-Za-z0-9_], no "--" or "..",
//     not ending in ".git" (validate_repo_id).
//
// Unlike huggingface_hub, this package checks every downloaded blob against
// its etag (sha256 or git blob sha1) before it is published in the cache, and
// Resolve is cache-first: a snapshot that already holds the required files is
// used without asking the Hub whether the branch has moved. ResolveModel
// also accepts a sharded checkpoint, model.safetensors.index.json and the
// shards it names, in place of model.safetensors, in the cache and on the
// Hub.
package hub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/govene/govene/internal/fsx"
)

// Size caps on the small files of the cache and the environment this
// package reads: a refs/{revision} file holds a 40-character commit hash,
// a token file one token. A named pipe or device in their place is refused
// unread.
const (
	maxRefBytes   = 1 << 10  // refs/{revision}: 1 KiB
	maxTokenBytes = 64 << 10 // HF_TOKEN_PATH or $HF_HOME/token: 64 KiB
)

// DefaultEndpoint is the Hugging Face Hub used when neither Options.Endpoint
// nor the HF_ENDPOINT environment variable is set.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the revision used when Options.Revision is empty.
const DefaultRevision = "main"

// DefaultFiles is the set of files fetched for a GPT-2 style checkpoint when
// Options.Files is empty: the model config and weights (required) followed by
// the tokenizer and generation files (optional, see OptionalFiles).
var DefaultFiles = []string{
	"config.json",
	"model.safetensors",
	"vocab.json",
	"merges.txt",
	"tokenizer.json",
	"tokenizer_config.json",
	"generation_config.json",
}

// OptionalFiles lists the files that a repository may lack: a 404 for one of
// them is not an error, and a cached snapshot is complete without them. Every
// other file named in Options.Files (or DefaultFiles) is required.
var OptionalFiles = []string{
	"vocab.json",
	"merges.txt",
	"tokenizer.json",
	"tokenizer_config.json",
	"generation_config.json",
	"special_tokens_map.json",
	"added_tokens.json",
}

// Sentinel errors, for errors.Is on what Resolve and Download return. Every
// error returned by this package wraps at most one of them and carries the
// repository id and file name in its message.
var (
	// ErrInvalidRepoID: the name is neither an existing directory nor a
	// valid Hub repository id.
	ErrInvalidRepoID = errors.New("invalid repository id")
	// ErrNotCached: the model is not in the cache and the Hub cannot be
	// reached (offline mode or a network error).
	ErrNotCached = errors.New("model not available locally")
	// ErrUnauthorized: the Hub answered 401 or 403 (private or gated
	// repository, or a bad token).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the Hub answered 404 for the repository, revision or a
	// required file.
	ErrNotFound = errors.New("not found on the Hub")
	// ErrIntegrity: a downloaded file does not match its etag or size.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrNetwork: the Hub could not be reached or the transfer failed.
	ErrNetwork = errors.New("network error")
	// ErrOffline: a download was asked for while offline mode is on.
	ErrOffline = errors.New("offline mode is enabled")
)

// Options tunes Resolve and Download. Its zero value is ready to use: every
// empty field is filled from the environment the way huggingface_hub does.
type Options struct {
	// Revision is a branch, tag or 40-hex commit hash; "" means "main".
	Revision string
	// CacheDir is the hub cache root; "" means HF_HUB_CACHE, else
	// HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
	// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
	CacheDir string
	// Endpoint is the Hub base URL; "" means HF_ENDPOINT, else
	// https://huggingface.co. Point it at a mirror to download from there.
	Endpoint string
	// Token is the bearer token sent to the Hub; "" means HF_TOKEN, else
	// HUGGING_FACE_HUB_TOKEN, else the file HF_TOKEN_PATH or $HF_HOME/token.
	Token string
	// Offline forbids any network access when true; when false, offline
	// mode is still on if HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is
	// 1/ON/YES/TRUE.
	Offline bool
	// Progress receives the download progress bars; nil means os.Stderr.
	// Use io.Discard to silence them.
	Progress io.Writer
	// Files are the repository files to fetch; empty means DefaultFiles.
	// Files in OptionalFiles may be missing on the Hub; the others are
	// required.
	Files []string
	// HTTPClient performs the requests; nil means a client built on
	// http.DefaultTransport's settings (proxy from the environment) with
	// connect and response-header timeouts.
	HTTPClient *http.Client
}

// settings is Options with every default filled in.
type settings struct {
	revision   string
	cacheDir   string
	endpoint   string
	token      string
	offline    bool
	progress   io.Writer
	files      []string
	httpClient *http.Client
}

func (o Options) settings() (settings, error) {
	s := settings{
		revision:   o.Revision,
		cacheDir:   o.CacheDir,
		endpoint:   o.Endpoint,
		token:      strings.TrimSpace(o.Token),
		offline:    o.Offline || envOffline(),
		progress:   o.Progress,
		files:      o.Files,
		httpClient: o.HTTPClient,
	}
	if s.revision == "" {
		s.revision = DefaultRevision
	}
	if err := validateRevision(s.revision); err != nil {
		return s, err
	}
	if s.cacheDir == "" {
		dir, err := defaultCacheDir()
		if err != nil {
			return s, err
		}
		s.cacheDir = dir
	} else {
		s.cacheDir = expandPath(s.cacheDir)
	}
	if s.endpoint == "" {
		s.endpoint = os.Getenv("HF_ENDPOINT")
	}
	if s.endpoint == "" {
		s.endpoint = DefaultEndpoint
	}
	s.endpoint = strings.TrimRight(s.endpoint, "/")
	if s.token == "" {
		s.token = envToken()
	}
	if s.progress == nil {
		s.progress = os.Stderr
	}
	if len(s.files) == 0 {
		s.files = DefaultFiles
	}
	for _, f := range s.files {
		if err := validateFilename(f); err != nil {
			return s, err
		}
	}
	if s.httpClient == nil {
		s.httpClient = defaultHTTPClient()
	}
	return s, nil
}

// required reports whether file must be present (it is not in OptionalFiles).
func required(file string) bool {
	for _, f := range OptionalFiles {
		if f == file {
			return false
		}
	}
	return true
}

// DefaultCacheDir returns the hub cache root huggingface_hub would use:
// HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub ("~" and
// $VARS expanded). It returns an error only when it must fall back to the
// home directory and that cannot be determined.
func DefaultCacheDir() (string, error) {
	dir, err := defaultCacheDir()
	if err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	return dir, nil
}

func defaultCacheDir() (string, error) {
	for _, v := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := os.Getenv(v); d != "" {
			return expandPath(d), nil
		}
	}
	home, err := hfHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "hub"), nil
}

// hfHome is $HF_HOME, else $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface.
func hfHome() (string, error) {
	if d := os.Getenv("HF_HOME"); d != "" {
		return expandPath(d), nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(expandPath(d), "huggingface"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot locate the Hugging Face cache (set HF_HUB_CACHE or HF_HOME): %w", err)
	}
	return filepath.Join(home, ".cache", "huggingface"), nil
}

// expandPath expands a leading "~" and $VARS, like Python's
// os.path.expandvars(os.path.expanduser(p)).
func expandPath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	return os.ExpandEnv(p)
}

func envTrue(name string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(name))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func envOffline() bool { return envTrue("HF_HUB_OFFLINE") || envTrue("TRANSFORMERS_OFFLINE") }

// envToken reads the token like huggingface_hub's get_token (without the
// Colab and OIDC sources).
func envToken() string {
	for _, v := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := cleanToken(os.Getenv(v)); t != "" {
			return t
		}
	}
	path := os.Getenv("HF_TOKEN_PATH")
	if path != "" {
		path = expandPath(path)
	} else {
		home, err := hfHome()
		if err != nil {
			return ""
		}
		path = filepath.Join(home, "token")
	}
	b, err := fsx.ReadFile(path, "token file", maxTokenBytes)
	if err != nil {
		return ""
	}
	return cleanToken(string(b))
}

func cleanToken(t string) string {
	return strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(t))
}

var (
	repoPartRE   = regexp.MustCompile(`^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$`)
	commitHashRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidateRepoID returns nil if id is a valid Hub repository id ("name" or
// "namespace/name", the rules of huggingface_hub's validate_repo_id), else an
// error wrapping ErrInvalidRepoID that says which rule is broken.
func ValidateRepoID(id string) error {
	bad := func(why string) error {
		return fmt.Errorf("hub: %w %q: %s", ErrInvalidRepoID, id, why)
	}
	if id == "" {
		return bad("empty")
	}
	parts := strings.Split(id, "/")
	if len(parts) > 2 {
		return bad(`must be "name" or "namespace/name"`)
	}
	for _, p := range parts {
		if !repoPartRE.MatchString(p) {
			return bad(`each part must be 1-96 characters of letters, digits, "-", "_" or ".", and must not start or end with "-" or "."`)
		}
	}
	if strings.Contains(id, "--") || strings.Contains(id, "..") {
		return bad(`"--" and ".." are not allowed`)
	}
	if strings.HasSuffix(id, ".git") {
		return bad(`must not end with ".git"`)
	}
	return nil
}

// RepoFolderName returns the cache folder name of a model repository,
// "models--" + id with "/" replaced by "--" (huggingface_hub's
// repo_folder_name): "gpt2" gives "models--gpt2", "openai-community/gpt2"
// gives "models--openai-community--gpt2". It does not validate id.
func RepoFolderName(repoID string) string {
	return "models--" + strings.ReplaceAll(repoID, "/", "--")
}

// validateRevision rejects revisions that could escape refs/ or snapshots/.
func validateRevision(rev string) error { return validateRelPath("revision", rev) }

// validateFilename rejects file names that could escape the snapshot folder.
func validateFilename(name string) error { return validateRelPath("file name", name) }

// validateRelPath returns an error naming what and s unless s is a
// relative, slash-separated path of plain components: none empty (so no
// leading, trailing or doubled slash), "." or "..", and no backslash or NUL.
func validateRelPath(what, s string) error {
	if !strings.ContainsAny(s, "\\\x00") {
		parts := strings.Split(s, "/")
		if !slices.ContainsFunc(parts, func(p string) bool { return p == "" || p == "." || p == ".." }) {
			return nil
		}
	}
	return fmt.Errorf("invalid %s %q", what, s)
}

// safeComponent reports whether s (a commit hash or etag sent by the server)
// can be used as a single path component.
func safeComponent(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00") && len(s) <= 255
}

// Resolve returns the directory holding the checkpoint nameOrPath:
//
//   - if nameOrPath is an existing directory, that directory, which must
//     contain config.json (else an error naming the missing file; but a
//     directory without config.json whose name is also a valid repo id, such
//     as a "gpt2" source folder in the working directory, is skipped and the
//     name is looked up as a repo id, the error then mentioning it);
//   - else nameOrPath is a Hub repository id ("gpt2", "distilgpt2",
//     "openai-community/gpt2-medium"); if the cache holds a snapshot of
//     Options.Revision with every required file, its snapshots/{commit}
//     directory, without any network access;
//   - else, unless offline, the snapshot directory filled by Download.
//
// A name that is neither a directory nor a valid repo id gives an error
// wrapping ErrInvalidRepoID. When the model is not cached and the Hub cannot
// be used (offline mode or a network error), the error wraps ErrNotCached and
// says which name, cache dir and files were looked for, and the three ways to
// supply the model. Hub errors wrap ErrUnauthorized, ErrNotFound or
// ErrIntegrity.
func Resolve(nameOrPath string, opt Options) (string, error) {
	return resolve(nameOrPath, opt, false)
}

// resolve is Resolve, or ResolveModel when model is true: the weights may
// then be a sharded checkpoint (cachedModel and downloadModel).
func resolve(nameOrPath string, opt Options, model bool) (string, error) {
	if nameOrPath == "" {
		return "", fmt.Errorf("hub: empty model name or path")
	}
	// shadow is set when a directory named like a repo id (e.g. the "gpt2"
	// Go package folder) has no config.json: it is then taken for the id.
	shadow := ""
	if fi, err := os.Stat(nameOrPath); err == nil {
		if !fi.IsDir() {
			return "", fmt.Errorf("hub: %q is a file, not a model directory (want a folder holding config.json and model.safetensors)", nameOrPath)
		}
		if _, err := os.Stat(filepath.Join(nameOrPath, "config.json")); err == nil {
			return nameOrPath, nil
		} else if ValidateRepoID(nameOrPath) != nil {
			return "", fmt.Errorf("hub: model directory %q has no config.json: %w", nameOrPath, err)
		}
		shadow = fmt.Sprintf(" (note: the local directory %q was not used: it has no config.json)", nameOrPath)
	}
	if err := ValidateRepoID(nameOrPath); err != nil {
		return "", fmt.Errorf("hub: %q is not an existing directory: %w", nameOrPath, err)
	}
	s, err := opt.settings()
	if err != nil {
		return "", fmt.Errorf("hub: resolve %s: %w", nameOrPath, err)
	}
	lookup, fetch := cachedSnapshot, download
	if model {
		lookup, fetch = cachedModel, downloadModel
	}
	dir, missing, err := lookup(s.cacheDir, nameOrPath, s.revision, s.files)
	if err != nil {
		return "", fmt.Errorf("hub: resolve %s: %w", nameOrPath, err)
	}
	if len(missing) == 0 {
		return dir, nil
	}
	if s.offline {
		return "", notCachedError(nameOrPath, s, missing, shadow, nil)
	}
	dir, err = fetch(nameOrPath, s)
	if err != nil {
		if errors.Is(err, ErrNetwork) {
			return "", notCachedError(nameOrPath, s, missing, shadow, err)
		}
		if shadow != "" {
			return "", fmt.Errorf("%w%s", err, shadow)
		}
		return "", err // already "hub: download <repo>: <file>: ..."
	}
	return dir, nil
}

// cachedSnapshot looks repoID@revision up in the cache. It returns the
// snapshot directory and the required files it lacks (nil when complete).
// When the revision is not cached at all, dir is "" and every required file
// is missing. A required file that is not a regular file once links are
// followed (a directory, a named pipe, a device such as /dev/zero) counts as
// missing, with the reason in parentheses; so does a refs file that is not a
// regular file of at most 1 KiB. The error is always nil (it is there to
// match cachedModel).
func cachedSnapshot(cacheDir, repoID, revision string, files []string) (dir string, missing []string, _ error) {
	var req []string
	for _, f := range files {
		if required(f) {
			req = append(req, f)
		}
	}
	repoDir := filepath.Join(cacheDir, RepoFolderName(repoID))
	commit := revision
	if !commitHashRE.MatchString(revision) {
		b, err := fsx.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(revision)), "refs file", maxRefBytes)
		commit = strings.TrimSpace(string(b))
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", append([]string{fmt.Sprintf("refs/%s (unreadable: %v)", revision, err)}, req...), nil
		case err == nil && !safeComponent(commit):
			return "", append([]string{fmt.Sprintf("refs/%s (holds %q, not a commit hash)", revision, abbreviate(commit))}, req...), nil
		case err != nil:
			return "", req, nil
		}
	}
	dir = filepath.Join(repoDir, "snapshots", commit)
	return dir, missingFiles(dir, req, ""), nil
}

// missingFiles returns the files that are not regular files in dir once
// links are followed (a dangling link counts as missing), each followed by
// note, and by the reason in parentheses when something else is there.
func missingFiles(dir string, files []string, note string) []string {
	var missing []string
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
		switch {
		case err != nil:
			missing = append(missing, f+note)
		case !fi.Mode().IsRegular():
			missing = append(missing, fmt.Sprintf("%s%s (%s, not a regular file)", f, note, fsx.Kind(fi.Mode())))
		}
	}
	return missing
}

// notCachedError builds the ErrNotCached error: what is missing, where it
// was looked for, and the three ways to supply it.
func notCachedError(repoID string, s settings, missing []string, note string, cause error) error {
	what := fmt.Sprintf("model %q (revision %q) is not a local directory and is not in the Hugging Face cache %s"+
		" (looked in %s; missing: %s)%s",
		repoID, s.revision, s.cacheDir,
		filepath.Join(s.cacheDir, RepoFolderName(repoID), "snapshots"), strings.Join(missing, ", "), note)
	remedies := fmt.Sprintf("\nSupply the model in one of three ways:"+
		"\n  1. a local folder in Hugging Face layout (config.json, model.safetensors, tokenizer files): pass its path instead of %q;"+
		"\n  2. the Hugging Face cache (HF_HUB_CACHE or HF_HOME select it), filled on a machine with network access, e.g."+
		"\n       python -c \"from transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained('%s')\""+
		"\n     or"+
		"\n       huggingface-cli download %s"+
		"\n  3. network access to the Hub (unset HF_HUB_OFFLINE; set HF_ENDPOINT to use a mirror, HF_TOKEN for gated or private models).",
		repoID, repoID, repoID)
	if cause != nil {
		return fmt.Errorf("hub: %w: %s, and the Hub at %s could not be reached (%w).%s",
			ErrNotCached, what, s.endpoint, cause, remedies)
	}
	return fmt.Errorf("hub: %w: %s, and offline mode is on (Options.Offline or HF_HUB_OFFLINE=1).%s",
		ErrNotCached, what, remedies)
}

// abbreviate shortens s to at most 60 bytes for error messages.
func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
