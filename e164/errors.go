package e164

import "errors"

var (
	// ErrInvalid is wrapped by every error about a phone number: empty,
	// letters or other characters, too short or too long for its country,
	// an unknown country calling code, a short code such as "112". The
	// message quotes the input.
	ErrInvalid = errors.New("e164: invalid number")
	// ErrCountry is wrapped when a country is not an ISO 3166-1 alpha-2
	// code that the numbering data knows ("PT", "US", "GB").
	ErrCountry = errors.New("e164: unknown country")
	// ErrStyle is wrapped for an unknown Style, and for a style that needs
	// the trunk country's international prefix when the country has none
	// that can be dialled without choosing a carrier (BR, CO, KR, ...).
	ErrStyle = errors.New("e164: unusable number style")
)
