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
// it (sip.Trunk) and how calls use it (calls.Trunk). Phone numbers (caller_id,
// and the dialplan's numbers) may be written nationally and are composed in
// E.164, read with package e164 in the trunk's or the dialing country.
//
// # The helpdesk
//
// The http section configures the agents' web UI and REST API (HTTPConfig),
// departments group agents (Department), and the tickets and webhooks
// sections compose tickets.Settings. Unlike the package Configs above,
// Config.Tickets starts from tickets.DefaultSettings (with DefaultOutcomes),
// so it is complete, and it carries the dialing country, the departments
// and the webhooks too. Agents may have a web_password_hash (bcrypt, checked
// for its form) and be admin. Secrets (SIP passwords and digests, web
// password hashes, webhook secrets) are never quoted in errors.
//
// # The dialplan
//
// What each number callers dial does (numbers called from outside, menus,
// ring groups, queues, voicemail) is not in ringdesk.yaml but in the
// dialplan file that its dialplan key names, relative to the config file.
// Loading the config compiles it with package dialplan into
// calls.Config.Plan, checked against the config's agents and country, its
// audio files loaded (media.LoadAudio), those named by an http(s) URL
// fetched (a copy in data_dir's AudioCacheDir serves while the URL is
// down; calls.hold_music may be a URL too), and its texts spoken by package
// tts when espeak-ng is installed (cached in data_dir's TTSCacheDir). The
// embedded sample names the sample dialplan, configs/dialplan.yaml, which
// is embedded too, with its sounds (package configs/sounds). A numbers key,
// where older configs kept their numbers, is an error that says so.
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
// and Parse returns them all, sorted, as Errors. The dialplan's problems
// come after the config's own, with the dialplan file's name and positions.
// Lines and columns are 1-based; columns count characters. Parsing never
// panics on bad input.
//
// The YAML is parsed with github.com/goccy/go-yaml into an AST, which this
// package walks itself (through internal/yamlpos, as dialplan does) so that
// every key and value keeps its position. Anchors, aliases, tags and multiple
// documents are rejected.
//
// # Imports
//
// configs imports the Config types of sip, media and calls (and their
// helpers such as sip.ParseListen), tickets.Settings, e164 to check phone
// numbers, dialplan, tts and media/wav to compile the dialplan, and
// configs/sounds for the shipped audio, as the layout in STYLE.md allows.
package configs
