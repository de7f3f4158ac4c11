#!/usr/bin/env bash
# bench/ivr.sh: callers in IVR menus and queues, SIPp on loopback (see
# bench/README.md, "IVR and queues").
#
# How many callers can be in menus and queues at once before what they hear
# stutters? Every caller (SIPp, digest auth as extension 1001) dials one of
# QUEUES internal numbers (501, 502, ...), hears the welcome message and the
# main menu's prompt, presses 2 (RFC 4733) 3 s after the answer, and waits in
# that number's queue (hold music, the on-hold message every 10 s) until
# the BYE; the queue's only agent is offline, so nobody answers. Steps of
# STEPS callers: all of them wait together for HOLD seconds. A capture of
# every RTP packet Ringdesk sends the callers (dumpcap on lo: on loopback the
# capture time is the send time) gives, per step and phase, the packets that
# never came and the inter-arrival gaps: the "hold" phase (all callers in
# their queues) decides; the "ramp" phase (callers arriving: welcome, menu,
# queue) is shown beside it.
#
# A step passes when, in the hold phase, fewer than MAX_MISSING_PCT % of
# the packets are missing (lost, or a 20 ms tick skipped) and the 99th
# percentile of the gaps between a caller's packets is under MAX_P99_MS, with
# no failed call. The headline is the highest passing step.
#
# Usage: bench/ivr.sh [--quick] [--keep]        (~4-6 min; --quick ~1 min)
#   --quick   two small steps (smoke check)
#   --keep    keep the work directory (logs, SIPp CSVs; captures need KEEP_PCAP)
# Environment (defaults in brackets):
#   RINGDESK      Ringdesk binary [./bin/ringdesk; built into the work dir if missing]
#   STEPS         concurrent callers per step ["100 200 400 800 1200 1600 2000 2400"]
#   HOLD          seconds all callers of a step wait together (the measured window) [20]
#   RAMP_CPS      call rate of the ramp [callers/20 within 10-50, minus 3]
#   QUEUES        numbers, menus and queues (callers spread evenly; a queue
#                 holds at most 100) [the largest step / 80, at least 20]
#   MUSIC         pbx: queues play the PBX's hold music (one shared stream
#                 for every held caller, the default of a queue without
#                 hold_music); queue: each queue has its own hold_music
#                 (the same file), played by each caller's mixer [pbx]
#   AGENT         offline: the queues' agent is set offline (`ringdesk agent
#                 offline`); online: left online with no phone registered [offline]
#   CALLER_AUDIO  1: callers send audio all along (silence, SIPp rtp_stream),
#                 as phones do; 0: only the key press (Ringdesk's media
#                 timeout is 5 min) [1]
#   MAX_MISSING_PCT  pass mark: missing packets in the hold phase [0.1]
#   MAX_P99_MS    pass mark: 99th percentile of the inter-arrival gaps [30]
#   LATE_MS       a packet later than this after the previous counts as late [30]
#   KEEP_PCAP     1: keep the captures (~90 bytes per packet: 160 MB at 1600 callers) [0]
#   NOISY_PCT     other processes on this shared machine count as noise above
#                 this % of one core: each step first waits (at most QUIET_WAIT
#                 s [60]) for them to drop below it, and a failing step is run
#                 once more if they went above it meanwhile (0: neither) [30]
#   NETNS         1: run in a private network namespace (needs root; default
#                 when root), 0: share the host's loopback (free ports are picked)
#   WORK          work directory [mktemp -d /tmp/ringdesk-ivr.XXXXXX]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
QUICK=0 KEEP=${KEEP:-0}
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "ivr.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
	esac
done

if ((QUICK)); then
	: "${STEPS:=50 200}" "${HOLD:=10}"
fi
: "${STEPS:=100 200 400 800 1200 1600 2000 2400}" "${HOLD:=20}" "${RAMP_CPS:=}" "${QUEUES:=}" "${MUSIC:=pbx}" "${AGENT:=offline}" "${CALLER_AUDIO:=1}"
: "${MAX_MISSING_PCT:=0.1}" "${MAX_P99_MS:=30}" "${LATE_MS:=30}" "${KEEP_PCAP:=0}" "${NOISY_PCT:=30}" "${QUIET_WAIT:=60}"
: "${RINGDESK:=$ROOT/bin/ringdesk}"
export STEPS HOLD RAMP_CPS QUEUES MUSIC AGENT CALLER_AUDIO MAX_MISSING_PCT MAX_P99_MS LATE_MS KEEP_PCAP NOISY_PCT QUIET_WAIT KEEP QUICK

