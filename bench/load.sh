#!/usr/bin/env bash
# bench/load.sh: SIPp through Ringdesk on loopback (see bench/README.md).
#
#   1. highest call rate (CPS) with zero failed calls: a ramp of rates, short
#      calls (407 digest challenge, SDP, no RTP), a fresh SIPp pair per step;
#   2. most concurrent calls with RTP both ways (20 ms G.711, 50 pps per
#      direction, SIPp rtp_stream) at < 0.1% packet loss, counted with
#      Ringdesk's own per-call RTP counters.
#
# Usage: bench/load.sh [--quick] [--keep]
#   --quick   two small steps of each part, about a minute (smoke check)
#   --keep    keep the work directory (logs, SIPp CSVs) even when all went well
# Environment (defaults in brackets):
#   RINGDESK      Ringdesk binary [./bin/ringdesk; built into the work dir if missing]
#   STEPS_CPS     call rates of part 1 (empty: skip the part) ["100 200 400 800 1000 1200 1400 1600 2000 2500"]
#   STEP_SECS     seconds of calls per CPS step: calls = rate x STEP_SECS [10]
#   MAX_CALLS     cap on the calls of one CPS step [10000]
#   CPS_HOLD_MS   call length in part 1 [1000]
#   RETRANS_STORM_PCT  part 1 stops when SIP retransmissions exceed this % of
#                 the calls of a step (that step does not count) [5]
#   STEPS_CONC    concurrent calls of part 2 (empty: skip the part) ["250 500 1000 1250 1500 1750 2000 2500 3000"]
#   HOLD          seconds every call of a part-2 step is up at once [20]
#   RAMP_CPS      call rate used to set up part-2 calls [calls/4, within 200-500]
#   MAX_LOSS_PCT  part-2 pass mark [0.1]
#   MAX_QUEUE_MS  also fail a part-2 step when RTP waits this long on average in
#                 Ringdesk's socket buffers (0: not a criterion) [0]
#   CPU_SAT_PCT   part 2 stops once Ringdesk uses this share of the CPU the
#                 generator leaves it [90]
#   NOISY_PCT     other processes on this shared machine count as noise above
#                 this % of one core: each step first waits (at most QUIET_WAIT
#                 s [60]) for them to drop below it, and a failing step is run
#                 once more if they went above it meanwhile (0: neither) [30]
#   NETNS         1: run in a private network namespace (needs root; default
#                 when root), 0: share the host's loopback (free ports are picked)
#   WORK          work directory [mktemp -d /tmp/ringdesk-load.XXXXXX]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
QUICK=0 KEEP=${KEEP:-0}
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "load.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
	esac
done

if ((QUICK)); then
	: "${STEPS_CPS=50 200}" "${STEP_SECS:=5}" "${STEPS_CONC=100 250}" "${HOLD:=8}"
fi
: "${STEPS_CPS=100 200 400 800 1000 1200 1400 1600 2000 2500}"
: "${STEP_SECS:=10}" "${MAX_CALLS:=10000}" "${CPS_HOLD_MS:=1000}"
: "${STEPS_CONC=250 500 1000 1250 1500 1750 2000 2500 3000}"
: "${HOLD:=20}" "${RAMP_CPS:=}" "${MAX_LOSS_PCT:=0.1}" "${CPU_SAT_PCT:=90}" "${NOISY_PCT:=30}" "${QUIET_WAIT:=60}" "${RETRANS_STORM_PCT:=5}" "${MAX_QUEUE_MS:=0}"
: "${RINGDESK:=$ROOT/bin/ringdesk}"
export STEPS_CPS STEP_SECS MAX_CALLS CPS_HOLD_MS STEPS_CONC HOLD RAMP_CPS MAX_LOSS_PCT CPU_SAT_PCT NOISY_PCT QUIET_WAIT RETRANS_STORM_PCT MAX_QUEUE_MS KEEP QUICK

die() { echo "load.sh: $*" >&2; exit 1; }
command -v sipp >/dev/null || die "sipp not found: run 'make peers' (or test/peers/install.sh)"
[[ $(sipp -v 2>&1) == *RTPSTREAM* ]] || die "this sipp lacks RTPSTREAM (need SIPp >= 3.6 built with it; Debian's sip-tester is)"

# ---------------------------------------------------------------------------
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# Outside the namespace: build if needed and re-enter in a private one (see
# enter_namespace). Inside: the work dir and the machine's facts.
enter_namespace "$@"
inside_setup

