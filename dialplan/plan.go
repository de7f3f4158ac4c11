package dialplan

import (
	"slices"
	"sync"
	"time"
)

// Plan is a compiled dialplan: immutable once built (but for the position
// messages PositionAudio keeps), safe for concurrent use, and cheap to swap
// (calls hold the *Plan they started with). Make one with Parse or Load.
type Plan struct {
	// Source is the file the plan came from (or the name given to Parse).
	Source string

	numbers map[string]*Number // by Number.Number
	list    []*Number          // in file order

	voice      string            // the default voice, for Describe
	extensions map[string]string // extension -> agent ID, for Describe

	// speak is Options.Speak, for PositionAudio; nil without
	// text-to-speech.
	speak func(text, voice string) ([]int16, error)
	// mu guards positions, the position messages spoken so far.
	mu        sync.Mutex
	positions map[positionKey][]int16
}

// Route decides where a call to number goes at time now: number is an
// E.164 DID ("+351210000000") or an internal number ("500"), as Number.Number
// holds it. Within the number's hours the route is Welcome then Open,
// outside them AfterHours then Closed. It reports false for a number the
// plan does not have.
func (p *Plan) Route(number string, now time.Time) (Route, bool) {
	n, ok := p.numbers[number]
	if !ok {
		return Route{}, false
	}
	if n.Hours.OpenAt(now) {
		return Route{Number: n, Open: true, Message: n.Messages.Welcome, Action: n.Open}, true
	}
	return Route{Number: n, Message: n.Messages.AfterHours, Action: n.Closed}, true
}

// Numbers returns the plan's numbers in file order.
func (p *Plan) Numbers() []*Number {
	return slices.Clone(p.list)
}

// Number is one number callers dial: a DID reached through a trunk
// (E.164, "+351210000000") or an internal number agents dial ("500").
type Number struct {
	// Number is the key routed on: E.164 for a DID, digits for an
	// internal number.
	Number string
	// Written is the number as the file writes it, for messages.
	Written     string
	Description string
	// Department is where tickets for missed calls and voicemails from
	// this number go (empty: none named).
	Department string
	// Hours is when the number is open; nil: always.
	Hours *Hours
	// Messages are the number's automated messages, the plan's defaults
	// filled in where the number sets none.
	Messages Messages
	// Open is what a call gets within business hours (after Welcome).
	Open Action
	// Closed is what a call gets outside business hours (after
	// AfterHours): the number's after_hours action, by default hang up.
	Closed Action
}

// Route is the decision for one call: what the caller hears first and
// where the call goes.
type Route struct {
	Number *Number
	// Open: within business hours at the time routed.
	Open bool
	// Message is played first: Welcome when open, AfterHours when closed
	// (nil: none).
	Message *Message
	// Action is Number.Open or Number.Closed.
	Action Action
}

// Messages are the five automated messages. A nil message is not played.
type Messages struct {
	Welcome          *Message
	OnHold           *Message // played to queue callers every announce interval
	AllBusy          *Message // a queue is full
	AgentUnavailable *Message // nobody could be rung, or nobody answered
	AfterHours       *Message
}

// Message is audio ready to play: from a file, or text spoken by
// text-to-speech when the plan was compiled.
type Message struct {
	Text  string // spoken text; empty for a file
	Voice string // text-to-speech voice; empty for a file
	File  string // absolute path of the audio file, or its http(s) URL; empty for text
	// Audio is 8 kHz mono 16-bit PCM.
	Audio []int16

	name string // the file as written, for Describe
}

// ActionKind says what an Action does.
type ActionKind int

// What an action does. The zero Action hangs up.
const (
	Hangup ActionKind = iota
	GoMenu
	RingGroupAction
	QueueAction
	VoicemailAction
	ExtensionAction // ring one extension (Target)
	OutsideAction   // call an outside number (Target, E.164) through a trunk
	Repeat          // menus only: offer the current menu again
	Back            // menus only: go back to the menu above
)