die() { echo "ivr.sh: $*" >&2; exit 1; }
command -v sipp >/dev/null || die "sipp not found: run 'make peers' (or test/peers/install.sh)"
[[ $(sipp -v 2>&1) == *RTPSTREAM* && $(sipp -v 2>&1) == *PCAP* ]] || die "this sipp lacks RTPSTREAM or PCAP (need SIPp >= 3.6 built with both; Debian's sip-tester is)"
command -v dumpcap >/dev/null || die "dumpcap not found: run 'make peers' (or apt-get install wireshark-common)"
[[ $MUSIC == pbx || $MUSIC == queue ]] || die "MUSIC is pbx or queue"
[[ $AGENT == offline || $AGENT == online ]] || die "AGENT is offline or online"
MAXN=0
for n in $STEPS; do ((n > MAXN)) && MAXN=$n; done
((MAXN > 0)) || die "no STEPS"
if [[ -z $QUEUES ]]; then QUEUES=$(((MAXN + 79) / 80)); ((QUEUES < 20)) && QUEUES=20; fi
((QUEUES >= 1 && QUEUES <= 400)) || die "QUEUES is 1 to 400"
((MAXN <= QUEUES * 100)) || die "$MAXN callers do not fit in $QUEUES queues of at most 100"

# ---------------------------------------------------------------------------
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# Outside the namespace: the work dir, rtpstat (the capture's analyser and
# the key press's capture) and Ringdesk built, then into a private namespace.
if [[ -z ${RD_BENCH_INNER:-} ]]; then
	: "${WORK:=$(mktemp -d /tmp/ringdesk-ivr.XXXXXX)}"
	export WORK
	(cd "$ROOT" && go build -o "$WORK/rtpstat" ./bench/rtpstat) || die "go build ./bench/rtpstat failed"
fi
enter_namespace "$@"
inside_setup

