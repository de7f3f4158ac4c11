package dialplan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// Defaults and limits of the dialplan's settings.
const (
	DefaultVoice           = "en-us"
	DefaultReadOut         = "For {menu}, press {number}."
	DefaultPositionMessage = "You are number {position} in line."

	DefaultMenuTimeout  = 5 * time.Second
	MinMenuTimeout      = time.Second
	MaxMenuTimeout      = 60 * time.Second
	DefaultMenuRetries  = 2
	MaxMenuRetries      = 10
	MaxMenuDepth        = 5
	DefaultRingInterval = 20 * time.Second
	MinRingInterval     = 5 * time.Second
	MaxRingInterval     = 300 * time.Second
	DefaultCycles       = 1
	MaxCycles           = 10
	MaxAgents           = 100
	DefaultMaxCallers   = 10
	MaxMaxCallers       = 100
	DefaultAnnounce     = 30 * time.Second
	MinAnnounce         = 10 * time.Second
	DefaultMaxWait      = 10 * time.Minute
	DefaultMaxLength    = 2 * time.Minute
	MinMaxLength        = 5 * time.Second
	MaxMaxLength        = 10 * time.Minute
	// MaxInternalDigits is the longest internal number: a key of numbers
	// with more digits (or a +, or spaces) is a DID.
	MaxInternalDigits = 6
)

// digitOrder is the order menu options are read out and listed in.
const digitOrder = "1234567890*#"

// noSpeech is the problem of a text message compiled without Speak.
const noSpeech = "text-to-speech needs espeak-ng, which is not installed; use an audio file (file: ...) or install espeak-ng"

// compiler checks the raw plan and builds the Plan, reporting every
// problem through d.
type compiler struct {
	d     *yamlpos.Decoder
	opts  Options
	voice string // the default voice
	// extensions maps each agent's extension to the agent's ID.
	extensions map[string]string
	audio      map[audioKey]audioResult

	hours      map[string]*Hours
	menus      map[string]*Menu
	ringGroups map[string]*RingGroup
	queues     map[string]*Queue
	voicemail  map[string]*Voicemail

	// What the graph checks need: each part in file order, with its
	// actions and where they are written.
	menuList  []menuInfo
	groupList []groupInfo
	queueList []queueInfo
	roots     []placed // the numbers' actions
}

type menuInfo struct {
	menu    *Menu
	raw     *rawMenu
	actions []placed // options in digit order, no_input, on_invalid
}

type groupInfo struct {
	group    *RingGroup
	raw      *rawRingGroup
	noAnswer placed
}

type queueInfo struct {
	queue    *Queue
	raw      *rawQueue
	fallback placed
}

func newCompiler(d *yamlpos.Decoder, opts Options) *compiler {
	c := &compiler{
		d:          d,
		opts:       opts,
		voice:      DefaultVoice,
		extensions: make(map[string]string, len(opts.Agents)),
		audio:      make(map[audioKey]audioResult),
		hours:      make(map[string]*Hours),
		menus:      make(map[string]*Menu),
		ringGroups: make(map[string]*RingGroup),
		queues:     make(map[string]*Queue),
		voicemail:  make(map[string]*Voicemail),
	}
	for id, ext := range opts.Agents {
		c.extensions[ext] = id
	}
	return c
}