# rtp_queue PID PORT: bytes waiting in the process's UDP sockets other than
# PORT (its RTP sockets): "total largest"
rtp_queue() {
	find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -d 'socket:[]' |
		awk -v port="$(printf '%04X' "$2")" 'NR==FNR{ino[$1]=1; next}
			FNR>1 && ($10 in ino){ split($2, a, ":"); if (a[2] == port) next
				split($5, q, ":"); n = 0; h = toupper(q[2])
				for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
				t += n; if (n > m) m = n }
			END{print t+0, m+0}' - /proc/net/udp
}
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
# Ringdesk: config, start, register the callee (1002 = the SIPp UAS address).
if ((NETNS)); then
	RD_PORT=5060 UAS_PORT=5070 UAC_PORT=5080 UAS_MP=16000 UAC_MP=17000
else
	RD_PORT=$(free_udp_port) UAS_PORT=$(free_udp_port) UAC_PORT=$(free_udp_port)
	UAS_MP=$(free_udp_port) UAC_MP=$(free_udp_port)
fi
RTP_PORTS=${RTP_PORTS:-20000-59999}
cat >ringdesk.yaml <<EOF
# written by bench/load.sh
sip:
  listen: ["udp://127.0.0.1:$RD_PORT"]
  realm: ringdesk
rtp:
  address: 127.0.0.1
  ports: $RTP_PORTS
  media_timeout: 5m
calls:
  shutdown_grace: 10s
data_dir: ./ringdesk-data
agents:
  - id: alice
    extension: "1001"
    sip_password: alice-1001
  - id: bob
    extension: "1002"
    sip_password: bob-1002
EOF
# start_ringdesk NAME: a fresh Ringdesk (log NAME.log, its own data dir), with
# 1002 registered at the SIPp UAS address. Sets RDPID RDLOG RD_SOCK0 RD_RSS0.
start_ringdesk() {
	RDLOG=$WORK/$1.log
	sed "s|data_dir: .*|data_dir: ./$1-data|" ringdesk.yaml >"$1.yaml"
	# gctrace: one line per GC on stderr (the log), with the live heap after it
	GODEBUG=${GODEBUG:+$GODEBUG,}gctrace=1 "$RINGDESK" -config "$1.yaml" -log-format json >"$1.out" 2>"$RDLOG" &
	RDPID=$!
	for _ in $(seq 100); do grep -q 'SIP:' "$1.out" 2>/dev/null && break; kill -0 $RDPID 2>/dev/null || break; sleep 0.05; done
	grep -q 'SIP:' "$1.out" || { cat "$1.out" "$RDLOG" >&2; die "Ringdesk did not start"; }
	timeout 15 sipp "127.0.0.1:$RD_PORT" -sf "$ROOT/test/peers/sipp/register.xml" -i 127.0.0.1 -p "$UAS_PORT" \
		-mp "$UAS_MP" -s 1002 -au 1002 -ap bob-1002 -key expires 3600 -m 1 -nostdin -timeout 10s >/dev/null 2>&1 ||
		die "REGISTER of 1002 failed"
	sleep 0.5
	RD_SOCK0=$(nsock $RDPID)
	RD_RSS0=$(rss_kb $RDPID)
	CALLS_PLACED=0
}
# stop_ringdesk NAME: SIGTERM (no call should be left, so it ends at once),
# then check that every call placed was started and ended; prints a summary line.
stop_ringdesk() {
	local rss_end thr total rc
	rss_end=$(rss_kb $RDPID); thr=$(awk '/^Threads:/{print $2}' /proc/$RDPID/status)
	kill -TERM $RDPID
	for _ in $(seq 150); do kill -0 $RDPID 2>/dev/null || break; sleep 0.1; done
	if kill -0 $RDPID 2>/dev/null; then
		note_problem "$1: Ringdesk still running 15 s after SIGTERM (calls left over?): second SIGTERM"
		kill -TERM $RDPID
	fi
	wait $RDPID 2>/dev/null
	rc=$?
	RDPID=
	total=$(calls_summary <"$RDLOG")
	((rc != 0)) && note_problem "$1: Ringdesk exited with status $rc"
	(($(kv "$total" started) != CALLS_PLACED)) && note_problem "$1: SIPp placed $CALLS_PLACED calls, Ringdesk logged $(kv "$total" started) 'call started'"
	(($(kv "$total" open) != 0)) && note_problem "$1: Ringdesk logged $(kv "$total" started) 'call started' but $(kv "$total" ended) 'call ended'"
	RD_SUMMARY+=("$(printf '%-6s %6d calls placed, %d ended (%s); %d WARN, %d ERROR log lines; RSS %s MB idle, %s MB after the last step (%s threads)' \
		"$1:" "$CALLS_PLACED" "$(kv "$total" ended)" "$(kv "$total" causes)" "$(kv "$total" warn)" "$(kv "$total" err)" \
		"$(mb "$RD_RSS0")" "$(mb "${rss_end:-0}")" "$thr")")
	while read -r l; do RD_SUMMARY+=("         log: $l"); done < <(grep '^problem=' <<<"$total" | sed 's/^problem=//')
}
RD_SUMMARY=()
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(now)

