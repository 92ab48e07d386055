// Package mockstoretest holds gomock mocks of the store role interfaces ([store.Store],
// [store.ClickStore], [store.BindingStore], [store.ConversionStore], [store.LedgerStore],
// [store.DeliveryStore], [store.EndpointStore], [store.CounterStore], [store.ParkedStore],
// [store.InboundStore], [store.RevenueStore], [store.ReportStore]) and of the optional [store.AttemptRecorder] and [store.ParkedReporter],
// generated with mockgen -typed, for tests that need a store to fail on cue: a write that
// fails part-way, a lease lost at the wrong moment, a sentinel a real store would never
// return. Prefer a real store (memstore) everywhere else.
//
//	ctrl := gomock.NewController(t)
//	st := mockstoretest.NewMockStore(ctrl)
//	st.EXPECT().RecordAttempt(gomock.Any(), gomock.Any()).Return(store.Delivery{}, store.ErrLeaseLost)
//
// The mocks are generated code, committed; bash .ci/run fails when they are stale. After
// changing an interface of package store, run:
//
//	go generate ./store/mockstoretest/
//
// It is a helper for tests: production code never imports it.
package mockstoretest

//go:generate go tool mockgen -typed -package mockstoretest -destination mocks.go -write_generate_directive=false github.com/s2skit/s2s/store Store,ClickStore,BindingStore,ConversionStore,LedgerStore,DeliveryStore,EndpointStore,CounterStore,ParkedStore,InboundStore,RevenueStore,ReportStore,PeriodStore,AttemptRecorder,ParkedReporter