RDPID=
cleanup() {
	local p
	for p in "${PIDS_TO_STOP[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [[ -n $RDPID ]] && kill -0 "$RDPID" 2>/dev/null; then
		kill -TERM "$RDPID"; sleep 0.3; kill -TERM "$RDPID" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Ringdesk's config and dialplan: numbers 501... each with the main menu's
# prompt, whose 2 leads to the number's own queue (agent bob, offline).
if ((NETNS)); then
	RD_PORT=5060 UAC_PORT=5080 UAC_MP=17000
else
	RD_PORT=$(free_udp_port) UAC_PORT=$(free_udp_port) UAC_MP=$(free_udp_port)
fi
RTP_LO=20000 RTP_HI=59999
SOUNDS=$ROOT/configs/sounds
for f in welcome menu-main on-hold hold-music; do [[ -s $SOUNDS/$f.wav ]] || die "$SOUNDS/$f.wav missing"; done
cat >ringdesk.yaml <<EOF
# written by bench/ivr.sh
sip:
  listen: ["udp://127.0.0.1:$RD_PORT"]
  realm: ringdesk
rtp:
  address: 127.0.0.1
  ports: $RTP_LO-$RTP_HI
  media_timeout: 5m
calls:
  shutdown_grace: 10s
data_dir: $WORK/ringdesk-data
dialplan: dialplan.yaml
agents:
  - id: alice
    extension: "1001"
    sip_password: alice-1001
  - id: bob
    extension: "1002"
    sip_password: bob-1002
EOF
{
	echo "# written by bench/ivr.sh: $QUEUES numbers, each a menu and a queue"
	echo "messages:"
	echo "  welcome: {file: $SOUNDS/welcome.wav}"
	echo "  on_hold: {file: $SOUNDS/on-hold.wav}"
	echo "numbers:"
	for ((i = 1; i <= QUEUES; i++)); do echo "  \"$((500 + i))\": {action: menu m$((500 + i))}"; done
	echo "menus:"
	for ((i = 1; i <= QUEUES; i++)); do
		echo "  m$((500 + i)): {prompt: {file: $SOUNDS/menu-main.wav}, timeout: 5s, retries: 0, no_input: hangup, on_invalid: hangup, options: {2: {name: Support, action: queue q$((500 + i))}}}"
	done
	echo "queues:"
	for ((i = 1; i <= QUEUES; i++)); do
		echo -n "  q$((500 + i)): {agents: [bob], max_callers: 100, announce_every: 10s, max_wait: 30m, fallback: hangup"
		[[ $MUSIC == queue ]] && echo -n ", hold_music: $SOUNDS/hold-music.wav"
		echo "}"
	done
} >dialplan.yaml
"$RINGDESK" check -config ringdesk.yaml >check.out 2>&1 || { cat check.out >&2; die "ringdesk check failed"; }
{ echo SEQUENTIAL; for ((i = 1; i <= QUEUES; i++)); do echo "$((500 + i));"; done; } >numbers.csv
"$WORK/rtpstat" dtmf -o "$WORK/press-2.pcap" -digit 2 -lead 20ms || die "rtpstat dtmf failed"
head -c 8000 /dev/zero | tr '\0' '\377' >"$WORK/bench-caller.ulaw" # 1 s of u-law silence, looped
# the on-hold message's length in 20 ms frames (16-bit 8 kHz WAV: 320 bytes
# per frame after a header of ~44 bytes): rtpstat tells its runs by it
ONHOLD_FRAMES=$((($(stat -c %s "$SOUNDS/on-hold.wav") - 44 + 319) / 320))
PROMPT_FRAMES=$((ONHOLD_FRAMES - 4))-$((ONHOLD_FRAMES + 4))

# start_ringdesk: a fresh Ringdesk (log ivr.log), JSON log with gctrace (live
# heap after each GC) and schedtrace (run queues every second); the queues'
# agent offline (AGENT=offline). Sets RDPID RDLOG RD_SOCK0 RD_RSS0.
start_ringdesk() {
	RDLOG=$WORK/ivr.log
	GODEBUG=${GODEBUG:+$GODEBUG,}gctrace=1,schedtrace=1000 "$RINGDESK" -config ringdesk.yaml -log-format json >ivr.out 2>"$RDLOG" &
	RDPID=$!
	for _ in $(seq 100); do grep -q 'SIP:' ivr.out 2>/dev/null && break; kill -0 $RDPID 2>/dev/null || break; sleep 0.05; done
	grep -q 'SIP:' ivr.out || { cat ivr.out "$RDLOG" >&2; die "Ringdesk did not start"; }
	if [[ $AGENT == offline ]]; then
		timeout 15 "$RINGDESK" agent -data-dir "$WORK/ringdesk-data" offline bob >agent.out 2>&1 || { cat agent.out >&2; die "ringdesk agent offline bob failed"; }
	fi
	sleep 0.5
	RD_SOCK0=$(nsock $RDPID)
	RD_RSS0=$(rss_kb $RDPID)
	CALLS_PLACED=0
}
stop_ringdesk() {
	local rss_end thr total rc
	rss_end=$(rss_kb $RDPID); thr=$(awk '/^Threads:/{print $2}' /proc/$RDPID/status)
	kill -TERM $RDPID
	for _ in $(seq 150); do kill -0 $RDPID 2>/dev/null || break; sleep 0.1; done
	if kill -0 $RDPID 2>/dev/null; then
		note_problem "Ringdesk still running 15 s after SIGTERM (calls left over?): second SIGTERM"
		kill -TERM $RDPID
	fi
	wait $RDPID 2>/dev/null
	rc=$?
	RDPID=
	total=$(calls_summary <"$RDLOG")
	((rc != 0)) && note_problem "Ringdesk exited with status $rc"
	(($(kv "$total" started) != CALLS_PLACED)) && note_problem "SIPp placed $CALLS_PLACED calls, Ringdesk logged $(kv "$total" started) 'call started'"
	(($(kv "$total" open) != 0)) && note_problem "Ringdesk logged $(kv "$total" started) 'call started' but $(kv "$total" ended) 'call ended'"
	RD_SUMMARY+=("$(printf '%d calls placed, %d ended (%s; hung up by %s); %d WARN, %d ERROR log lines; RSS %s MB idle, %s MB after the last step (%s threads)' \
		"$CALLS_PLACED" "$(kv "$total" ended)" "$(kv "$total" causes)" "$(kv "$total" by)" "$(kv "$total" warn)" "$(kv "$total" err)" \
		"$(mb "$RD_RSS0")" "$(mb "${rss_end:-0}")" "$thr")")
	while read -r l; do RD_SUMMARY+=("  log: $l"); done < <(grep '^problem=' <<<"$total" | sed 's/^problem=//')
}

# calls_summary: Ringdesk's log (stdin) in numbers: calls started and ended,
# causes, who hung up, RTP packets sent to the callers (tx) against their
# time in the call (calls answered by Ringdesk log it as "ring"), largest
# live heap after a GC, run queues (schedtrace: global + per-P runnable
# goroutines, each second), WARN/ERROR lines.
calls_summary() {
	awk '
	function num(s, k,   i) { i = index(s, "\"" k "\":"); if (!i) return 0; return substr(s, i + length(k) + 3) + 0 }
	function str(s, k,   i, r) { i = index(s, "\"" k "\":\""); if (!i) return ""; r = substr(s, i + length(k) + 4); return substr(r, 1, index(r, "\"") - 1) }
	function grp(s, k,   i, r) { i = index(s, "\"" k "\":{"); if (!i) return ""; r = substr(s, i); return substr(r, 1, index(r, "}")) }
	/"msg":"call started"/ { own[str($0, "call_id")] = 1; started++ }
	/"msg":"call ended"/ {
		if (!(str($0, "call_id") in own)) { leftover++; next }
		ended++
		c = str($0, "cause") "/" num($0, "status"); causes[c]++
		if (str($0, "cause") != "normal") abnormal++
		by[str($0, "hung_up_by")]++
		a = grp($0, "caller_rtp"); tx += num(a, "tx_packets"); rx += num(a, "rx_packets")
		frames += num($0, "ring") / 20e6
	}
	/"msg":"queue full"/ { qfull++ }
	/gc [0-9]+ @/ { if (match($0, /[0-9]+->[0-9]+->[0-9]+ MB/)) { split(substr($0, RSTART, RLENGTH - 3), h, "->"); if (h[3] + 0 > heap) heap = h[3] + 0 } }
	/SCHED [0-9]+ms:/ {
		if (match($0, /runqueue=[0-9]+ \[[0-9 ]*\]/)) {
			s = substr($0, RSTART + 9, RLENGTH - 9); gsub(/[\[\]]/, "", s); n = split(s, q, " ")
			t = 0; for (i = 1; i <= n; i++) t += q[i]
			rq += t; nrq++; if (t > rqmax) rqmax = t
		}
	}
	/"level":"(WARN|ERROR)"/ {
		lvl = str($0, "level"); m = lvl ": " str($0, "msg"); e = str($0, "error"); if (e != "") m = m " (" e ")"
		if (!(m in probs)) order[++np] = m
		probs[m]++
		if (lvl == "ERROR") nerr++; else nwarn++
	}
	END {
		printf "started=%d ended=%d open=%d leftover=%d abnormal=%d warn=%d err=%d qfull=%d\n", started, ended, started - ended, leftover, abnormal, nwarn, nerr, qfull
		printf "tx=%d rx=%d frames=%.0f heap=%d rq=%.1f rqmax=%d\n", tx, rx, frames, heap, (nrq ? rq / nrq : 0), rqmax
		s = ""; for (c in causes) s = s (s == "" ? "" : ",") c "=" causes[c]; printf "causes=%s\n", s
		s = ""; for (c in by) s = s (s == "" ? "" : ",") c "=" by[c]; printf "by=%s\n", s
		printf "not_caller=%d\n", ended - by["Caller"]
		for (i = 1; i <= np && i <= 8; i++) printf "problem=%dx %s\n", probs[order[i]], order[i]
	}'
}
count_started() { log_slice "$1" | grep -c '"msg":"call started"'; }

RD_SUMMARY=()
PROBLEMS=()
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(now)
# shellcheck disable=SC2054 # all,-abortunexp is one argument
SIPP_COMMON=(-nostdin -buff_size 4194304 -default_behaviors all,-abortunexp -trace_err -max_log_size 2000000 -trace_stat -fd 1)
DIGIT_S=3  # the key press, seconds after the answer (uac_ivr.xml)
SETTLE_S=2 # then into the queue: the window starts this long after the last key

echo "Ringdesk IVR and queue load test, $(date -u '+%Y-%m-%d %H:%M UTC'), ringdesk $("$RINGDESK" version 2>/dev/null | cut -d' ' -f2)"
echo "machine:  $NPROC x $CPU_MODEL, load average at start $LOAD_START"
if ((NETNS)); then
	echo "network:  private network namespace (its loopback and UDP counters are ours alone)"
else
	echo "network:  host loopback, shared with whatever else runs"
fi
echo "NOTE:     SIPp (callers) and dumpcap (the measurement) run on the same $NPROC cores as Ringdesk."
echo "          CPU % is of one core (the machine has $((NPROC * 100)) %); 'others' is what other"
echo "          processes on this shared machine used meanwhile (interrupts and softirqs apart: irq)."
echo "plan:     $QUEUES numbers 501-$((500 + QUEUES)), each: welcome (2.2 s), menu prompt (12.6 s, 2 pressed at 3 s),"
echo "          queue (agent $AGENT, max 100 callers, on-hold message 3.9 s every 10 s, hold music: $MUSIC);"
echo "          callers send audio: $( ((CALLER_AUDIO)) && echo "yes (silence, 50 packets/s, SIPp rtp_stream)" || echo "no (only the key press)")"
echo "work dir: $WORK"

# ---------------------------------------------------------------------------
# ivr_step CALLERS TRY: one step; prints its rows, sets S_STOP and S_OTHERS.
ivr_step() {
	local N=$1 try=$2 RR RAMP DMS T_MAX D off uac t0 tall w0 w1 deadline
	if [[ -n $RAMP_CPS ]]; then RR=$RAMP_CPS; else
		# callers/20 within 10-50, minus 3: a rate whose call interval is no
		# multiple of 5 ms, so that the callers' own 20 ms clocks (mixers,
		# announcement timers) start in every phase, as random arrivals'
		# would; at 50/s (20 ms apart) they would all tick together
		RR=$((N / 20)); ((RR < 10)) && RR=10; ((RR > 50)) && RR=50; RR=$((RR - 3))
	fi
	RAMP=$(((N + RR - 1) / RR))
	# BYE this long after the key: the ramp (with room for a slow one), the
	# settling, the window, and a margin, so every caller is there throughout
	DMS=$(((RAMP * 3 / 2 + SETTLE_S + HOLD + 4) * 1000))
	T_MAX=$((RAMP * 2 + DIGIT_S + DMS / 1000 + 40))
	wait_quiet
	D=$WORK/ivr-$N-$try; mkdir -p "$D"; cd "$D" || die "cd $D"
	cp "$WORK/bench-caller.ulaw" . # rtp_stream reads it from the current directory
	if ((CALLER_AUDIO)); then cp "$HERE/sipp/uac_ivr.xml" uac_ivr.xml; else sed '/rtp_stream=/d' "$HERE/sipp/uac_ivr.xml" >uac_ivr.xml; fi
	off=$(logsize)
	capture_start cap "udp and src host 127.0.0.1 and src portrange $RTP_LO-$RTP_HI and dst port $UAC_MP"
	t0=$(now)
	run_sipp uac "127.0.0.1:$RD_PORT" -sf uac_ivr.xml -inf "$WORK/numbers.csv" -i 127.0.0.1 -p "$UAC_PORT" \
		-mi 127.0.0.1 -mp "$UAC_MP" -key caller 1001 -au 1001 -ap alice-1001 -key pcap "$WORK/press-2.pcap" \
		-d "$DMS" -r "$RR" -l $((N + 10)) -m "$N" -recv_timeout 15000 -timeout "${T_MAX}s" -stf uac.csv "${SIPP_COMMON[@]}"
	uac=$SIPP_PID
	# every caller answered (Ringdesk answers at once), then the last key
	deadline=$(later $((RAMP * 3 / 2 + 10)))
	while (($(count_started "$off") < N)); do
		past "$deadline" && break
		sipp_done uac && break
		sleep 0.1
	done
	tall=$(now)
	local started_all; started_all=$(count_started "$off")
	sleep $((DIGIT_S + SETTLE_S))
	# the window: all callers in their queues
	local rd0 rd1 u0 u1 c0 c1 b0 b1 i0 i1 loff0 loff1 e0 rss_peak=0 r thr_peak=0 th
	e0=$(log_slice "$off" | grep -c '"msg":"call ended"')
	loff0=$(logsize)
	rd0=$(ticks $RDPID); u0=$(ticks "$uac"); c0=$(ticks "$CAP_PID"); b0=$(busy_ticks); i0=$(irq_ticks); w0=$(now)
	local wend; wend=$(later "$HOLD")
	while ! past "$wend"; do
		r=$(rss_kb $RDPID); ((r > rss_peak)) && rss_peak=$r
		th=$(awk '/^Threads:/{print $2}' /proc/$RDPID/status 2>/dev/null); ((${th:-0} > thr_peak)) && thr_peak=$th
		sleep 0.5
	done
	rd1=$(ticks $RDPID); u1=$(ticks "$uac"); c1=$(ticks "$CAP_PID"); b1=$(busy_ticks); i1=$(irq_ticks); w1=$(now)
	loff1=$(logsize)
	local ended_in_win; ended_in_win=$(($(log_slice "$off" | grep -c '"msg":"call ended"') - e0))
	local rtpd; read -r _ rtpd <<<"$(sock_drops $RDPID "$RD_PORT")"
	local cap_n cap_drop; read -r cap_n cap_drop <<<"$(capture_stop cap)"
	wait_sipp uac $((T_MAX + 20)) || note_problem "$N callers: SIPp still running after its timeout: stopped"
	local idle_ok=1; wait_idle 20 || idle_ok=0
	wait_ended "$off" 40
	# what the callers received
	local st; st=$("$WORK/rtpstat" gaps -late "${LATE_MS}ms" -prompt "$PROMPT_FRAMES" -phase "ramp=$t0,$w0" -phase "hold=$w0,$w1" cap.pcap 2>&1) ||
		note_problem "$N callers: rtpstat: $st"
	echo "$st" >rtpstat.out
	local ramp hold; ramp=$(grep '^phase=ramp' <<<"$st"); hold=$(grep '^phase=hold' <<<"$st")
	((KEEP_PCAP)) || rm -f cap.pcap
	local sum win created ok failed
	sum=$(log_slice "$off" | calls_summary)
	win=$(tail -c +"$((loff0 + 1))" "$RDLOG" | head -c $((loff1 - loff0)) | calls_summary)
	created=$(csv_last uac.csv TotalCallCreated); ok=$(csv_last uac.csv 'SuccessfulCall(C)')
	failed=$(($(csv_last uac.csv 'FailedCall(C)') + N - ok))
	CALLS_PLACED=$((CALLS_PLACED + created))
	local wall rdcpu scpu ccpu icpu others usc heard txpct note
	wall=$(fsub "$w1" "$w0")
	rdcpu=$(pct $((rd1 - rd0)) "$wall"); scpu=$(pct $((u1 - u0)) "$wall"); ccpu=$(pct $((c1 - c0)) "$wall"); icpu=$(pct $((i1 - i0)) "$wall")
	others=$(pct $((b1 - b0 - (i1 - i0) - (rd1 - rd0) - (u1 - u0) - (c1 - c0))) "$wall"); ((others < 0)) && others=0
	usc=$(awk -v t=$((rd1 - rd0)) -v n="$N" -v w="$wall" -v hz="$HZ" 'BEGIN{printf "%.0f", ((n > 0 && w > 0) ? 1e6 * t / hz / w / n : 0)}') # us of CPU per caller per second
	heard=$(kv "$hold" streams)
	txpct=$(awk -v t="$(kv "$sum" tx)" -v f="$(kv "$sum" frames)" 'BEGIN{printf "%.2f", (f > 0 ? 100 * (1 - t / f) : 0)}')
	note="ended=$(kv "$sum" ended) txmiss=${txpct}%"
	(($(kv "$sum" not_caller) > 0)) && note+=" hung_up_by=$(kv "$sum" by)"
	((rtpd > 0)) && note+=" rtpdrop=$rtpd"
	printf '%6d %5s %6s %6s %6s %6s %6s %6s %6s %5s %6s %6s %5s %5s %6s %5s %6s %5s %5s %5s %5s %6s  %s\n' "$N" "${heard:-0}" "$failed" \
		"$(kv "$hold" missing_pct | cut -c1-6)" "$(kv "$hold" late_pct | cut -c1-6)" "$(kv "$hold" gap_p50_ms)" "$(kv "$hold" gap_p99_ms)" "$(kv "$hold" gap_p999_ms)" \
		"$(kv "$hold" gap_max_ms)" "$(kv "$hold" jit_avg_ms)" "$(kv "$hold" glitch_streams_pct)" "$(kv "$hold" burst_max_pct)" \
		"$rdcpu" "$usc" "$(mb "$rss_peak")" "$(kv "$win" heap)" "$(kv "$win" rq)" "$thr_peak" "$scpu" "$ccpu" "$icpu" "$others" "$note"
	printf '%6s   prompts: missing %s%%, late %s%%, gap p99 %s ms, max %s ms; music: missing %s%%, late %s%%, gap p99 %s ms, max %s ms; slots with >10%% of callers late: %s\n' "" \
		"$(kv "$hold" prompt_missing_pct)" "$(kv "$hold" prompt_late_pct)" "$(kv "$hold" prompt_gap_p99_ms)" "$(kv "$hold" prompt_gap_max_ms)" \
		"$(kv "$hold" music_missing_pct)" "$(kv "$hold" music_late_pct)" "$(kv "$hold" music_gap_p99_ms)" "$(kv "$hold" music_gap_max_ms)" "$(kv "$hold" bursts10)"
	printf '%6s   ramp (%s/s, %s s): missing %s%%, late %s%%, gaps p50/p99/p99.9/max %s/%s/%s/%s ms, glitch %s%%, burst %s%%; capture: %s packets, %s dropped\n' "" \
		"$RR" "$(fsub "$tall" "$t0" | cut -d. -f1)" "$(kv "$ramp" missing_pct)" "$(kv "$ramp" late_pct)" \
		"$(kv "$ramp" gap_p50_ms)" "$(kv "$ramp" gap_p99_ms)" "$(kv "$ramp" gap_p999_ms)" "$(kv "$ramp" gap_max_ms)" \
		"$(kv "$ramp" glitch_streams_pct)" "$(kv "$ramp" burst_max_pct)" "$cap_n" "$cap_drop"
	echo "$N $try ${heard:-0} $failed $(kv "$hold" missing_pct) $(kv "$hold" late_pct) $(kv "$hold" gap_p50_ms) $(kv "$hold" gap_p99_ms)" \
		"$(kv "$hold" gap_p999_ms) $(kv "$hold" gap_max_ms) $(kv "$hold" jit_avg_ms) $(kv "$hold" glitch_streams_pct) $(kv "$hold" burst_max_pct)" \
		"$rdcpu $usc $rss_peak $(kv "$win" heap) $(kv "$win" rq) $(kv "$win" rqmax) $thr_peak $scpu $ccpu $icpu $others" \
		"$(kv "$hold" prompt_missing_pct) $(kv "$hold" prompt_gap_p99_ms) $(kv "$hold" music_missing_pct) $(kv "$hold" music_gap_p99_ms)" \
		"$(kv "$ramp" missing_pct) $(kv "$ramp" gap_p99_ms) $(kv "$ramp" gap_max_ms) $txpct $cap_drop $RR" >>"$WORK/ivr.dat"
	step_problems "$N callers" "$sum" "$created" "$idle_ok"
	((started_all < N)) && note_problem "$N callers: only $started_all of $N calls had started $(fsub "$tall" "$t0" | cut -d. -f1) s into the ramp"
	((ended_in_win > 0)) && note_problem "$N callers: $ended_in_win calls ended during the measurement window"
	(($(kv "$sum" qfull) > 0)) && note_problem "$N callers: $(kv "$sum" qfull) callers found their queue full"
	(($(kv "$sum" not_caller) > 0)) && note_problem "$N callers: $(kv "$sum" not_caller) calls were not hung up by the caller ($(kv "$sum" by)): a lost key press ends the menu"
	[[ $cap_drop != 0 ]] && note_problem "$N callers: the capture dropped $cap_drop packets (they count as missing)"
	cd "$WORK" || die "cd"
	S_OTHERS=$others S_STOP=
	local pass
	pass=$(awk -v m="$(kv "$hold" missing_pct)" -v p="$(kv "$hold" gap_p99_ms)" -v mm="$MAX_MISSING_PCT" -v mp="$MAX_P99_MS" 'BEGIN{print ((m != "" && m + 0 < mm + 0 && p != "" && p + 0 < mp + 0) ? 1 : 0)}')
	if ((failed > 0)); then S_STOP="$failed failed calls"
	elif ((${heard:-0} < N)); then S_STOP="only ${heard:-0} of $N callers heard anything in the window"
	elif ((ended_in_win > 0)); then S_STOP="calls ended during the window"
	elif ((!pass)); then S_STOP="missing $(kv "$hold" missing_pct)% (mark < ${MAX_MISSING_PCT}%), gap p99 $(kv "$hold" gap_p99_ms) ms (mark < ${MAX_P99_MS} ms)"
	else
		BEST=$N
		BEST_LINE="$N callers: missing $(kv "$hold" missing_pct)%, gaps p50/p99/p99.9/max $(kv "$hold" gap_p50_ms)/$(kv "$hold" gap_p99_ms)/$(kv "$hold" gap_p999_ms)/$(kv "$hold" gap_max_ms) ms, late (> ${LATE_MS} ms) $(kv "$hold" late_pct)%, jitter $(kv "$hold" jit_avg_ms) ms; Ringdesk ${rdcpu}% CPU (${usc} us per caller per second), RSS $(mb "$rss_peak") MB, live heap $(kv "$win" heap) MB; SIPp ${scpu}%, dumpcap ${ccpu}%, irq ${icpu}%, others ${others}%"
	fi
	return 0
}

echo
echo "== Callers in menus and queues: all callers of a step wait in their queues together for ${HOLD} s (the window)"
echo "      heard: callers whose RTP was seen in the window; miss: packets lost or 20 ms ticks skipped, % of those due;"
echo "      late: gaps > ${LATE_MS} ms, % of gaps; gaps between a caller's consecutive packets: p50, p99, p99.9, max (the"
echo "      first packet of a new producer, marked, does not count); jit: RFC 3550 jitter, mean; glitch: callers with a gap"
echo "      > 40 ms; burst: the most callers late within one 100 ms; rdcpu: Ringdesk, % of one core; us/c: its CPU per"
echo "      caller per second; heap: live MB after GC; runq: runnable goroutines (schedtrace, mean); thr: its threads;"
echo "      sipp, dcap: SIPp's and dumpcap's CPU %; irq: interrupts and softirqs (loopback delivery); txmiss: Ringdesk's"
echo "      own tx counters against the callers' time, whole calls. Then the window's prompts (the on-hold message, each"
echo "      caller's mixer) and music apart, and the ramp (callers arriving at the step's rate, then waiting)."
printf '%6s %5s %6s %6s %6s %6s %6s %6s %6s %5s %6s %6s %5s %5s %6s %5s %6s %5s %5s %5s %5s %6s  %s\n' \
	"calls" "heard" "failed" "miss" "late" "gap50" "gap99" "g99.9" "gapmax" "jit" "glitch" "burst" "rdcpu" "us/c" "rd_rss" "heap" "runq" "thr" "sipp" "dcap" "irq" "others" "ringdesk"
printf '%6s %5s %6s %6s %6s %6s %6s %6s %6s %5s %6s %6s %5s %5s %6s %5s %6s %5s %5s %5s %5s %6s\n' \
	"" "" "" "%" "%" "ms" "ms" "ms" "ms" "ms" "%" "%" "%" "us" "MB" "MB" "" "" "%" "%" "%" "%"
BEST=0 BEST_LINE=
start_ringdesk
echo "      (Ringdesk: RSS $(mb "$RD_RSS0") MB idle; $QUEUES queues, agent bob $AGENT)"
for N in $STEPS; do
	ivr_step "$N" 1
	if [[ -n $S_STOP ]] && ((NOISY_PCT > 0 && S_OTHERS > NOISY_PCT)); then
		echo "       (other processes used ${S_OTHERS}% of a core meanwhile: once more)"
		ivr_step "$N" 2
	fi
	[[ -n $S_STOP ]] && { echo "  -> stop: $S_STOP"; break; }
done
stop_ringdesk

# ---------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== Summary ($(awk -v s="$(fsub "$(now)" "$T_START")" 'BEGIN{printf "%.0f", s}') s)"
echo "machine:        $NPROC x $CPU_MODEL; load average $LOAD_START at start, $LOAD_END at end"
echo "                SIPp and dumpcap share these cores with Ringdesk"
echo "pass mark:      in the window, missing < ${MAX_MISSING_PCT}% and gap p99 < ${MAX_P99_MS} ms, no failed call"
echo "best step:      ${BEST_LINE:-none of the steps passed}"
echo "ringdesk:       ${RD_SUMMARY[0]}"
for l in "${RD_SUMMARY[@]:1}"; do echo "                $l"; done
if ((${#PROBLEMS[@]})); then
	echo "problems:"
	printf '  - %s\n' "${PROBLEMS[@]}"
fi
echo "RESULT callers=$BEST music=$MUSIC caller_audio=$CALLER_AUDIO"
if ((KEEP || ${#PROBLEMS[@]})); then
	echo "logs kept in $WORK"
else
	rm -rf "$WORK"
fi