# -abortunexp off: a message a scenario does not expect (a late retransmission
# after a generator stall) is logged and ignored instead of failing the call;
# step_problems counts them.
SIPP_COMMON=(-nostdin -buff_size 4194304 -default_behaviors all,-abortunexp -trace_err -max_log_size 2000000 -trace_stat -fd 1)

echo "Ringdesk load test, $(date -u '+%Y-%m-%d %H:%M UTC'), ringdesk $("$RINGDESK" version 2>/dev/null | cut -d' ' -f2)"
echo "machine:  $NPROC x $CPU_MODEL, load average at start $LOAD_START"
if ((NETNS)); then
	echo "network:  private network namespace (its loopback and UDP counters are ours alone)"
else
	echo "network:  host loopback, shared with whatever else runs (UDP counters too)"
fi
echo "NOTE:     SIPp (the generator, 2 processes) runs on the same $NPROC cores as Ringdesk."
echo "          CPU % is of one core (the machine has $((NPROC * 100)) %); 'others' is what other"
echo "          processes on this shared machine used meanwhile."
echo "work dir: $WORK"

calls_summary() {
	awk '
	function num(s, k,   i) { i = index(s, "\"" k "\":"); if (!i) return 0; return substr(s, i + length(k) + 3) + 0 }
	function str(s, k,   i, r) { i = index(s, "\"" k "\":\""); if (!i) return ""; r = substr(s, i + length(k) + 4); return substr(r, 1, index(r, "\"") - 1) }
	function grp(s, k,   i, r) { i = index(s, "\"" k "\":{"); if (!i) return ""; r = substr(s, i); return substr(r, 1, index(r, "}")) }
	function secs(s,   t) { t = substr(str(s, "time"), 12); return substr(t,1,2)*3600 + substr(t,4,2)*60 + substr(t,7) }
	/"msg":"call started"/ {
		own[str($0, "call_id")] = 1
		t = secs($0); if (!started) first = t; if (t < first) t += 86400; last = t; started++
	}
	/"msg":"call ended"/ {
		if (!(str($0, "call_id") in own)) { leftover++; next }
		ended++
		c = str($0, "cause") "/" num($0, "status"); causes[c]++
		if (str($0, "cause") != "normal") abnormal++
		a = grp($0, "caller_rtp"); b = grp($0, "callee_rtp")
		arx += num(a, "rx_packets"); atx += num(a, "tx_packets")
		brx += num(b, "rx_packets"); btx += num(b, "tx_packets")
	}
	/^gc [0-9]+ @/ { if (match($0, /[0-9]+->[0-9]+->[0-9]+ MB/)) { split(substr($0, RSTART, RLENGTH - 3), h, "->"); if (h[3] + 0 > heap) heap = h[3] + 0 } }
	/"level":"(WARN|ERROR)"/ {
		lvl = str($0, "level"); m = lvl ": " str($0, "msg"); e = str($0, "error"); if (e != "") m = m " (" e ")"
		if (!(m in probs)) order[++np] = m
		probs[m]++
		if (lvl == "ERROR") nerr++; else nwarn++
	}
	END {
		printf "started=%d ended=%d open=%d leftover=%d abnormal=%d warn=%d err=%d\n", started, ended, started - ended, leftover, abnormal, nwarn, nerr
		printf "caller_rx=%d caller_tx=%d callee_rx=%d callee_tx=%d\n", arx, atx, brx, btx
		printf "rate=%.0f heap=%d\n", (started > 1 && last > first) ? (started - 1) / (last - first) : 0, heap
		s = ""; for (c in causes) s = s (s == "" ? "" : ",") c "=" causes[c]; printf "causes=%s\n", s
		for (i = 1; i <= np && i <= 8; i++) printf "problem=%dx %s\n", probs[order[i]], order[i]
	}'
}


