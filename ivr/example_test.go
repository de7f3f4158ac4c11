package ivr_test

import (
	"context"
	"fmt"

	"github.com/ringdesk/ringdesk/ivr"
)

// ExampleAsk offers a menu to a caller who has typed 2 ahead.
func ExampleAsk() {
	// The call side plays prompts; here they end at once.
	player := ivr.PlayerFunc(func(ctx context.Context, pcm []int16) (ivr.Playing, error) {
		fp := &fakePlaying{pcm: pcm, done: make(chan struct{}), stopped: make(chan struct{})}
		fp.finish()
		return fp, nil
	})
	digits := make(chan byte, 8) // filled by the call side as DTMF arrives
	digits <- '2'

	res, err := ivr.Ask(context.Background(), player, digits, ivr.Menu{
		Name:  "Main",
		Valid: "123",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	path := ivr.Path{"Main"}
	path.Push("Support")
	fmt.Println(res.Outcome, string(res.Digit), res.Attempts, path)
	// Output: Chosen 2 1 Main > Support
}
