package configs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/media"
)

// AudioCacheDir is where audio fetched from URLs is kept, in the data
// directory: a copy per URL, used when the URL cannot be reached.
const AudioCacheDir = "audio-cache"

// Limits of fetching audio from a URL.
const (
	fetchTimeout  = 20 * time.Second
	maxFetchBytes = 64 << 20 // a prompt or a few minutes of music
)

// audioFetcher returns the dialplan's FetchAudio: it downloads the WAV at
// an http(s) URL (at most maxFetchBytes, within fetchTimeout, status 200),
// checks that it decodes, and keeps a copy in cacheDir (when not empty).
// When the URL cannot be reached or answers an error, the last good copy
// is used, so that a CDN outage does not stop a restart or a reload; a file
// that is there but does not decode is an error.
func audioFetcher(cacheDir string) func(url string) ([]int16, error) {
	client := &http.Client{Timeout: fetchTimeout}
	return func(url string) ([]int16, error) {
		cached := ""
		if cacheDir != "" {
			sum := sha256.Sum256([]byte(url))
			cached = filepath.Join(cacheDir, hex.EncodeToString(sum[:16])+".wav")
		}
		pcm, err := fetchAudio(client, url, cached)
		if err == nil || errors.Is(err, errBadAudio) || cached == "" {
			return pcm, err
		}
		if old, cerr := media.LoadAudio(cached); cerr == nil {
			return old, nil
		}
		return nil, err
	}
}

// errBadAudio: the URL answered, with something that is not usable audio.
var errBadAudio = errors.New("not usable audio")

// fetchAudio downloads url into a file (cached, or a temporary one),
// decodes it and, when cached, keeps it there.
func fetchAudio(client *http.Client, url, cached string) ([]int16, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "Ringdesk")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	dir := filepath.Dir(cached)
	if cached == "" {
		dir = os.TempDir()
	} else if err = os.MkdirAll(dir, 0o750); err != nil { //nolint:gosec // the cache path is a hash of the URL, never the URL
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".fetch-*.wav")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() //nolint:gosec // our temp file; after a rename, removes nothing
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, maxFetchBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if n > maxFetchBytes {
		return nil, fmt.Errorf("%w: over %d MiB", errBadAudio, maxFetchBytes>>20)
	}
	pcm, err := media.LoadAudio(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errBadAudio, strings.ReplaceAll(err.Error(), tmp.Name()+": ", ""))
	}
	if cached != "" {
		if err := os.Rename(tmp.Name(), cached); err != nil { //nolint:gosec // cached is a hash of the URL
			return nil, err
		}
	}
	return pcm, nil
}