# wait_quiet: before a step, wait (at most QUIET_WAIT s) until the other
# processes of this shared machine use at most NOISY_PCT % of a core.
wait_quiet() {
	local t0=$SECONDS b0 b1 r0 r1 o
	((NOISY_PCT > 0)) || return 0
	while :; do
		b0=$(busy_ticks); r0=$(ticks $RDPID); sleep 1; b1=$(busy_ticks); r1=$(ticks $RDPID)
		o=$(pct $((b1 - b0 - (r1 - r0))) 1)
		((o <= NOISY_PCT || SECONDS - t0 >= QUIET_WAIT)) && break
	done
	((SECONDS - t0 > 1)) && echo "       (waited $((SECONDS - t0)) s for other processes to calm down; now they use ${o}% of a core)"
	return 0
}

PROBLEMS=()

# ---------------------------------------------------------------------------
# Part 1: call rate ramp.
# cps_step RATE TRY: runs one step, prints its row; sets C_FAILED, C_STOP, C_OTHERS.
cps_step() {
	local R=$1 try=$2 N D T_MAX off e0 r0 e1 r1 d0 d1 rd0 rd1 b0 b1 t0 t1 rss_max=0 r uas uac t_start
	N=$((R * STEP_SECS)); ((N > MAX_CALLS)) && N=$MAX_CALLS
	wait_quiet
	D=$WORK/cps-$R-$try; mkdir -p "$D"; cd "$D" || die "cd $D"
	T_MAX=$((N / R + CPS_HOLD_MS / 1000 + 40))
	off=$(logsize); read -r e0 r0 _ _ <<<"$(udp_snmp)"; read -r d0 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	rd0=$(ticks $RDPID); b0=$(busy_ticks); t0=$(now); t_start=$SECONDS
	run_sipp uas -sf "$HERE/sipp/uas_cps.xml" -i 127.0.0.1 -p "$UAS_PORT" -mi 127.0.0.1 -mp "$UAS_MP" \
		-s 1002 -m "$N" -timeout "${T_MAX}s" -stf uas.csv "${SIPP_COMMON[@]}"
	uas=$SIPP_PID
	sleep 0.2
	run_sipp uac "127.0.0.1:$RD_PORT" -sf "$HERE/sipp/uac_cps.xml" -i 127.0.0.1 -p "$UAC_PORT" \
		-mi 127.0.0.1 -mp "$UAC_MP" -s 1002 -key caller 1001 -au 1001 -ap alice-1001 \
		-d "$CPS_HOLD_MS" -r "$R" -l $((R * 4 + 100)) -m "$N" -recv_timeout 15000 -timeout "${T_MAX}s" \
		-stf uac.csv "${SIPP_COMMON[@]}"
	uac=$SIPP_PID
	while ! sipp_done uac; do
		r=$(rss_kb $RDPID); ((r > rss_max)) && rss_max=$r
		((SECONDS > t_start + T_MAX + 20)) && { stop_pid "$uac"; sleep 0.5; break; }
		sleep 0.25
	done
	t1=$(now); rd1=$(ticks $RDPID); b1=$(busy_ticks)
	wait_sipp uas 4
	local idle_ok=1; wait_idle 20 || idle_ok=0
	wait_ended "$off" 40
	read -r e1 r1 _ _ <<<"$(udp_snmp)"; read -r d1 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	local sum created ok f_uac f_uas rt_uac rt_uas rtime failed retrans wall rdcpu scpu others note
	sum=$(log_slice "$off" | calls_summary)
	created=$(csv_last uac.csv TotalCallCreated); ok=$(csv_last uac.csv 'SuccessfulCall(C)')
	f_uac=$(csv_last uac.csv 'FailedCall(C)'); f_uas=$(csv_last uas.csv 'FailedCall(C)')
	rt_uac=$(csv_last uac.csv 'Retransmissions(C)'); rt_uas=$(csv_last uas.csv 'Retransmissions(C)')
	rtime=$(rt_ms "$(csv_last uac.csv 'ResponseTime1(C)')")
	CALLS_PLACED=$((CALLS_PLACED + created))
	failed=$((f_uac + f_uas + (created > ok + f_uac ? created - ok - f_uac : 0) + N - created))
	retrans=$((rt_uac + rt_uas))
	wall=$(fsub "$t1" "$t0")
	local sticks=$(($(sipp_ticks uac) + $(sipp_ticks uas)))
	rdcpu=$(pct $((rd1 - rd0)) "$wall")
	scpu=$(pct "$sticks" "$wall")
	others=$(pct $((b1 - b0 - (rd1 - rd0) - sticks)) "$wall"); ((others < 0)) && others=0
	note=$(ringdesk_note "$sum")
	((d1 > d0)) && note+=" sip_sock_drops=$((d1 - d0))"
	local mspc heap
	mspc=$(awk -v t=$((rd1 - rd0)) -v c="$created" -v hz="$HZ" 'BEGIN{printf "%.2f", (c > 0 ? 1000 * t / hz / c : 0)}')
	heap=$(kv "$sum" heap); ((heap > 0)) || heap=- # no GC during the step
	printf '%5d %5s %6d %6d %6d %7d %7s %6s %7s %6s %7s %6s %6s %6d %6d  %s\n' "$R" "$(kv "$sum" rate)" "$created" "$ok" \
		"$failed" "$retrans" "$rtime" "$rdcpu" "$mspc" "$(mb "$rss_max")" "$heap" "$scpu" "$others" $((e1 - e0)) $((r1 - r0)) "$note"
	echo "$R $try $created $ok $failed $retrans $rtime $rdcpu $mspc $rss_max $heap $scpu $others $((e1 - e0)) $((r1 - r0)) $(kv "$sum" rate)" >>"$WORK/cps.dat"
	step_problems "CPS $R" "$sum" "$created" "$idle_ok"
	cd "$WORK" || die "cd"
	C_FAILED=$failed C_OTHERS=$others C_STOP=
	if ((failed > 0)); then C_STOP="failed calls"
	elif ((retrans * 100 > created * RETRANS_STORM_PCT + 1000)); then C_STOP="retransmission storm (over ${RETRANS_STORM_PCT}% of the calls)"
	elif (($(kv "$sum" rate) < R * 8 / 10)); then C_STOP="the generator could not reach the rate"
	else
		BEST_CPS=$R
		BEST_CPS_LINE="$R CPS ($created calls, 0 failed, $retrans retransmissions = $(awk -v r="$retrans" -v c="$created" 'BEGIN{printf "%.1f", 100*r/c}')%, response ${rtime} ms): Ringdesk ${rdcpu}% CPU = ${mspc} ms CPU per call, RSS up to $(mb "$rss_max") MB (live heap ${heap} MB); SIPp ${scpu}% CPU; others ${others}%"
	fi
}

