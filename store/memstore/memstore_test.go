package memstore_test

import (
	"testing"

	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
	"github.com/s2skit/s2s/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Harness{
		NewStore: func(*testing.T) store.Store { return memstore.New(nil) },
	})
}
