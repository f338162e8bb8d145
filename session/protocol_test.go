package session

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testRequest struct {
	Model  string   `json:"model"`
	Layers []int    `json:"layers,omitempty"`
	Scale  float64  `json:"scale,omitempty"`
	Inner  *testSub `json:"inner,omitempty"`
	T      *Tensor  `json:"t,omitempty"`
}

type testSub struct {
	Name string `json:"name"`
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name, body string
		limit      int64
		want       testRequest
		field, err string // the error's Field and a part of its text; "" for success
	}{
		{name: "ok", body: `{"model":"gpt2","layers":[1,2],"scale":0.5}`, want: testRequest{Model: "gpt2", Layers: []int{1, 2}, Scale: 0.5}},
		{name: "empty is null", body: "  \n", want: testRequest{}},
		{name: "null", body: "null", want: testRequest{}},
		{name: "unknown field", body: `{"model":"gpt2","layer":3}`, field: "layer", err: `unknown field "layer"`},
		{name: "unknown nested field", body: `{"inner":{"nam":"x"}}`, field: "nam", err: `unknown field "nam"`},
		{name: "wrong type", body: `{"layers":["a"]}`, field: "layers", err: `field "layers": JSON string cannot be a Go int`},
		{name: "trailing data", body: `{"model":"a"} {"model":"b"}`, err: "unexpected data after the JSON value"},
		{name: "trailing garbage", body: `{"model":"a"}}`, err: "unexpected data after the JSON value"},
		{name: "malformed", body: `{"model":`, err: "request: unexpected EOF"},
		{name: "syntax", body: `{"model" 1}`, err: "malformed JSON at byte"},
		{name: "over the limit", body: `{"model":"0123456789"}`, limit: 10, err: "22 bytes is over the limit of 10 bytes (MaxRequestBytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got testRequest
			err := DecodeRequest([]byte(tc.body), &got, tc.limit)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("DecodeRequest(%s): %v", tc.body, err)
				}
				if got.Model != tc.want.Model || len(got.Layers) != len(tc.want.Layers) || got.Scale != tc.want.Scale {
					t.Fatalf("DecodeRequest(%s) = %+v, want %+v", tc.body, got, tc.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeRequest(%s) = %v (%T), want an *Error", tc.body, err, err)
			}
			if !strings.Contains(e.Message, tc.err) || e.Field != tc.field {
				t.Fatalf("DecodeRequest(%s) = {%q, field %q}, want text %q, field %q", tc.body, e.Message, e.Field, tc.err, tc.field)
			}
		})
	}
}

func TestCheckNames(t *testing.T) {
	tests := []struct {
		name       string
		method, ok bool
	}{
		{"ping", true, true}, {"pv.Forward", true, true}, {"run-1_x", true, true},
		{"", false, false}, {"../x", false, false}, {"a/b", false, false}, {"a b", false, false},
		{"1abc", false, true}, {strings.Repeat("a", 65), false, false}, {strings.Repeat("a", 64), true, true},
	}
	for _, tc := range tests {
		if got := CheckMethod(tc.name) == nil; got != tc.method {
			t.Errorf("CheckMethod(%q) ok = %v, want %v", tc.name, got, tc.method)
		}
		if got := CheckName(tc.name) == nil; got != tc.ok {
			t.Errorf("CheckName(%q) ok = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestParseFingerprint(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	colons := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	tests := []struct {
		in string
		ok bool
	}{
		{hex64, true}, {"sha256:" + hex64, true}, {"SHA256:" + colons, true},
		{"", false}, {hex64[:62], false}, {"sha256:" + strings.Repeat("zz", 32), false},
	}
	for _, tc := range tests {
		b, err := ParseFingerprint(tc.in)
		if (err == nil) != tc.ok || (tc.ok && len(b) != 32) {
			t.Errorf("ParseFingerprint(%q) = %x, %v; want ok %v", tc.in, b, err, tc.ok)
		}
	}
}

func TestEnsureDir(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(mk("target", 0o700), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, err string
	}{
		{name: "created", dir: filepath.Join(base, "new")},
		{name: "private", dir: mk("private", 0o700)},
		{name: "group readable", dir: mk("group", 0o750), err: "has mode 0750: others could reach the sessions; it must be 0700"},
		{name: "world writable", dir: mk("world", 0o777), err: "has mode 0777"},
		{name: "a file", dir: file, err: "is not a folder"},
		{name: "a symbolic link", dir: link, err: "is not a folder"},
		{name: "empty", dir: "", err: "the socket folder is empty"},
	}
	if os.Getuid() == 0 { // root can give a folder to someone else
		other := mk("other", 0o700)
		if err := os.Chown(other, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, dir, err string }{"someone else's", other, "belongs to uid 4242, not to this user"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := EnsureDir(tc.dir)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("EnsureDir(%s): %v", tc.dir, err)
				}
				st, err := os.Stat(tc.dir)
				if err != nil || st.Mode().Perm() != 0o700 {
					t.Fatalf("after EnsureDir(%s): mode %v, %v; want 0700", tc.dir, st.Mode(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("EnsureDir(%s) = %v, want an error containing %q", tc.dir, err, tc.err)
			}
		})
	}
}

func TestKernelName(t *testing.T) {
	t.Setenv(EnvName, "")
	t.Setenv("GONB_TMP_DIR", "")
	if n, pid := KernelName(); n != "default" || pid != 0 {
		t.Errorf("outside GoNB: KernelName() = %q, %d; want default, 0", n, pid)
	}
	t.Setenv("GONB_TMP_DIR", "/tmp/gonb_1234abcd")
	a, pid := KernelName()
	if !strings.HasPrefix(a, "gonb-") || CheckName(a) != nil || pid != os.Getppid() {
		t.Errorf("in GoNB: KernelName() = %q, %d; want gonb-<hash>, the parent pid %d", a, pid, os.Getppid())
	}
	t.Setenv("GONB_TMP_DIR", "/tmp/gonb_99999999") // the kernel restarted
	if b, _ := KernelName(); b == a {
		t.Errorf("a restarted kernel (new GONB_TMP_DIR) kept the session name %q", a)
	}
	t.Setenv(EnvName, "mine")
	if n, _ := KernelName(); n != "mine" {
		t.Errorf("with $%s=mine: KernelName() = %q", EnvName, n)
	}
}
