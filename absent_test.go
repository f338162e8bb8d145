package govene

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// rotaryNeoX is a model without position embeddings and, with a parallel
// residual, without resid_mid.
var rotaryNeoX = Dims{Layers: 2, Heads: 2, Hidden: 8, HeadDim: 4, Inner: 32, Vocab: 10, Positions: 16,
	Absent: []Component{PosEmbed, ResidMid}}

func TestCheckSiteAbsent(t *testing.T) {
	for _, tc := range []struct {
		site    Site
		wantErr string // "" for a valid site
	}{
		{Site{-1, PosEmbed}, "this model has no pos_embed site"},
		{Site{1, ResidMid}, "blocks.1.resid_mid: this model has no resid_mid site"},
		{Site{0, MLPPost}, ""},
		{Site{-1, Embed}, ""},
		{Site{2, ResidMid}, "has no resid_mid"},
	} {
		err := rotaryNeoX.CheckSite(tc.site)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckSite(%s) = %v, want nil", tc.site, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckSite(%s) = %v, want an error saying %q", tc.site, err, tc.wantErr)
		}
	}
	if rotaryNeoX.Has(PosEmbed) || !rotaryNeoX.Has(Embed) || !(Dims{}).Has(PosEmbed) {
		t.Error("Has: want false only for the absent components")
	}
}

func TestDimsEqualAndJSON(t *testing.T) {
	other := rotaryNeoX
	other.Absent = []Component{ResidMid, PosEmbed}
	if !rotaryNeoX.Equal(other) {
		t.Error("Equal: the same absent components in another order differ")
	}
	fewer := rotaryNeoX
	fewer.Absent = []Component{PosEmbed}
	wider := rotaryNeoX
	wider.Inner++
	for name, d := range map[string]Dims{"fewer absent": fewer, "wider": wider, "none absent": {Layers: 2, Heads: 2, Hidden: 8, HeadDim: 4, Inner: 32, Vocab: 10, Positions: 16}} {
		if rotaryNeoX.Equal(d) || d.Equal(rotaryNeoX) {
			t.Errorf("Equal(%s) = true", name)
		}
	}
	// Equal compares every scalar field: a Dims with each field changed
	// on its own differs.
	v := reflect.ValueOf(&wider).Elem()
	for i := range v.NumField() {
		d := rotaryNeoX
		f := reflect.ValueOf(&d).Elem().Field(i)
		if f.Kind() != reflect.Int {
			continue
		}
		f.SetInt(f.Int() + 1)
		if d.Equal(rotaryNeoX) {
			t.Errorf("Equal ignores field %s", v.Type().Field(i).Name)
		}
	}

	data, err := json.Marshal(rotaryNeoX)
	if err != nil || !strings.Contains(string(data), `"absent":["pos_embed","resid_mid"]`) {
		t.Errorf("json of a model with absent components = %s, %v", data, err)
	}
	var back Dims
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, rotaryNeoX) {
		t.Errorf("json round trip = %+v, %v; want %+v", back, err, rotaryNeoX)
	}
	if data, _ := json.Marshal(Dims{Layers: 1}); strings.Contains(string(data), "absent") {
		t.Errorf("json of a model with every component = %s; want no absent field", data)
	}
}
