package configs

import "github.com/ringdesk/ringdesk/internal/yamlpos"

// Error is one problem at a position in a config file: File, 1-based Line
// and Col (Col counts characters), and Msg, which starts with the key path,
// for example `rtp.ports: low port 20000 is above high port 10000`. Its
// Error method formats it as "FILE:LINE:COL: MSG", the form editors and CI
// jump to.
type Error = yamlpos.Error

// Errors is every problem found, sorted by line and column; its Error
// method returns one problem per line.
type Errors = yamlpos.Errors //nolint:errname // the API's name since the first release
