package jsonfield_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/internal/jsonfield"
)

type inner struct {
	Zone string `json:"zone"`
}

type outer struct {
	ID string `json:"id"`
	inner
	Tagged inner  `json:"tagged"`
	Skip   string `json:"-"`
	Plain  int
	hidden int
}

// An unexported field is never decoded into, even when a key names it.
var _ = outer{hidden: 1}

func TestByName(t *testing.T) {
	typ := reflect.TypeFor[outer]()
	for key, want := range map[string]string{
		"id": "ID", "ID": "ID", "zone": "Zone", "tagged": "Tagged", "Plain": "Plain", "plain": "Plain",
	} {
		f, ok := jsonfield.ByName(typ, key)
		require.True(t, ok, key)
		require.Equal(t, want, f.Name, key)
	}
	for _, key := range []string{"-", "Skip", "hidden", "inner", "nope"} {
		_, ok := jsonfield.ByName(typ, key)
		require.False(t, ok, "rule: %q decodes into no field", key)
	}
}
