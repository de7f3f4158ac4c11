package ivr

import "errors"

// Errors of package ivr. They come wrapped with context; compare with
// errors.Is. A cancelled context is returned as ctx.Err(), unwrapped.
var (
	// ErrBadMenu: a Menu's Valid holds a byte that is not a DTMF digit.
	ErrBadMenu = errors.New("ivr: invalid menu")
	// ErrPlay: the Player could not play or stop a prompt; the Player's
	// error is wrapped too.
	ErrPlay = errors.New("ivr: playing a prompt failed")
)
