// Package configs holds Ringdesk's sample configuration and loads
// ringdesk.yaml into the Config types of the packages it configures.
//
// The sample, ringdesk.yaml, is embedded (SampleYAML) and documents every
// key. Load and Parse read a file of the same shape, check it, and compose
// sip.Config, media.Config and calls.Config from it; each package gets only
// its own Config. Keys the file leaves out stay zero, so each package applies
// its own defaults.
//
// A trunk in the file is one provider, split in two: how Ringdesk signals to
// it (sip.Trunk) and how calls use it (calls.Trunk). Phone numbers (numbers,
// caller_id) may be written nationally and are composed in E.164, read with
// package e164 in the trunk's or the dialing country.
//
// # Errors
//
// Every problem in a file is reported, not just the first: syntax errors,
// unknown and duplicate keys, values of the wrong type, and values that are
// out of range or inconsistent (duplicate extensions, bad port ranges,
// unreadable certificates, numbers that do not parse, routes to unknown
// trunks, ...). Each is an Error at a position in the file,
// formatted as
//
//	FILE:LINE:COL: message
//
// and Parse returns them all, sorted, as Errors. Lines and columns are
// 1-based; columns count characters. Parsing never panics on bad input.
//
// The YAML is parsed with github.com/goccy/go-yaml into an AST, which this
// package walks itself so that every key and value keeps its position.
// Anchors, aliases, tags and multiple documents are rejected.
//
// # Imports
//
// configs imports only the Config types of sip, media and calls (and their
// helpers such as sip.ParseListen), and e164 to check phone numbers, as the
// layout in STYLE.md allows.
package configs
