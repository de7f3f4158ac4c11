package dialplan

import (
	"errors"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// Error is one problem at a position in a dialplan file: File, 1-based Line
// and Col (Col counts characters), and Msg, which starts with the key path,
// for example `queues.support: max_callers is 101; at most 100`. Its Error
// method formats it as "FILE:LINE:COL: MSG".
type Error = yamlpos.Error

// Errors is every problem found in a dialplan file, sorted by line and
// column; its Error method returns one problem per line.
type Errors = yamlpos.Errors //nolint:errname // the same name as configs.Errors

// ErrNoSpeech is returned by Plan.PositionAudio when the plan was compiled
// without text-to-speech (Options.Speak was nil).
var ErrNoSpeech = errors.New("dialplan: text-to-speech is not available")
