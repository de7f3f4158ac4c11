// Package yamlpos decodes YAML while keeping the position of every key and
// value, so that a config loader can report every problem in a file at once,
// each as FILE:LINE:COL: message.
//
// goccy/go-yaml's Unmarshal stops at the first problem. A Decoder instead
// walks the parsed AST itself: Mapping checks the keys of a mapping against
// a list of Fields (reporting unknown and duplicate keys, with the keys
// allowed), and the Field decoders (Text, TextList, Duration, Integer,
// Boolean, ...) fill a Val, which records whether the key was present,
// whether its value decoded, and where both are. Anchors, aliases, tags,
// merge keys and multiple documents are rejected: a config is written out
// plainly. Parse refuses unreasonably nested input before the parser sees
// it, and explains tab indentation.
//
// Problems go to Decoder.Report when set, else to a list that Errors returns
// sorted by position. Messages start with the key path they concern, such as
// "sip.realm: must not be empty".
//
// configs (ringdesk.yaml) and dialplan (dialplan.yaml) both decode through
// this package. It imports no project package.
package yamlpos
