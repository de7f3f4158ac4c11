package dialplan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// Options are what compiling a dialplan needs from outside: the agents of
// ringdesk.yaml, how numbers are written in E.164, and how audio is made.
type Options struct {
	// BaseDir is where relative audio file paths resolve; empty: the
	// current directory for Parse, the file's directory for Load.
	BaseDir string
	// Agents maps each agent ID to the agent's extension (ringdesk.yaml's
	// agents). Ring groups and queues may only name these agents, and
	// "extension N" only their extensions. nil: there are no agents.
	Agents map[string]string
	// Normalize turns a phone number as written (a DID key of numbers, the
	// number of "outside N") into E.164. nil: spaces are removed and the
	// rest is kept as written, which must be digits after an optional +.
	Normalize func(number string) (string, error)
	// LoadAudio returns the 8 kHz mono PCM of the audio file at path
	// (absolute). nil: no audio file can be used.
	LoadAudio func(path string) ([]int16, error)
	// FetchAudio returns the 8 kHz mono PCM of the audio file at an http
	// or https URL (A41, A44: a file in the cloud). nil: URLs cannot be
	// used.
	FetchAudio func(url string) ([]int16, error)
	// Speak returns text spoken in voice as 8 kHz mono PCM. nil: there is
	// no text-to-speech, and a dialplan that needs it is refused.
	Speak func(text, voice string) ([]int16, error)
}

// maxFileSize bounds a dialplan file; a real one is a few kilobytes.
const maxFileSize = 1 << 20

// Load reads and compiles the dialplan file at path. Relative audio paths
// resolve against opts.BaseDir, by default the file's directory. When the
// content has problems the error is Errors (use errors.As); when the file
// cannot be read it is a wrapped *fs.PathError.
func Load(path string, opts Options) (*Plan, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the admin names the file on purpose
	if err != nil {
		return nil, fmt.Errorf("load dialplan: %w", err)
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	return Parse(path, data, opts)
}

// Parse checks and compiles a dialplan file's content: every audio file is
// loaded and every text spoken, so that the Plan is ready to play. name is
// the file name used in Plan.Source and in errors. The error is Errors,
// holding every problem found, sorted by position.
func Parse(name string, data []byte, opts Options) (*Plan, error) {
	d := &yamlpos.Decoder{File: name}
	if len(data) > maxFileSize {
		d.Errorf(pos{Line: 1, Col: 1}, "", "the file is %d bytes, more than the %d a dialplan may have", len(data), maxFileSize)
		return nil, d.Errors()
	}
	// Editors on Windows may start the file with a byte order mark.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	f := d.Parse(data)
	if f == nil {
		return nil, d.Errors()
	}
	raw := decoder{d}.decodeFile(f)
	if raw == nil {
		return nil, d.Errors()
	}
	p := newCompiler(d, opts).compile(raw)
	if errs := d.Errors(); errs != nil {
		return nil, errs
	}
	p.Source = name
	return p, nil
}