echo
echo "== 1. Call rate: ${CPS_HOLD_MS} ms calls (INVITE, 407, INVITE with credentials, 180, 200, ACK, BYE; SDP, no RTP),"
echo "      $STEP_SECS s of calls per step (at most $MAX_CALLS calls), fresh SIPp processes per step"
echo "      rd_*: Ringdesk (cpu: % of one core; ms/call: CPU per call; rss: peak RSS; heap: live heap after GC),"
echo "      sipp: both SIPp processes; others: the rest of this machine; udp_err/rcvbuf: kernel UDP InErrors/RcvbufErrors"
printf '%5s %5s %6s %6s %6s %7s %7s %6s %7s %6s %7s %6s %6s %6s %6s  %s\n' \
	"cps" "got" "calls" "ok" "failed" "retrans" "resp_ms" "rd_cpu" "ms/call" "rd_rss" "rd_heap" "sipp" "others" "udperr" "rcvbuf" "ringdesk"
printf '%5s %5s %6s %6s %6s %7s %7s %6s %7s %6s %7s %6s %6s %6s %6s\n' "" "" "" "" "" "" "" "%" "" "MB" "MB" "%" "%" "" ""
BEST_CPS=0 BEST_CPS_LINE=
[[ -n ${STEPS_CPS// /} ]] && start_ringdesk cps
for R in $STEPS_CPS; do
	cps_step "$R" 1
	if [[ -n $C_STOP ]] && ((NOISY_PCT > 0 && C_OTHERS > NOISY_PCT)); then
		echo "       (other processes used ${C_OTHERS}% of a core meanwhile: once more)"
		cps_step "$R" 2
	fi
	[[ -n $C_STOP ]] && { echo "  -> stop: $C_STOP"; break; }
done
[[ -n ${STEPS_CPS// /} ]] && stop_ringdesk cps

# ---------------------------------------------------------------------------
# Part 2: concurrent calls with RTP both ways.
# conc_step CALLS TRY: sets M_STOP, M_OTHERS.
conc_step() {
	local N=$1 try=$2 RR RAMP F K DMS D T_MAX off e0 r0 e1 r1 t0 uas uac up_deadline tup win
	if [[ -n $RAMP_CPS ]]; then RR=$RAMP_CPS; else
		RR=$((N / 4)); ((RR < 200)) && RR=200; ((RR > 500)) && RR=500
	fi
	RAMP=$(((N + RR - 1) / RR))
	F=$((RAMP + HOLD + 3))   # seconds of RTP each leg sends: one pass of the file
	K=$((F * 50))            # so exactly K packets per direction per call
	DMS=$((F * 1000 + 1500)) # BYE this long after the ACK: stream over, then 1.5 s quiet
	wait_quiet
	D=$WORK/conc-$N-$try; mkdir -p "$D"; cd "$D" || die "cd $D"
	head -c $((K * 160)) /dev/zero | tr '\0' '\377' >bench-media.ulaw # u-law silence, 160 B per 20 ms
	T_MAX=$((RAMP + F + 40))
	off=$(logsize); read -r e0 r0 _ _ <<<"$(udp_snmp)"; read -r sipd0 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	run_sipp uas -sf "$HERE/sipp/uas_media.xml" -i 127.0.0.1 -p "$UAS_PORT" -mi 127.0.0.1 -mp "$UAS_MP" \
		-s 1002 -m "$N" -timeout "${T_MAX}s" -stf uas.csv "${SIPP_COMMON[@]}"
	uas=$SIPP_PID
	sleep 0.2
	run_sipp uac "127.0.0.1:$RD_PORT" -sf "$HERE/sipp/uac_media.xml" -i 127.0.0.1 -p "$UAC_PORT" \
		-mi 127.0.0.1 -mp "$UAC_MP" -s 1002 -key caller 1001 -au 1001 -ap alice-1001 \
		-d "$DMS" -r "$RR" -l $((N + 10)) -m "$N" -recv_timeout 15000 -timeout "${T_MAX}s" \
		-stf uac.csv "${SIPP_COMMON[@]}"
	uac=$SIPP_PID
	t0=$(now)
	# wait until all N calls are up: Ringdesk has 2 RTP sockets per call
	up_deadline=$(later $((2 * RAMP + 10)))
	while (($(nsock $RDPID) < RD_SOCK0 + 2 * N)); do
		past "$up_deadline" && break
		sipp_done uac && break
		sleep 0.1
	done
	tup=$(now)
	# the first call's stream ends about F s after t0: keep the window inside it
	win=$(awk -v f="$F" -v e="$(fsub "$tup" "$t0")" -v h="$HOLD" 'BEGIN{w = f - e - 2; if (w > h) w = h; if (w < 1) w = 1; printf "%.1f", w}')
	sleep 1 # the last calls' streams start
	local own0 own1 rd0 rd1 u0 u1 s0 s1 b0 b1 w0 w1 held rss_peak srss rtpd sipd1
	own0=$(log_slice "$off" | calls_summary); own0=$(kv "$own0" ended)
	rd0=$(ticks $RDPID); u0=$(ticks "$uac"); s0=$(ticks "$uas"); b0=$(busy_ticks); w0=$(now)
	# 5 looks at the RTP packets waiting in Ringdesk's sockets during the window
	local qsum=0 qmax=0 qt qm slice
	slice=$(awk -v w="$win" 'BEGIN{print (w > 1.5 ? (w - 1) / 5 : 0.1)}')
	for _ in 1 2 3 4 5; do
		sleep "$slice"
		read -r qt qm <<<"$(rtp_queue $RDPID "$RD_PORT")"
		qsum=$((qsum + qt)); ((qm > qmax)) && qmax=$qm
	done
	rd1=$(ticks $RDPID); u1=$(ticks "$uac"); s1=$(ticks "$uas"); b1=$(busy_ticks); w1=$(now)
	held=$((($(nsock $RDPID) - RD_SOCK0) / 2)); ((held > N)) && held=$N
	rss_peak=$(rss_kb $RDPID); srss=$(($(rss_kb "$uac") + $(rss_kb "$uas")))
	read -r _ rtpd <<<"$(sock_drops $RDPID "$RD_PORT")" # RTP sockets close with their calls: now
	own1=$(log_slice "$off" | calls_summary); own1=$(kv "$own1" ended)
	wait_sipp uac $((T_MAX + 20))
	wait_sipp uas 4
	local idle_ok=1; wait_idle 20 || idle_ok=0
	wait_ended "$off" 40
	read -r e1 r1 _ _ <<<"$(udp_snmp)"; read -r sipd1 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	local retrans=$(($(csv_last uac.csv 'Retransmissions(C)') + $(csv_last uas.csv 'Retransmissions(C)')))
	local sum created ok f_uac f_uas failed ended loss inloss pps uspkt rdcpu scpu others kbcall note
	sum=$(log_slice "$off" | calls_summary)
	created=$(csv_last uac.csv TotalCallCreated); ok=$(csv_last uac.csv 'SuccessfulCall(C)')
	f_uac=$(csv_last uac.csv 'FailedCall(C)'); f_uas=$(csv_last uas.csv 'FailedCall(C)')
	CALLS_PLACED=$((CALLS_PLACED + created))
	failed=$((f_uac + f_uas + (created > ok + f_uac ? created - ok - f_uac : 0) + N - created))
	ended=$(kv "$sum" ended)
	local heap; heap=$(kv "$sum" heap)
	read -r loss inloss pps uspkt rdcpu scpu others kbcall hkbcall qms qmaxms <<<"$(awk -v n="$N" -v k="$K" -v f="$F" \
		-v arx="$(kv "$sum" caller_rx)" -v atx="$(kv "$sum" caller_tx)" -v brx="$(kv "$sum" callee_rx)" -v btx="$(kv "$sum" callee_tx)" \
		-v rdt=$((${rd1:-0} - ${rd0:-0})) -v st=$((${u1:-0} - ${u0:-0} + ${s1:-0} - ${s0:-0})) -v bt=$((b1 - b0)) \
		-v hz="$HZ" -v w="$(fsub "$w1" "$w0")" -v held="$held" -v rss="$rss_peak" -v rss0="$RD_RSS0" -v heap="$heap" -v qsum="$qsum" -v qmax="$qmax" 'BEGIN{
		sent = 2 * n * k                    # packets SIPp sends to Ringdesk, both directions
		rx = arx + brx; tx = atx + btx      # received from the phones; forwarded to the other phone
		loss = sent > 0 ? 100 * (1 - tx / sent) : 0; inloss = sent > 0 ? 100 * (1 - rx / sent) : 0
		pps = (rx + tx) / f                 # every call streams f s, all together most of the time
		fw = held * 100 * w                 # packets forwarded during the window
		oth = 100 * (bt - rdt - st) / hz / w; if (oth < 0) oth = 0
		# queueing delay (Little law): packets waiting / arrival rate; a
		# 172-byte RTP datagram takes 832 bytes of socket buffer on loopback
		qms = held > 0 ? 1000 * (qsum / 5 / 832) / (held * 100) : 0
		qmaxms = qmax / 832                  # packets in the fullest socket
		printf "%.3f %.3f %.0f %.1f %.0f %.0f %.0f %.0f %.0f %.1f %.0f\n", loss, inloss, pps, (fw > 0 ? 1e6 * rdt / hz / fw : 0),
			100 * rdt / hz / w, 100 * st / hz / w, oth, (held > 0 ? (rss - rss0) / held : 0), (held > 0 ? 1024 * heap / held : 0), qms, qmaxms }')"
	note="$(ringdesk_note "$sum")"
	((retrans > 0)) && note+=" sip_retrans=$retrans"
	((sipd1 > sipd0)) && note+=" sip_sock_drops=$((sipd1 - sipd0))"
	note+=" rx=$(($(kv "$sum" caller_rx) + $(kv "$sum" callee_rx))) tx=$(($(kv "$sum" caller_tx) + $(kv "$sum" callee_tx))) sent=$((2 * N * K))"
	printf '%5d %5d %6d %7d %6s %6s %6s %6s %5s %6s %6s %7s %6s %7s %6s %6s %7d %8d  %s\n' "$N" "$held" "$failed" "$pps" "$loss" "$inloss" \
		"$qms" "$qmaxms" "$rdcpu" "$uspkt" "$(mb "$rss_peak")" "$heap" "$kbcall" "$hkbcall" "$scpu" "$others" "$rtpd" $((r1 - r0)) "$note"
	echo "$N $try $held $failed $pps $loss $inloss $rdcpu $uspkt $rss_peak $heap $kbcall $hkbcall $scpu $others $rtpd $((r1 - r0)) $ended $srss $retrans $((sipd1 - sipd0)) $qms $qmaxms" >>"$WORK/conc.dat"
	step_problems "$N calls" "$sum" "$created" "$idle_ok"
	((own1 > own0)) && note_problem "$N calls: $((own1 - own0)) calls ended during the measurement window"
	((held < N)) && note_problem "$N calls: only $held of $N were up together (set up at $RR CPS)"
	cd "$WORK" || die "cd"
	local pass avail sat
	pass=$(awk -v l="$loss" -v m="$MAX_LOSS_PCT" 'BEGIN{print (l < m) ? 1 : 0}')
	avail=$(awk -v s="$scpu" -v p="$NPROC" 'BEGIN{print p*100 - s}')
	sat=$(awk -v r="$rdcpu" -v a="$avail" -v c="$CPU_SAT_PCT" 'BEGIN{print (r >= a * c / 100) ? 1 : 0}')
	M_OTHERS=$others M_STOP=
	local qok; qok=$(awk -v q="$qms" -v m="$MAX_QUEUE_MS" 'BEGIN{print (m <= 0 || q < m) ? 1 : 0}')
	if ((!pass)); then M_STOP="loss ${loss}% >= ${MAX_LOSS_PCT}%"
	elif ((!qok)); then M_STOP="RTP waits ${qms} ms >= ${MAX_QUEUE_MS} ms in Ringdesk's sockets"
	elif ((failed > 0)); then M_STOP="failed calls"
	elif ((held < N)); then M_STOP="the calls could not all be up together"
	else
		BEST_CONC=$N
		BEST_CONC_LINE="$N calls ($pps pps through Ringdesk, loss ${loss}%, packets wait ${qms} ms in its sockets on average): Ringdesk ${rdcpu}% CPU = ${uspkt} us CPU per forwarded packet, RSS $(mb "$rss_peak") MB = ${kbcall} KB per call (live heap ${heap} MB = ${hkbcall} KB per call); SIPp ${scpu}% CPU; others ${others}%"
		((sat)) && M_STOP="Ringdesk CPU ${rdcpu}% >= ${CPU_SAT_PCT}% of the ${avail}% SIPp leaves it (saturated)"
	fi
	return 0
}

echo
echo "== 2. Concurrent calls with RTP both ways (G.711, 20 ms: 50 pps per direction per leg, 200 pps per call"
echo "      through Ringdesk), all calls up together for ${HOLD} s; loss from Ringdesk's per-call counters"
echo "      pps: packets/s in+out of Ringdesk; loss: not forwarded of what SIPp sent; inloss: not received;"
echo "      queue: mean time RTP packets wait in Ringdesk's sockets (Little's law over 5 looks), maxq: packets"
echo "      in the fullest socket seen; us/pkt: Ringdesk CPU per forwarded packet; KB/c: (RSS - idle RSS), live heap per call;"
echo "      rtpdrop: kernel drops on Ringdesk's RTP sockets; rcvbuf: all RcvbufErrors (SIPp never reads its RTP)"
printf '%5s %5s %6s %7s %6s %6s %6s %6s %5s %6s %6s %7s %6s %7s %6s %6s %7s %8s  %s\n' \
	"calls" "held" "failed" "pps" "loss" "inloss" "queue" "maxq" "rdcpu" "us/pkt" "rd_rss" "rd_heap" "KB/c" "heapKB/c" "sipp" "others" "rtpdrop" "rcvbuf" "ringdesk"
printf '%5s %5s %6s %7s %6s %6s %6s %6s %5s %6s %6s %7s %6s %7s %6s %6s %7s %8s\n' "" "" "" "" "%" "%" "ms" "pkts" "%" "" "MB" "MB" "" "" "%" "%" "" ""
BEST_CONC=0 BEST_CONC_LINE=
if [[ -n ${STEPS_CONC// /} ]]; then
	start_ringdesk media
	echo "      (a fresh Ringdesk for this part: RSS $(mb "$RD_RSS0") MB idle)"
fi
for N in $STEPS_CONC; do
	conc_step "$N" 1
	if [[ -n $M_STOP && $M_STOP != Ringdesk* ]] && ((NOISY_PCT > 0 && M_OTHERS > NOISY_PCT)); then
		echo "       (other processes used ${M_OTHERS}% of a core meanwhile: once more)"
		conc_step "$N" 2
	fi
	[[ -n $M_STOP ]] && { echo "  -> stop: $M_STOP"; break; }
done
[[ -n ${STEPS_CONC// /} ]] && stop_ringdesk media

# ---------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "== Summary ($(awk -v s="$(fsub "$(now)" "$T_START")" 'BEGIN{printf "%.0f", s}') s)"
echo "machine:        $NPROC x $CPU_MODEL; load average $LOAD_START at start, $LOAD_END at end"
echo "                the generator (2 SIPp processes) shares these cores with Ringdesk"
[[ -z ${STEPS_CPS// /} ]] && BEST_CPS_LINE="(skipped)"
[[ -z ${STEPS_CONC// /} ]] && BEST_CONC_LINE="(skipped)"
echo "best call rate: ${BEST_CPS_LINE:-none of the steps was clean}"
echo "best media:     ${BEST_CONC_LINE:-none of the steps passed}"
echo "ringdesk:"
printf '  %s\n' "${RD_SUMMARY[@]}"
if ((${#PROBLEMS[@]})); then
	echo "problems:"
	printf '  - %s\n' "${PROBLEMS[@]}"
fi
echo "RESULT cps=$BEST_CPS concurrent=$BEST_CONC"
if ((KEEP || ${#PROBLEMS[@]})); then
	echo "logs kept in $WORK"
else
	rm -rf "$WORK"
fi
