package dialplan

import (
	"slices"
	"strings"
)

// This file checks how the parts of a plan lead to each other: how deep
// menus nest, where back has nowhere to go, and loops a caller could never
// leave (menus), or that would hand a call around forever (queue fallbacks,
// ring group no_answer).

// checkGraph runs the checks on the compiled parts.
func (c *compiler) checkGraph() {
	menus := make(map[*Menu]*menuInfo, len(c.menuList))
	for i := range c.menuList {
		menus[c.menuList[i].menu] = &c.menuList[i]
	}
	groups := make(map[*RingGroup]*groupInfo, len(c.groupList))
	for i := range c.groupList {
		groups[c.groupList[i].group] = &c.groupList[i]
	}
	c.depths(menus, groups)
	c.checkBack()
	c.menuLoops(menus)
	c.queueLoops()
	c.groupLoops(groups)
}

// reach is a menu an action leads to, and the action that names it.
type reach struct {
	menu *Menu
	by   placed
}

// reached returns the menu action a leads to: its own, or the one a ring
// group's no_answer leads to (through further ring groups).
func reached(a placed, groups map[*RingGroup]*groupInfo) (reach, bool) {
	seen := make(map[*RingGroup]bool)
	for {
		switch a.Kind {
		case GoMenu:
			return reach{a.Menu, a}, a.Menu != nil
		case RingGroupAction:
			g := groups[a.RingGroup]
			if g == nil || seen[a.RingGroup] {
				return reach{}, false
			}
			seen[a.RingGroup] = true
			a = g.noAnswer
		default:
			return reach{}, false
		}
	}
}

// depths sets each menu's Depth, breadth first from the numbers, and
// reports the actions that reach a menu deeper than MaxMenuDepth.
func (c *compiler) depths(menus map[*Menu]*menuInfo, groups map[*RingGroup]*groupInfo) {
	parent := make(map[*Menu]*Menu)
	var next []*Menu
	for _, a := range c.roots {
		if r, ok := reached(a, groups); ok && r.menu.Depth == 0 {
			r.menu.Depth = 1
			next = append(next, r.menu)
		}
	}
	for len(next) > 0 {
		m := next[0]
		next = next[1:]
		for _, a := range menus[m].actions {
			if r, ok := reached(a, groups); ok && r.menu.Depth == 0 {
				r.menu.Depth = m.Depth + 1
				parent[r.menu] = m
				next = append(next, r.menu)
			}
		}
	}
	reported := make(map[pos]bool)
	for _, mi := range c.menuList {
		if mi.menu.Depth != MaxMenuDepth {
			continue
		}
		for _, a := range mi.actions {
			r, ok := reached(a, groups)
			if !ok || r.menu.Depth != MaxMenuDepth+1 || reported[r.by.at] {
				continue
			}
			reported[r.by.at] = true
			chain := []string{r.menu.ID}
			for m := mi.menu; m != nil; m = parent[m] {
				chain = append(chain, m.ID)
			}
			slices.Reverse(chain)
			c.d.Errorf(r.by.at, r.by.path, "menus nest at most %d levels: %s", MaxMenuDepth, strings.Join(chain, " > "))
		}
	}
}

// checkBack reports back in a menu numbers start with: there is no menu
// above it.
func (c *compiler) checkBack() {
	for _, mi := range c.menuList {
		if mi.menu.Depth != 1 {
			continue
		}
		for _, a := range mi.actions {
			if a.Kind == Back {
				c.d.Errorf(a.at, a.path, "back: menu %s is a top-level menu (a number starts with it), so there is no menu to go back to", mi.menu.ID)
			}
		}
	}
}

// menuLoops reports sets of menus that lead only to each other (or repeat,
// or go back): a caller who enters one can never leave.
func (c *compiler) menuLoops(menus map[*Menu]*menuInfo) {
	order := make([]*Menu, len(c.menuList))
	for i, mi := range c.menuList {
		order[i] = mi.menu
	}
	edges := func(m *Menu) []*Menu {
		var out []*Menu
		for _, a := range menus[m].actions {
			if a.Kind == GoMenu && a.Menu != nil {
				out = append(out, a.Menu)
			}
		}
		return out
	}
	for _, set := range components(order, edges) {
		c.checkLoop(set, menus, edges)
	}
}

// checkLoop reports the strongly connected menus set (in file order) when
// nothing leads out of it.
func (c *compiler) checkLoop(set []*Menu, menus map[*Menu]*menuInfo, edges func(*Menu) []*Menu) {
	in := make(map[*Menu]bool, len(set))
	for _, m := range set {
		in[m] = true
	}
	cyclic := len(set) > 1 || slices.Contains(edges(set[0]), set[0])
	for _, m := range set {
		for _, a := range menus[m].actions {
			switch {
			case a.Kind == GoMenu && in[a.Menu], a.Kind == Repeat:
			case a.Kind == Back && cyclic:
				// Back lands in the loop again: going around it stacks
				// its menus.
			default:
				return // a way out
			}
		}
	}
	first := set[0]
	if !cyclic {
		c.d.Errorf(menus[first].raw.at, menus[first].raw.path, "menu %s has no way out: its options, no_input and on_invalid all repeat it", first.ID)
		return
	}
	// The shortest way around, from the first menu back to it.
	path, closing := loopPath(first, in, menus)
	if len(set) == 1 {
		c.d.Errorf(closing.at, closing.path, "menu %s leads only back to itself, with no way out; give it an option, no_input or on_invalid that leads elsewhere", first.ID)
		return
	}
	c.d.Errorf(closing.at, closing.path, "menus %s loop with no way out; give one of them an option, no_input or on_invalid that leads elsewhere", strings.Join(path, " > "))
}

