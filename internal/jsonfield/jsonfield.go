// Package jsonfield finds the struct field that encoding/json decodes a JSON key into, for the
// strict decoders of plans (commission) and campaign rules (attribution), which name the
// field of every error.
package jsonfield

import (
	"reflect"
	"strings"
)

// ByName returns the field of struct type t that encoding/json decodes key into, looking
// into embedded structs as encoding/json does: the exact name first, else one equal under
// case folding.
func ByName(t reflect.Type, key string) (reflect.StructField, bool) {
	var folded reflect.StructField
	found := false
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "":
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if !found && strings.EqualFold(name, key) {
			folded, found = f, true
		}
	}
	return folded, found
}
