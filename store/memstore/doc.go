// Package memstore will hold the in-memory implementation of the store contract: safe for
// concurrent use, fast, and the default store of s2s.
//
// This package has no code yet.
package memstore
