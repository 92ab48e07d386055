// Package postbacktest will hold helpers for users' own tests of postback handling: a builder
// of signed postback requests and a recording receiver for outbound postbacks.
//
// Production code must never import it. This package has no code yet.
package postbacktest
