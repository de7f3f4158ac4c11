package e164_test

import (
	"fmt"

	"github.com/ringdesk/ringdesk/e164"
)

func ExampleNormalize() {
	for _, raw := range []string{"+351 21 000 0000", "00351210000000", "351210000000", "0 20 7946 0000", "112"} {
		e, err := e164.Normalize(raw, "GB")
		fmt.Println(e, err)
	}
	// Output:
	// +351210000000 <nil>
	// +351210000000 <nil>
	// +351210000000 <nil>
	// +442079460000 <nil>
	//  e164: invalid number "112": short code, which has no E.164 form
}

func ExampleFormat() {
	style, err := e164.ParseStyle("national")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range []string{"+442079460000", "+351210000000"} {
		user, err := e164.Format(e, style, "GB", "")
		fmt.Println(user, err)
	}
	// Output:
	// 02079460000 <nil>
	// 00351210000000 <nil>
}

func ExampleDialRules_Outside() {
	rules := e164.DialRules{Country: "PT", OutsidePrefix: "9"}
	for _, dialled := range []string{"101", "9 210 000 000", "9 00 44 20 7946 0000", "+12125550123", "9112"} {
		e, ok, err := rules.Outside(dialled)
		fmt.Printf("%q: %q %v %v\n", dialled, e, ok, err)
	}
	// Output:
	// "101": "" false <nil>
	// "9 210 000 000": "+351210000000" true <nil>
	// "9 00 44 20 7946 0000": "+442079460000" true <nil>
	// "+12125550123": "+12125550123" true <nil>
	// "9112": "" false outside number "9112": e164: invalid number "112": short code, which has no E.164 form
}

func ExampleBest() {
	patterns := []string{"*", "+351", "+3512"}
	i, ok := e164.Best(patterns, "+351210000000")
	fmt.Println(patterns[i], ok)
	// Output: +3512 true
}
