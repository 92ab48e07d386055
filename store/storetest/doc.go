// Package storetest will hold the conformance suite of the store contract: Run(t, harness)
// runs one named subtest per rule, and every store, ours or a third party's, must pass it.
//
// Production code must never import it. This package has no code yet.
package storetest
