package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// ModulePath is govene's module, whose cmd/govene serves sessions.
const ModulePath = "github.com/govene/govene"

// FindBinary returns the govene binary that Connect runs as the session
// server, by this rule:
//
//  1. $GOVENE_BIN, when set (an error when it is not an executable file);
//  2. "govene" on $PATH;
//  3. otherwise it builds cmd/govene once into the user cache folder
//     (os.UserCacheDir()/govene/bin) from the govene module this program
//     was built with, as runtime/debug.ReadBuildInfo tells: a replace
//     directive to a local folder builds from that folder (go build, which
//     relinks only when the sources changed); a module version (v1.2.3 or
//     a pseudo-version) is built with `go install module/cmd/govene@version`
//     and kept per version; a program of the govene module itself (its
//     tests, its commands) builds from the module around the current
//     folder.
//
// Building needs the go command on $PATH; the error says how to set
// GOVENE_BIN instead.
func FindBinary(ctx context.Context) (string, error) {
	if b := os.Getenv(EnvBin); b != "" {
		st, err := os.Stat(b)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("session: $%s=%s is not an executable file (%v)", EnvBin, b, err)
		}
		return b, nil
	}
	if b, err := exec.LookPath("govene"); err == nil {
		return b, nil
	}
	return buildBinary(ctx)
}

// buildSource is where buildBinary builds govene from.
type buildSource struct {
	dir     string // a local folder holding the module (replace or main)
	version string // a module version for go install (when dir is "")
}

// govenSource reads the build info for the govene module's source.
func goveneSource() (buildSource, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return buildSource{}, errors.New("no build information in this program")
	}
	if bi.Main.Path == ModulePath {
		wd, err := os.Getwd()
		if err != nil {
			return buildSource{}, err
		}
		return buildSource{dir: wd}, nil
	}
	for _, m := range bi.Deps {
		if m.Path != ModulePath {
			continue
		}
		if r := m.Replace; r != nil {
			if r.Version == "" { // a local folder
				return buildSource{dir: r.Path}, nil
			}
			return buildSource{version: r.Path + "@" + r.Version}, nil
		}
		return buildSource{version: m.Path + "@" + m.Version}, nil
	}
	return buildSource{}, fmt.Errorf("this program (module %s) does not depend on %s", bi.Main.Path, ModulePath)
}

// buildBinary builds cmd/govene into the user cache and returns its path.
func buildBinary(ctx context.Context) (string, error) {
	src, err := goveneSource()
	if err != nil {
		return "", fmt.Errorf("session: no govene binary ($%s unset, none on $PATH) and cannot build one: %w; install it (go install %s/cmd/govene@latest) or set $%s", EnvBin, err, ModulePath, EnvBin)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("session: building govene: %w (set $%s)", err, EnvBin)
	}
	key := src.dir + src.version
	sum := sha256.Sum256([]byte(key))
	binDir := filepath.Join(cache, "govene", "bin", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(binDir, 0o700); err != nil {
		return "", fmt.Errorf("session: building govene: %w", err)
	}
	bin := filepath.Join(binDir, "govene")
	var cmd *exec.Cmd
	if src.dir != "" {
		cmd = exec.CommandContext(ctx, "go", "build", "-o", bin, ModulePath+"/cmd/govene")
		cmd.Dir = src.dir
	} else {
		if st, err := os.Stat(bin); err == nil && !st.IsDir() {
			return bin, nil // a version's binary does not change
		}
		cmd = exec.CommandContext(ctx, "go", "install", strings.Replace(src.version, "@", "/cmd/govene@", 1))
		cmd.Env = append(os.Environ(), "GOBIN="+binDir)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("session: building the govene binary (%s in %s) failed: %w\n%s\n(set $%s to a govene binary instead)", strings.Join(cmd.Args, " "), cmd.Dir, err, out, EnvBin)
	}
	return bin, nil
}