// compile checks raw and builds the plan; the plan is only good when no
// problem was reported.
func (c *compiler) compile(raw *rawPlan) *Plan {
	if v := raw.messages.voice; v.Set {
		c.voice = c.checkVoice(v, raw.messages.path+".voice")
	}
	defaults := c.messages(&raw.messages, Messages{}, c.voice)
	for _, r := range raw.hours {
		c.hours[r.id] = c.compileHours(r)
	}
	// Every part exists before any action refers to one.
	for _, r := range raw.menus {
		m := &Menu{ID: r.id}
		c.menus[r.id] = m
		c.menuList = append(c.menuList, menuInfo{menu: m, raw: r})
	}
	for _, r := range raw.ringGroups {
		g := &RingGroup{ID: r.id}
		c.ringGroups[r.id] = g
		c.groupList = append(c.groupList, groupInfo{group: g, raw: r})
	}
	for _, r := range raw.queues {
		q := &Queue{ID: r.id}
		c.queues[r.id] = q
		c.queueList = append(c.queueList, queueInfo{queue: q, raw: r})
	}
	for _, r := range raw.voicemail {
		v := &Voicemail{ID: r.id}
		c.voicemail[r.id] = v
		c.compileVoicemail(r, v)
	}
	for i := range c.groupList {
		c.compileRingGroup(&c.groupList[i])
	}
	for i := range c.queueList {
		c.compileQueue(&c.queueList[i])
	}
	for i := range c.menuList {
		c.compileMenu(&c.menuList[i])
	}
	p := &Plan{
		numbers:    make(map[string]*Number, len(raw.numberList)),
		voice:      c.voice,
		extensions: c.extensions,
		speak:      c.opts.Speak,
	}
	c.compileNumbers(raw, defaults, p)
	c.checkGraph()
	return p
}

// checkVoice checks a text-to-speech voice name.
func (c *compiler) checkVoice(v val[string], path string) string {
	ok := v.V != "" && len(v.V) <= 64
	for _, r := range v.V {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !letter && !strings.ContainsRune("-_+/.", r) {
			ok = false
		}
	}
	if !ok {
		c.d.Errorf(v.At, path, "%q is not a voice name such as %q", yamlpos.Clip(v.V), DefaultVoice)
		return c.voice
	}
	return v.V
}

// messages compiles a messages block over base: a key present replaces
// base's message ("" or null: none). voice is the default voice of text.
func (c *compiler) messages(r *rawMessages, base Messages, voice string) Messages {
	out := base
	for _, m := range []struct {
		dst **Message
		raw *rawMessage
	}{
		{&out.Welcome, &r.welcome},
		{&out.OnHold, &r.onHold},
		{&out.AllBusy, &r.allBusy},
		{&out.AgentUnavailable, &r.agentUnavailable},
		{&out.AfterHours, &r.afterHours},
	} {
		if m.raw.present {
			*m.dst = c.message(m.raw, voice)
		}
	}
	return out
}

// count checks an optional whole number of path's key against lo..hi.
func (c *compiler) count(v val[int], path, key string, lo, hi, def int) int {
	switch {
	case !v.Set:
		return def
	case v.V < lo:
		c.d.Errorf(v.At, path, "%s is %d; at least %d", key, v.V, lo)
	case v.V > hi:
		c.d.Errorf(v.At, path, "%s is %d; at most %d", key, v.V, hi)
	default:
		return v.V
	}
	return def
}

// span checks an optional duration of path's key against lo..hi.
func (c *compiler) span(v durationVal, path, key string, lo, hi, def time.Duration) time.Duration {
	switch {
	case !v.Set:
		return def
	case v.V < lo:
		c.d.Errorf(v.At, path, "%s is %s; at least %s", key, yamlpos.FormatDuration(v.V), yamlpos.FormatDuration(lo))
	case v.V > hi:
		c.d.Errorf(v.At, path, "%s is %s; at most %s", key, yamlpos.FormatDuration(v.V), yamlpos.FormatDuration(hi))
	default:
		return v.V
	}
	return def
}

// text returns an optional string that must not be empty when given.
func (c *compiler) text(v val[string], path, key string) string {
	if v.Set && strings.TrimSpace(v.V) == "" {
		c.d.Errorf(v.At, path, "%s must not be empty (leave the key out instead)", key)
		return ""
	}
	return strings.TrimSpace(v.V)
}

