package dialplan

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// audioKey names one piece of audio a plan plays: a file (by absolute path
// or URL) or a text in a voice.
type audioKey struct {
	file        string
	text, voice string
}

// isURL reports whether an audio file is named by an http or https URL.
func isURL(name string) bool {
	l := strings.ToLower(name)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// audioResult is a loaded or spoken message, or why it could not be made.
type audioResult struct {
	msg *Message
	err error
}

// message compiles a message as written; nil for none, or after a problem.
// voice is the default voice of a text.
func (c *compiler) message(r *rawMessage, voice string) *Message {
	switch {
	case !r.present, !r.ok, r.none:
		return nil
	case r.file.Set:
		return c.loadFile(r.file, r.path)
	case r.text.Set:
		if r.voice.Set {
			voice = c.checkVoice(r.voice, r.path+".voice")
		}
		return c.say(r.text.V, voice, r.text.At, r.path)
	}
	return nil
}

// loadFile loads the audio file named by v, relative to the base
// directory; nil after a problem, reported at v.
func (c *compiler) loadFile(v val[string], path string) *Message {
	name := strings.TrimSpace(v.V)
	if name == "" {
		c.d.Errorf(v.At, path, "the audio file name must not be empty")
		return nil
	}
	if isURL(name) {
		return c.fetch(v, name, path)
	}
	file := name
	if !filepath.IsAbs(file) {
		base := c.opts.BaseDir
		if base == "" {
			base = "."
		}
		file = filepath.Join(base, file)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		c.d.Errorf(v.At, path, "cannot resolve %q: %v", yamlpos.Clip(name), err)
		return nil
	}
	key := audioKey{file: abs}
	res, done := c.audio[key]
	if !done {
		res = c.load(abs, name)
		c.audio[key] = res
	}
	if res.err != nil {
		c.d.Errorf(v.At, path, "cannot load audio file %q: %v", yamlpos.Clip(name), res.err)
		return nil
	}
	return res.msg
}

// fetch loads the audio file at an http(s) URL; nil after a problem,
// reported at v.
func (c *compiler) fetch(v val[string], name, path string) *Message {
	u, err := url.Parse(name)
	if err != nil || u.Host == "" || u.User != nil {
		c.d.Errorf(v.At, path, "%q is not an http(s) URL of an audio file (a host, no user name or password)", yamlpos.Clip(urlForError(name)))
		return nil
	}
	key := audioKey{file: name}
	res, done := c.audio[key]
	if !done {
		switch pcm, err := c.fetchAudio(name); {
		case err != nil:
			res.err = err
		case len(pcm) == 0:
			res.err = errors.New("it holds no audio")
		default:
			res.msg = &Message{File: name, Audio: pcm, name: name}
		}
		c.audio[key] = res
	}
	if res.err != nil {
		c.d.Errorf(v.At, path, "cannot fetch audio from %q: %v", yamlpos.Clip(name), res.err)
		return nil
	}
	return res.msg
}

func (c *compiler) fetchAudio(name string) ([]int16, error) {
	if c.opts.FetchAudio == nil {
		return nil, errors.New("audio from URLs cannot be fetched here")
	}
	return c.opts.FetchAudio(name)
}

// urlForError is a URL that failed to parse, cut at any '@' so that a
// password in it is not printed.
func urlForError(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "..." + s[i:]
	}
	return s
}

// load runs LoadAudio on the file abs, written as name.
func (c *compiler) load(abs, name string) audioResult {
	if c.opts.LoadAudio == nil {
		return audioResult{err: errors.New("audio files cannot be loaded here (no audio loader)")}
	}
	pcm, err := c.opts.LoadAudio(abs)
	if err != nil {
		return audioResult{err: pathless(err)}
	}
	if len(pcm) == 0 {
		return audioResult{err: errors.New("it holds no audio")}
	}
	return audioResult{msg: &Message{File: abs, Audio: pcm, name: name}}
}

// pathless strips the operation and path from a *fs.PathError: the
// message quotes the file as written.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// say speaks text in voice; nil after a problem, reported at at.
func (c *compiler) say(text, voice string, at pos, path string) *Message {
	if c.opts.Speak == nil {
		c.d.Errorf(at, path, "%s", noSpeech)
		return nil
	}
	key := audioKey{text: text, voice: voice}
	res, done := c.audio[key]
	if !done {
		pcm, err := c.opts.Speak(text, voice)
		switch {
		case err != nil:
			res.err = err
		case len(pcm) == 0:
			res.err = errors.New("no audio came out")
		default:
			res.msg = &Message{Text: text, Voice: voice, Audio: pcm}
		}
		c.audio[key] = res
	}
	if res.err != nil {
		c.d.Errorf(at, path, "text-to-speech failed on %q: %v", yamlpos.Clip(text), res.err)
		return nil
	}
	return res.msg
}

// positionKey names one spoken queue position.
type positionKey struct {
	queue    *Queue
	position int
}

// PositionAudio returns q's position message for position (1 is next in
// line), spoken in q's voice: 8 kHz PCM, made once per queue and position
// and kept in the plan. Without text-to-speech it returns ErrNoSpeech.
func (p *Plan) PositionAudio(q *Queue, position int) ([]int16, error) {
	switch {
	case q == nil:
		return nil, errors.New("dialplan: position message of a nil queue")
	case position < 1:
		return nil, fmt.Errorf("dialplan: queue %s: position %d is not a place in line", q.ID, position)
	case p.speak == nil:
		return nil, ErrNoSpeech
	}
	key := positionKey{q, position}
	p.mu.Lock()
	pcm, ok := p.positions[key]
	p.mu.Unlock()
	if ok {
		return pcm, nil
	}
	// Speak without the lock: it may take a while, and other callers'
	// positions need not wait.
	text := strings.ReplaceAll(q.PositionText, "{position}", strconv.Itoa(position))
	pcm, err := p.speak(text, q.Voice)
	if err != nil {
		return nil, fmt.Errorf("dialplan: queue %s: position message: %w", q.ID, err)
	}
	if position <= max(q.MaxCallers, 1) { // the cache stays bounded
		p.mu.Lock()
		if p.positions == nil {
			p.positions = make(map[positionKey][]int16)
		}
		p.positions[key] = pcm
		p.mu.Unlock()
	}
	return pcm, nil
}
