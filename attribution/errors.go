package attribution

import (
	"errors"
	"fmt"
)

// ErrInvalidConfig reports a Config that fails validation or decoding. The message names the
// field, such as `attribution: config: campaigns[2].windows.ftd: ...`.
var ErrInvalidConfig = errors.New("attribution: invalid config")

// configError is a validation error naming the field path.
type configError struct {
	field, problem string
}

func (e *configError) Error() string {
	return fmt.Sprintf("attribution: config: %s: %s", e.field, e.problem)
}

func (e *configError) Unwrap() error { return ErrInvalidConfig }
