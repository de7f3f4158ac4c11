// Package e164 is phone numbers as SIP trunks and dial plans need them: it
// reads what a provider puts in a Request-URI or To user part, or what an
// agent dials, as an E.164 number ("+351210000000", ITU-T E.164), and writes
// E.164 numbers the way a trunk wants them. It imports no project package,
// so any package may import it (sip, dialplan, calls, configs). Numbering
// data comes from github.com/nyaruka/phonenumbers (Google's libphonenumber
// metadata); its types stay inside this package, and the API is strings.
//
// Main parts:
//
//   - Normalize: a number as received or dialled, and the country it was
//     dialled in, to E.164 with its '+'.
//   - Style, ParseStyle and Format: an E.164 number to what a trunk expects
//     (E164, E164NoPlus, National, International), after an optional tech
//     prefix. Style.Validate checks a trunk's style when config is loaded.
//   - DialRules.Outside: is what an extension dialled an outside number
//     (by outside prefix, or by length), and which.
//   - Matches, Best and ValidatePattern: E.164 prefix patterns ("+351",
//     "+1800", "*") for dial rules; Best picks the longest matching prefix.
//
// Input is a bare number, not a URI: a "tel:" or "sip:" scheme is an error
// (RFC 3966 §3 parameters such as ";phone-context=+351" are dropped unread;
// the country given to Normalize says how to read a national number).
// Separators (space, '-', '.', '(' and ')') are ignored. Only ASCII digits are
// digits: letters (vanity numbers), "ext." extensions, '*', '#' and non-ASCII
// digits are errors, which libphonenumber alone would accept or convert.
//
// # Possible, not valid
//
// Normalize requires a number to be possible (a length its country calling
// code allows), not valid (inside a range the numbering data lists as
// allocated). Validity would reject numbers the PBX must route: ranges
// allocated after the pinned metadata, numbers a provider reserves for tests
// in ranges the metadata does not list, private or fictional numbers used in
// labs. The metadata accepts some test numbers (PT +351 21 000 0000, Ofcom's
// London drama range +44 20 7946 0xxx, NANPA 555-01xx, +1 500 555 0006) but
// not others: Ofcom's mobile drama range +44 7700 900xxx and France's
// +33 6 39 98 xx xx are invalid, and Normalize accepts them. The carrier is
// the final judge of a number either way.
//
// Validity is used in one place: to choose between two readings of digits
// without '+' or international prefix. They are a national number when that
// reading is valid, otherwise an international number without its '+' when
// that reading is valid, otherwise a national number if possible. So
// "351210000000" is +351210000000 in PT, GB and US, but in DE it is the valid
// Dresden number +49351210000000: providers in countries with variable-length
// numbers (DE, AT) should send '+' or the international prefix.
//
// Numbers that are possible only as local numbers without their area code
// (US "555 0123") are rejected, and so are short codes (emergency "112",
// "911", service codes): they have no E.164 form, so the dial plan must match
// them before it asks this package, and route them itself. Normalize also
// rejects the rare possible-but-invalid number that the parser would read
// back as another number (it strips what looks like a national prefix after
// the country code), so every result reads back unchanged in any country.
//
// # Cost
//
// libphonenumber parsing is regular-expression work: Normalize takes some
// 15 to 50 µs and 30 to 120 allocations (least for "+..." input already in
// E.164, most for digits that must be tried both as national and as
// international), Format 10 to 20 µs (see the benchmarks). That is nothing
// per call setup, but too much per packet.
package e164
