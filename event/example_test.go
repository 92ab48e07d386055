package event_test

import (
	"fmt"

	"github.com/s2skit/s2s/event"
)

func ExampleType_Known() {
	for _, t := range []event.Type{event.FTD, "goal_3"} {
		fmt.Printf("%s known: %t\n", t, t.Known())
	}
	// Output:
	// ftd known: true
	// goal_3 known: false
}

func ExampleStatus_Valid() {
	fmt.Println(event.StatusApproved.Valid(), event.Status("confirmed").Valid())
	// Output: true false
}