// Action is one step of a call's flow. Exactly the field its Kind names
// is set.
type Action struct {
	Kind      ActionKind
	Menu      *Menu
	RingGroup *RingGroup
	Queue     *Queue
	Voicemail *Voicemail
	// Target is the extension (ExtensionAction) or the E.164 number
	// (OutsideAction).
	Target string
}

// Menu is an IVR menu.
type Menu struct {
	ID   string // its key under menus
	Name string // shown in the caller's menu path, "Support > Billing"
	// Prompt is the whole read-out: the intro, then each option's line
	// from the read-out template, in digit order (or one audio file that
	// says it all).
	Prompt *Message
	// Options by digit: '0'-'9', '*', '#'.
	Options map[byte]*Option
	// Timeout is how long to wait for a digit after the prompt.
	Timeout time.Duration
	// Retries is how many more times the menu is offered after no input
	// or an invalid digit, before NoInput or Invalid runs.
	Retries int
	// Invalid plays after an invalid digit (nil: nothing).
	InvalidMessage *Message
	NoInput        Action // after the last retry timed out
	Invalid        Action // after the last retry got an invalid digit
	Department     string // empty: the number's
	// Depth is 1 for a menu a number starts with, 2 for its sub-menu...
	// at most 5; the smallest when a menu is reached in several ways, and
	// 0 for a menu no number reaches.
	Depth int

	order   []*Option // Options in digit order: 1-9, 0, *, #
	intro   *Message  // the intro, when the prompt is made of intro and read-out
	readOut string    // the read-out lines, when the prompt is made of them
}

// Option is one choice of a menu.
type Option struct {
	Digit      byte
	Name       string
	Action     Action
	Department string // empty: the menu's
}

// Strategy is how a ring group or queue rings its agents.
type Strategy int

// Ring strategies.
const (
	Sequential   Strategy = iota // one at a time, in order of login
	Simultaneous                 // every available agent at once (up to 100)
	LongestIdle                  // queues: the agent idle longest first
)

// RingGroup rings agents directly.
type RingGroup struct {
	ID     string
	Agents []string // agent IDs from ringdesk.yaml
	// Strategy is Sequential or Simultaneous.
	Strategy     Strategy
	RingInterval time.Duration // how long each agent (or all at once) rings
	// Cycles is how many times a sequential group is gone through, 1-10.
	Cycles int
	// NoAnswer runs when nobody answered (after AgentUnavailable).
	NoAnswer   Action
	Department string
}

// Queue holds callers until an agent takes them.
type Queue struct {
	ID     string
	Agents []string // agent IDs (a ring_group's agents when it names one)
	// Strategy is Sequential, Simultaneous or LongestIdle.
	Strategy     Strategy
	RingInterval time.Duration
	MaxCallers   int // 1-100
	// HoldMusic is 8 kHz PCM; nil: the PBX's hold music.
	HoldMusic     []int16
	HoldMusicFile string
	// AnnounceEvery: how often the caller hears OnHold and their
	// position; 0: never.
	AnnounceEvery    time.Duration
	AnnouncePosition bool
	// PositionText is the template of the position message, with
	// {position}; Plan.PositionAudio speaks it in Voice at run time.
	PositionText string
	Voice        string
	MaxWait      time.Duration // 0: no limit
	// Fallback runs when the queue is full or the wait is over:
	// voicemail, another queue, or hang up.
	Fallback   Action
	Department string

	ringGroup     *RingGroup // the ring group whose agents it took, if any
	holdMusicName string     // HoldMusicFile as written
}

// Voicemail is a voicemail box.
type Voicemail struct {
	ID        string
	Greeting  *Message // nil: just the beep
	MaxLength time.Duration
	// Department is where the message goes (empty: the number's).
	Department string
}

// Hours is a weekly schedule in a time zone, with holidays and closed
// days.
type Hours struct {
	ID       string
	Location *time.Location

	week     [7][]span  // by time.Weekday: the open time ranges, sorted
	yearly   [13]uint32 // by month: bit d set when day d is a holiday
	dates    []dateSpan // holidays of one year, and closed dates and periods
	holidays []string   // as written, for Describe
	closed   []string   // as written, for Describe
}