// loopPath returns the IDs of the shortest way from first around the loop
// in back to first, and the action that closes it.
func loopPath(first *Menu, in map[*Menu]bool, menus map[*Menu]*menuInfo) ([]string, placed) {
	from := map[*Menu]*Menu{first: nil}
	next := []*Menu{first}
	for len(next) > 0 {
		m := next[0]
		next = next[1:]
		for _, a := range menus[m].actions {
			if a.Kind != GoMenu || !in[a.Menu] {
				continue
			}
			if a.Menu == first {
				ids := []string{first.ID}
				for x := m; x != nil; x = from[x] {
					ids = append(ids, x.ID)
				}
				slices.Reverse(ids)
				return ids, a
			}
			if _, seen := from[a.Menu]; !seen {
				from[a.Menu] = m
				next = append(next, a.Menu)
			}
		}
	}
	return []string{first.ID}, placed{} // not reached: first is in a cycle
}

// components returns the strongly connected components of the graph of
// nodes and edges (Tarjan), each in the order of nodes, in the order of
// their first node.
func components[T comparable](nodes []T, edges func(T) []T) [][]T {
	index := make(map[T]int, len(nodes))
	low := make(map[T]int, len(nodes))
	on := make(map[T]bool, len(nodes))
	var stack []T
	var out [][]T
	var visit func(v T)
	visit = func(v T) {
		index[v] = len(index) + 1
		low[v] = index[v]
		stack = append(stack, v)
		on[v] = true
		for _, w := range edges(v) {
			if index[w] == 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var set []T
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			on[w] = false
			set = append(set, w)
			if w == v {
				break
			}
		}
		out = append(out, set)
	}
	for _, v := range nodes {
		if index[v] == 0 {
			visit(v)
		}
	}
	rank := make(map[T]int, len(nodes))
	for i, v := range nodes {
		rank[v] = i
	}
	for _, set := range out {
		slices.SortFunc(set, func(a, b T) int { return rank[a] - rank[b] })
	}
	slices.SortFunc(out, func(a, b []T) int { return rank[a[0]] - rank[b[0]] })
	return out
}

// queueLoops reports queues whose fallbacks come back to them.
func (c *compiler) queueLoops() {
	infos := make(map[*Queue]*queueInfo, len(c.queueList))
	order := make([]*Queue, len(c.queueList))
	for i := range c.queueList {
		infos[c.queueList[i].queue] = &c.queueList[i]
		order[i] = c.queueList[i].queue
	}
	next := func(q *Queue) (*Queue, bool) {
		a := infos[q].fallback
		return a.Queue, a.Kind == QueueAction && a.Queue != nil
	}
	for _, loop := range loops(order, next) {
		last := infos[loop[len(loop)-2]].fallback
		c.d.Errorf(last.at, last.path, "queues %s: the fallbacks loop; one of them must fall back to voicemail or hangup", joinIDs(loop))
	}
}

// groupLoops reports ring groups whose no_answer comes back to them.
func (c *compiler) groupLoops(groups map[*RingGroup]*groupInfo) {
	order := make([]*RingGroup, len(c.groupList))
	for i := range c.groupList {
		order[i] = c.groupList[i].group
	}
	next := func(g *RingGroup) (*RingGroup, bool) {
		a := groups[g].noAnswer
		return a.RingGroup, a.Kind == RingGroupAction && a.RingGroup != nil
	}
	for _, loop := range loops(order, next) {
		last := groups[loop[len(loop)-2]].noAnswer
		c.d.Errorf(last.at, last.path, "ring groups %s: no_answer loops; one of them must end in voicemail, a queue, a menu or hangup", joinIDs(loop))
	}
}

// loops returns each cycle of a graph where every node leads to at most
// one next node, once, as the nodes around it from where the walk from the
// first node of nodes entered it, back to that node.
func loops[T comparable](nodes []T, next func(T) (T, bool)) [][]T {
	const (
		unseen = iota
		walking
		done
	)
	state := make(map[T]int, len(nodes))
	var out [][]T
	for _, start := range nodes {
		var walk []T
		v, ok := start, true
		for ok && state[v] == unseen {
			state[v] = walking
			walk = append(walk, v)
			v, ok = next(v)
		}
		if ok && state[v] == walking {
			i := slices.Index(walk, v)
			out = append(out, append(slices.Clone(walk[i:]), v))
		}
		for _, w := range walk {
			state[w] = done
		}
	}
	return out
}

// joinIDs joins the IDs of a loop's parts with " > ".
func joinIDs[T *Queue | *RingGroup](loop []T) string {
	ids := make([]string, len(loop))
	for i, v := range loop {
		ids[i] = idOf(v)
	}
	return strings.Join(ids, " > ")
}
