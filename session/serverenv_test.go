package session

import (
	"slices"
	"testing"
)

func TestServerEnvDropsGoNBPipes(t *testing.T) {
	got := serverEnv([]string{"HOME=/h", "GONB_PIPE=/tmp/p", "GONB_PIPE_BACK=/tmp/b", "GONB_TMP_DIR=/tmp/g", "PATH=/bin"})
	want := []string{"HOME=/h", "GONB_TMP_DIR=/tmp/g", "PATH=/bin"}
	if !slices.Equal(got, want) {
		t.Errorf("serverEnv = %q, want %q", got, want)
	}
}