// agents checks a list of agent IDs.
func (c *compiler) agents(v textList, path string) []string {
	p := path + ".agents"
	if !v.Set {
		return nil
	}
	if len(v.V) == 0 {
		c.d.Errorf(v.At, p, "at least one agent is required")
		return nil
	}
	if len(v.V) > MaxAgents {
		c.d.Errorf(v.At, p, "%d agents; at most %d", len(v.V), MaxAgents)
	}
	seen := make(map[string]pos, len(v.V))
	var out []string
	for i, a := range v.V {
		if !a.Set {
			continue
		}
		ap := fmt.Sprintf("%s[%d]", p, i)
		if _, ok := c.opts.Agents[a.V]; !ok {
			c.d.Errorf(a.At, ap, "no agent %q in ringdesk.yaml (%s)", yamlpos.Clip(a.V), c.agentList())
			continue
		}
		if first, dup := seen[a.V]; dup {
			c.d.Errorf(a.At, ap, "%q is listed twice (first at line %d)", a.V, first.Line)
			continue
		}
		seen[a.V] = a.At
		out = append(out, a.V)
	}
	return out
}

// agentList lists the agent IDs for messages.
func (c *compiler) agentList() string {
	if len(c.opts.Agents) == 0 {
		return "there are no agents"
	}
	ids := slices.Sorted(maps.Keys(c.opts.Agents))
	const most = 12
	if len(ids) > most {
		return fmt.Sprintf("agents: %s, and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
	}
	return "agents: " + strings.Join(ids, ", ")
}

// strategy checks a ring strategy; queues may also ring the longest idle
// agent first.
func (c *compiler) strategy(v val[string], path string, queue bool, def Strategy) Strategy {
	if !v.Set {
		return def
	}
	switch v.V {
	case "sequential":
		return Sequential
	case "simultaneous":
		return Simultaneous
	case "longest_idle":
		if queue {
			return LongestIdle
		}
	}
	want := "sequential or simultaneous"
	if queue {
		want = "sequential, simultaneous or longest_idle"
	}
	c.d.Errorf(v.At, path+".strategy", "%q is not a strategy; want %s", yamlpos.Clip(v.V), want)
	return def
}

func (c *compiler) compileVoicemail(r *rawVoicemail, v *Voicemail) {
	v.Greeting = c.message(&r.greeting, c.voice)
	v.MaxLength = c.span(r.maxLength, r.path, "max_length", MinMaxLength, MaxMaxLength, DefaultMaxLength)
	v.Department = c.text(r.department, r.path, "department")
}

func (c *compiler) compileRingGroup(gi *groupInfo) {
	r, g := gi.raw, gi.group
	if !r.agents.Present {
		c.d.Errorf(r.at, r.path, "agents is required: the agent IDs to ring")
	}
	g.Agents = c.agents(r.agents, r.path)
	g.Strategy = c.strategy(r.strategy, r.path, false, Sequential)
	g.RingInterval = c.span(r.ringInterval, r.path, "ring_interval", MinRingInterval, MaxRingInterval, DefaultRingInterval)
	cycles, key := r.cycles, "cycles"
	if r.retries.Present {
		if r.cycles.Present {
			c.d.Errorf(r.retries.Key, r.path, "cycles and retries are the same setting; keep cycles")
		} else {
			cycles, key = r.retries, "retries"
		}
	}
	g.Cycles = c.count(cycles, r.path, key, 1, MaxCycles, DefaultCycles)
	gi.noAnswer, _ = c.action(r.noAnswer, r.path+".no_answer", inNoAnswer)
	g.NoAnswer = gi.noAnswer.Action
	g.Department = c.text(r.department, r.path, "department")
}

func (c *compiler) compileQueue(qi *queueInfo) {
	r, q := qi.raw, qi.queue
	switch {
	case r.agents.Present && r.ringGroup.Present:
		c.d.Errorf(r.ringGroup.Key, r.path, "agents and ring_group exclude each other; keep one")
	case r.agents.Present:
		q.Agents = c.agents(r.agents, r.path)
	case r.ringGroup.Set:
		if g, ok := lookup(c, r.ringGroup, r.path+".ring_group", "ring group", c.ringGroups, r.ringGroup.V); ok {
			q.Agents = slices.Clone(g.Agents)
			q.ringGroup = g
		}
	case !r.ringGroup.Present:
		c.d.Errorf(r.at, r.path, "agents or ring_group is required: who answers the queue's callers")
	}
	q.Strategy = c.strategy(r.strategy, r.path, true, LongestIdle)
	q.RingInterval = c.span(r.ringInterval, r.path, "ring_interval", MinRingInterval, MaxRingInterval, DefaultRingInterval)
	q.MaxCallers = c.count(r.maxCallers, r.path, "max_callers", 1, MaxMaxCallers, DefaultMaxCallers)
	if f := r.holdMusic; f.Set {
		if m := c.loadFile(f, r.path+".hold_music"); m != nil {
			q.HoldMusic, q.HoldMusicFile, q.holdMusicName = m.Audio, m.File, m.name
		}
	}
	q.AnnounceEvery = DefaultAnnounce
	if v := r.announceEvery; v.Set {
		switch {
		case v.V != 0 && v.V < MinAnnounce:
			c.d.Errorf(v.At, r.path, "announce_every is %s; 0 (never) or at least %s", yamlpos.FormatDuration(v.V), yamlpos.FormatDuration(MinAnnounce))
		default:
			q.AnnounceEvery = v.V
		}
	}
	q.AnnouncePosition = r.announcePosition.V
	if q.AnnouncePosition && c.opts.Speak == nil {
		c.d.Errorf(r.announcePosition.At, r.path+".announce_position", "%s", noSpeech)
	}
	q.PositionText = DefaultPositionMessage
	if v := r.positionMessage; v.Set {
		q.PositionText = v.V
		c.checkTemplate(v, r.path+".position_message", "{position}")
	}
	q.Voice = c.voice
	if r.voice.Set {
		q.Voice = c.checkVoice(r.voice, r.path+".voice")
	}
	q.MaxWait = DefaultMaxWait
	if v := r.maxWait; v.Set {
		if v.V < 0 {
			c.d.Errorf(v.At, r.path, "max_wait is %s; 0 (no limit) or more", yamlpos.FormatDuration(v.V))
		} else {
			q.MaxWait = v.V
		}
	}
	qi.fallback, _ = c.action(r.fallback, r.path+".fallback", inFallback)
	q.Fallback = qi.fallback.Action
	q.Department = c.text(r.department, r.path, "department")
}

// checkTemplate checks that the template in v has every placeholder of
// want and no other.
func (c *compiler) checkTemplate(v val[string], path string, want ...string) bool {
	ok := true
	s := v.V
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if ph := s[i : i+j+1]; !slices.Contains(want, ph) {
			c.d.Errorf(v.At, path, "unknown placeholder %s; use %s", yamlpos.Clip(ph), strings.Join(want, " and "))
			ok = false
		}
		s = s[i+j+1:]
	}
	var missing []string
	for _, w := range want {
		if !strings.Contains(v.V, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		c.d.Errorf(v.At, path, "%q must contain %s; %s missing", yamlpos.Clip(v.V), strings.Join(want, " and "), strings.Join(missing, " and "))
		ok = false
	}
	return ok
}

func (c *compiler) compileMenu(mi *menuInfo) {
	r, m := mi.raw, mi.menu
	m.Name = r.id
	if r.name.Present {
		m.Name = c.text(r.name, r.path, "name")
	}
	m.Timeout = c.span(r.timeout, r.path, "timeout", MinMenuTimeout, MaxMenuTimeout, DefaultMenuTimeout)
	m.Retries = c.count(r.retries, r.path, "retries", 0, MaxMenuRetries, DefaultMenuRetries)
	m.InvalidMessage = c.message(&r.invalid, c.voice)
	m.Department = c.text(r.department, r.path, "department")
	m.Options = make(map[byte]*Option, len(r.optionList))
	opts := slices.Clone(r.optionList)
	slices.SortStableFunc(opts, func(a, b *rawOption) int {
		return cmp.Compare(strings.IndexByte(digitOrder, a.digit), strings.IndexByte(digitOrder, b.digit))
	})
	if len(opts) == 0 {
		at := r.at
		if r.options.Present {
			at = r.options.Key
		}
		c.d.Errorf(at, r.path, "options is required: at least one digit callers can press, such as 1: {name: Sales, action: queue sales}")
	}
	for _, ro := range opts {
		o := &Option{Digit: ro.digit, Department: c.text(ro.department, ro.path, "department")}
		if ro.name.Present {
			o.Name = c.text(ro.name, ro.path, "name")
		}
		if !ro.action.Present {
			c.d.Errorf(ro.at, ro.path, "action is required: what pressing %s does, such as \"queue support\"", string(ro.digit))
		}
		a, _ := c.action(ro.action, ro.path+".action", inMenu)
		o.Action = a.Action
		m.Options[o.Digit] = o
		m.order = append(m.order, o)
		mi.actions = append(mi.actions, a)
	}
	noInput, _ := c.action(r.noInput, r.path+".no_input", inMenu)
	invalid, _ := c.action(r.onInvalid, r.path+".on_invalid", inMenu)
	m.NoInput, m.Invalid = noInput.Action, invalid.Action
	if !r.noInput.Present {
		noInput.at = r.at
	}
	if !r.onInvalid.Present {
		invalid.at = r.at
	}
	mi.actions = append(mi.actions, noInput, invalid)
	c.prompt(r, m)
}

// prompt builds a menu's prompt: its prompt message, or the intro followed
// by one read-out line per option.
func (c *compiler) prompt(r *rawMenu, m *Menu) {
	if r.prompt.present {
		switch {
		case r.intro.present:
			c.d.Errorf(r.intro.key, r.path, "intro and prompt exclude each other: a prompt says it all, or the intro and read_out are spoken")
		case r.readOut.Present:
			c.d.Errorf(r.readOut.Key, r.path, "read_out and prompt exclude each other: a prompt says it all, or the intro and read_out are spoken")
		}
		m.Prompt = c.message(&r.prompt, c.voice)
		return
	}
	tmpl := DefaultReadOut
	if r.readOut.Present {
		if !r.readOut.Set || !c.checkTemplate(r.readOut, r.path+".read_out", "{number}", "{menu}") {
			return
		}
		tmpl = r.readOut.V
	}
	named := true
	for _, ro := range r.optionList {
		if !ro.name.Set {
			c.d.Errorf(ro.at, ro.path, "name is required: the read-out says it (or give the menu a prompt)")
			named = false
		}
	}
	at, path := r.at, r.path
	if r.readOut.Present {
		at, path = r.readOut.At, r.path+".read_out"
	}
	if c.opts.Speak == nil {
		c.d.Errorf(at, path, "the options are read out by text-to-speech, which needs espeak-ng, and it is not installed; give the menu a prompt file (prompt: {file: ...}) or install espeak-ng")
		return
	}
	intro := c.message(&r.intro, c.voice)
	if !named {
		return
	}
	prompt := &Message{Voice: c.voice}
	var texts, lines []string
	if intro != nil {
		prompt.Audio = append(prompt.Audio, intro.Audio...)
		if intro.Text != "" {
			texts = append(texts, intro.Text)
		}
	}
	for _, o := range m.order {
		line := strings.NewReplacer("{number}", digitWord(o.Digit), "{menu}", o.Name).Replace(tmpl)
		spoken := c.say(line, c.voice, at, path)
		if spoken == nil {
			return
		}
		prompt.Audio = append(prompt.Audio, spoken.Audio...)
		lines = append(lines, line)
	}
	prompt.Text = strings.Join(append(texts, lines...), " ")
	m.Prompt, m.intro, m.readOut = prompt, intro, strings.Join(lines, " ")
}

// digitWord is how the read-out says a digit.
func digitWord(d byte) string {
	switch d {
	case '*':
		return "star"
	case '#':
		return "pound"
	}
	return string(d)
}
