package configs

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ringdesk/ringdesk/configs/sounds"
	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/e164"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/wav"
	"github.com/ringdesk/ringdesk/tts"
)

// sampleDialplan is the commented sample dialplan, configs/dialplan.yaml,
// which the sample config names.
//
//go:embed dialplan.yaml
var sampleDialplan []byte

// sampleDir is where the embedded sample's files seem to be: its sounds
// are served from package sounds, not from the disk.
const sampleDir = "/ringdesk-embedded-sample"

// TTSCacheDir is where spoken messages are cached, in the data directory.
const TTSCacheDir = "tts-cache"

// buildDialplan loads the dialplan file that the dialplan key names, with
// the agents of this config (id -> extension, every one written: see
// buildAgents) and its country for numbers. Its problems are reported with
// the dialplan file's own name and positions.
func (d *decoder) buildDialplan(c *rawConfig, baseDir, country string, agents map[string]string, cfg *Config) {
	v := c.dialplan
	if !v.set {
		return
	}
	if v.v == "" {
		d.errorf(v.at, "dialplan", "must not be empty (remove the key for no dialplan)")
		return
	}
	opts := dialplan.Options{
		Agents:    agents,
		Normalize: func(n string) (string, error) { return e164.Normalize(n, country) },
		LoadAudio: media.LoadAudio,
	}
	switch {
	case country == "" && (len(c.trunks) > 0 || c.dialing.country.present):
		// The country has a problem, reported at the trunk or at dialing:
		// numbers are only checked for digits, not blamed for it.
		opts.Normalize = nil
	case country == "":
		opts.Normalize = func(n string) (string, error) {
			if !strings.HasPrefix(strings.TrimSpace(n), "+") {
				return "", errors.New("write it with its country code (+...), or add a trunk or dialing.country")
			}
			return e164.Normalize(n, "") // international numbers need no country
		}
	}
	audioCache := "" // a data_dir with problems of its own: fetch without a cache
	if cfg.DataDir != "" {
		audioCache = filepath.Join(cfg.DataDir, AudioCacheDir)
	}
	opts.FetchAudio = audioFetcher(audioCache)
	if _, err := exec.LookPath(tts.Command); err == nil {
		cache := "" // a data_dir with problems of its own: speak without a cache
		if cfg.DataDir != "" {
			cache = filepath.Join(cfg.DataDir, TTSCacheDir)
		}
		opts.Speak = lazySpeaker(cache)
	}
	var (
		name string
		data []byte
	)
	if d.sample {
		name, data = "embedded:dialplan.yaml", sampleDialplan
		opts.BaseDir = sampleDir
		opts.LoadAudio = sampleAudio
	} else {
		path, err := d.abs(baseDir, v, "dialplan")
		if err != nil {
			return
		}
		// Problems name the file as the config does: next to the config
		// file's name when relative.
		name = v.v
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(d.file), name)
		}
		if data, err = readFile(path, maxConfigSize); err != nil {
			d.errorf(v.at, "dialplan", "cannot read %q: %v", clip(v.v), pathless(err))
			return
		}
		opts.BaseDir = filepath.Dir(path)
	}
	plan, err := dialplan.Parse(name, data, opts)
	var errs dialplan.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			d.errs = append(d.errs, problem{Error: e, sections: []string{sectionCalls}})
		}
	case err != nil:
		d.errorf(v.at, "dialplan", "%v", err)
	default:
		cfg.Calls.Plan = plan
	}
}

// lazySpeaker speaks with espeak-ng, which is started (and the cache
// directory made) only when a text is first spoken: most dialplans have
// none, and checking a config should not run programs for nothing.
func lazySpeaker(cacheDir string) func(text, voice string) ([]int16, error) {
	var (
		once sync.Once
		sp   *tts.Speaker
		err  error
	)
	return func(text, voice string) ([]int16, error) {
		once.Do(func() { sp, err = tts.New(cacheDir, nil) })
		if err != nil {
			return nil, err
		}
		return sp.Speak(context.Background(), text, voice)
	}
}

// sampleAudio loads the embedded sample dialplan's sounds.
func sampleAudio(path string) ([]int16, error) {
	rel, ok := strings.CutPrefix(filepath.ToSlash(path), sampleDir+"/sounds/")
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	f, err := sounds.FS.Open(rel)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	a, err := wav.Decode(f)
	if err != nil {
		return nil, err
	}
	return a.To8k()
}

// BuiltinBeep decodes the voicemail beep Ringdesk ships (configs/sounds).
func BuiltinBeep() ([]int16, error) {
	pcm, err := sampleAudio(sampleDir + "/sounds/beep.wav")
	if err != nil {
		return nil, fmt.Errorf("built-in beep: %w", err)
	}
	return pcm, nil
}
