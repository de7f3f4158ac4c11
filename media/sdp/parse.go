package sdp

import (
	"fmt"
	"strings"

	pionsdp "github.com/pion/sdp/v3"
)

// description is a parsed or built session description and the audio stream
// Ringdesk uses in it. Offer and Answer wrap it.
type description struct {
	sd    *pionsdp.SessionDescription
	audio int   // index of the chosen m=audio line, -1 if none
	media Media // the chosen stream
}

// parse parses body after normalising it (see normalize).
func parse(body []byte) (description, error) {
	text, fixes, err := normalize(body)
	if err != nil {
		return description{}, err
	}
	sd := &pionsdp.SessionDescription{}
	if err := sd.UnmarshalString(text); err != nil {
		return description{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	for _, f := range fixes {
		if f.index < len(sd.MediaDescriptions) {
			mn := &sd.MediaDescriptions[f.index].MediaName
			mn.Media = f.media
			mn.Protos = strings.Split(f.proto, "/")
		}
	}
	d := description{sd: sd, audio: chooseAudio(sd)}
	if d.audio >= 0 {
		addr, err := connAddr(sd, d.audio)
		if err != nil {
			return description{}, err
		}
		d.media = mediaOf(sd, d.audio, addr)
	}
	return d, nil
}

// marshal returns the text of d, with CRLF line endings and a final CRLF.
func (d *description) marshal() []byte {
	if d.sd == nil {
		return nil
	}
	b, err := d.sd.Marshal()
	if err != nil { // pion/sdp v3 never fails to marshal
		return nil
	}
	return b
}
