#!/usr/bin/env bash
# bench/trunks.sh: SIP trunks under load, SIPp on loopback (see bench/README.md,
# "Trunks").
#
#   1. inbound trunk calls per second: a provider (SIPp on 127.0.0.2, the
#      trunk's network, no digest) calls a DID in national form; the mapped
#      extension 1002 (a registered SIPp UAS) answers. Each rate is run with
#      extension calls too (as load.sh part 1: 1001 calls 1002 with a 407
#      challenge), one right after the other, each kind on its own Ringdesk
#      (same config), so that the two are compared on the same machine at
#      the same time, each with load.sh's step history;
#   2. trunk registrations: N trunks (each its own user name) registering
#      with one SIPp registrar (digest, every REGISTER challenged, a short
#      grant): the time until `ringdesk status` shows all N registered, then
#      the refreshes per second sustained without failures (N / (grant / 2):
#      Ringdesk refreshes at half of a short grant).
#
# Usage: bench/trunks.sh [--quick] [--keep]     (part 1 ~3-4 min, part 2 ~3.5 min)
#   --quick   small steps of both parts, about a minute (smoke check)
#   --keep    keep the work directory (logs, SIPp CSVs) even when all went well
# Environment (defaults in brackets):
#   RINGDESK      Ringdesk binary [./bin/ringdesk; built into the work dir if missing]
#   STEPS_CPS     call rates of part 1 (empty: skip the part) ["200 400 800 1000 1200 1400 1600 2000 2500 3000"]
#   CPS_KINDS     the calls of each part-1 rate, in this order ["trunk ext"]
#   STEP_SECS     seconds of calls per CPS step: calls = rate x STEP_SECS [10]
#   MAX_CALLS     cap on the calls of one CPS step [10000]
#   CPS_HOLD_MS   call length in part 1 [1000]
#   RETRANS_STORM_PCT  a CPS step fails when SIP retransmissions exceed this %
#                 of its calls [5]
#   STEPS_REG     trunk counts of part 2 (empty: skip the part) ["200 1000 2000 5000 8000"]
#   GRANT         seconds the registrar grants; Ringdesk refreshes every GRANT/2 s [10]
#   REG_SUSTAIN   seconds of refreshes measured once all trunks are registered,
#                 rounded up to whole refresh intervals [30]
#   REG_UP_TIMEOUT  seconds allowed until all trunks are registered [60]
#   REG_POLL      seconds between `ringdesk status` looks during the window [2]
#   NOISY_PCT     other processes on this shared machine count as noise above
#                 this % of one core: each step first waits (at most QUIET_WAIT
#                 s [60]) for them to drop below it, and a failing step is run
#                 once more if they went above it meanwhile (0: neither) [30]
#   NETNS         1: run in a private network namespace (needs root; default
#                 when root), 0: share the host's loopback (free ports are picked)
#   WORK          work directory [mktemp -d /tmp/ringdesk-trunks.XXXXXX]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
QUICK=0 KEEP=${KEEP:-0}
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "trunks.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
	esac
done

if ((QUICK)); then
	: "${STEPS_CPS=50 200}" "${STEP_SECS:=5}" "${STEPS_REG=200 1000}" "${REG_SUSTAIN:=10}"
fi
: "${STEPS_CPS=200 400 800 1000 1200 1400 1600 2000 2500 3000}" "${CPS_KINDS:=trunk ext}"
: "${STEP_SECS:=10}" "${MAX_CALLS:=10000}" "${CPS_HOLD_MS:=1000}" "${RETRANS_STORM_PCT:=5}"
: "${STEPS_REG=200 1000 2000 5000 8000}" "${GRANT:=10}" "${REG_SUSTAIN:=30}" "${REG_UP_TIMEOUT:=60}" "${REG_POLL:=2}"
: "${NOISY_PCT:=30}" "${QUIET_WAIT:=60}"
: "${RINGDESK:=$ROOT/bin/ringdesk}"
export STEPS_CPS CPS_KINDS STEP_SECS MAX_CALLS CPS_HOLD_MS RETRANS_STORM_PCT STEPS_REG GRANT REG_SUSTAIN REG_UP_TIMEOUT REG_POLL NOISY_PCT QUIET_WAIT KEEP QUICK

die() { echo "trunks.sh: $*" >&2; exit 1; }
command -v sipp >/dev/null || die "sipp not found: run 'make peers' (or test/peers/install.sh)"
((GRANT >= 2)) || die "GRANT must be 2 s or more"

# ---------------------------------------------------------------------------
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# Outside the namespace: build if needed and re-enter in a private one (see
# enter_namespace). Inside: the work dir and the machine's facts.
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
# Addresses. The provider is 127.0.0.2 (the trunk's network); phones and
# Ringdesk are on 127.0.0.1.
PROV_IP=127.0.0.2
if ((NETNS)); then
	RD_PORT=5060 RD_PORT2=5062 UAS_PORT=5070 UAC_PORT=5080 PROV_PORT=5060 UAS_MP=16000 UAC_MP=17000
else
	RD_PORT=$(free_udp_port) RD_PORT2=$(free_udp_port) UAS_PORT=$(free_udp_port) UAC_PORT=$(free_udp_port)
	PROV_PORT=$(free_udp_port) UAS_MP=$(free_udp_port) UAC_MP=$(free_udp_port)
fi
DID=+351210000000 DID_NATIONAL=210000000 CLI=+351912345678
TRUNK_PASS=tb-secret

# config_head NAME [PORT [RTP_PORTS]]: the config shared by both parts, data
# in NAME-data
config_head() {
	cat <<EOF
# written by bench/trunks.sh
sip:
  listen: ["udp://127.0.0.1:${2:-$RD_PORT}"]
  realm: ringdesk
rtp:
  address: 127.0.0.1
  ports: ${3:-20000-59999}
  media_timeout: 5m
calls:
  shutdown_grace: 10s
data_dir: $WORK/$1-data
agents:
  - id: alice
    extension: "1001"
    sip_password: alice-1001
  - id: bob
    extension: "1002"
    sip_password: bob-1002
EOF
}

# start_ringdesk NAME CONFIG: a fresh Ringdesk (log NAME.log), JSON log with
# gctrace. Sets RDPID RDLOG RD_T0 (when it was started).
start_ringdesk() {
	RDLOG=$WORK/$1.log
	RD_T0=$(now)
	GODEBUG=${GODEBUG:+$GODEBUG,}gctrace=1 "$RINGDESK" -config "$2" -log-format json >"$WORK/$1.out" 2>"$RDLOG" &
	RDPID=$!
	for _ in $(seq 200); do grep -q 'SIP:' "$WORK/$1.out" 2>/dev/null && break; kill -0 $RDPID 2>/dev/null || break; sleep 0.05; done
	grep -q 'SIP:' "$WORK/$1.out" || { cat "$WORK/$1.out" "$RDLOG" >&2; die "Ringdesk did not start"; }
}
# stop_ringdesk NAME: SIGTERM, at most 15 s; sets RD_RC, RD_STOP_S
stop_ringdesk() {
	local t0; t0=$(now)
	kill -TERM $RDPID
	for _ in $(seq 150); do kill -0 $RDPID 2>/dev/null || break; sleep 0.1; done
	if kill -0 $RDPID 2>/dev/null; then
		note_problem "$1: Ringdesk still running 15 s after SIGTERM: second SIGTERM"
		kill -TERM $RDPID
	fi
	wait $RDPID 2>/dev/null
	RD_RC=$?
	RD_STOP_S=$(fsub "$(now)" "$t0")
	RDPID=
	((RD_RC != 0)) && note_problem "$1: Ringdesk exited with status $RD_RC"
	return 0
}

RD_SUMMARY=()
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(now)
SIPP_COMMON=(-nostdin -buff_size 4194304 -default_behaviors all,-abortunexp -trace_err -max_log_size 2000000 -trace_stat -fd 1)

echo "Ringdesk trunk load test, $(date -u '+%Y-%m-%d %H:%M UTC'), ringdesk $("$RINGDESK" version 2>/dev/null | cut -d' ' -f2)"
echo "machine:  $NPROC x $CPU_MODEL, load average at start $LOAD_START"
if ((NETNS)); then
	echo "network:  private network namespace (its loopback and UDP counters are ours alone)"
else
	echo "network:  host loopback, shared with whatever else runs (UDP counters too)"
fi
echo "NOTE:     SIPp (the generator) runs on the same $NPROC cores as Ringdesk."
echo "          CPU % is of one core (the machine has $((NPROC * 100)) %); 'others' is what other"
echo "          processes on this shared machine used meanwhile."
echo "work dir: $WORK"

calls_summary() {
	awk '
	function str(s, k,   i, r) { i = index(s, "\"" k "\":\""); if (!i) return ""; r = substr(s, i + length(k) + 4); return substr(r, 1, index(r, "\"") - 1) }
	function num(s, k,   i) { i = index(s, "\"" k "\":"); if (!i) return 0; return substr(s, i + length(k) + 3) + 0 }
	function secs(s,   t) { t = substr(str(s, "time"), 12); return substr(t,1,2)*3600 + substr(t,4,2)*60 + substr(t,7) }
	/"msg":"call started"/ {
		own[str($0, "call_id")] = 1
		if (str($0, "trunk") != "") trunk++
		t = secs($0); if (!started) first = t; if (t < first) t += 86400; last = t; started++
	}
	/"msg":"call ended"/ {
		if (!(str($0, "call_id") in own)) { leftover++; next }
		ended++
		c = str($0, "cause") "/" num($0, "status"); causes[c]++
		if (str($0, "cause") != "normal") abnormal++
	}
	/^gc [0-9]+ @/ { if (match($0, /[0-9]+->[0-9]+->[0-9]+ MB/)) { split(substr($0, RSTART, RLENGTH - 3), h, "->"); if (h[3] + 0 > heap) heap = h[3] + 0 } }
	/"level":"(WARN|ERROR)"/ {
		lvl = str($0, "level"); m = lvl ": " str($0, "msg"); e = str($0, "error"); if (e != "") m = m " (" e ")"
		if (!(m in probs)) order[++np] = m
		probs[m]++
		if (lvl == "ERROR") nerr++; else nwarn++
	}
	/^\{/ { lines++ }
	END {
		printf "started=%d ended=%d open=%d leftover=%d abnormal=%d warn=%d err=%d trunk=%d lines=%d\n", started, ended, started - ended, leftover, abnormal, nwarn, nerr, trunk, lines
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
		b0=$(busy_ticks); r0=$(ticks "${RDPID:-0}"); sleep 1; b1=$(busy_ticks); r1=$(ticks "${RDPID:-0}")
		o=$(pct $((b1 - b0 - (r1 - r0))) 1)
		((o <= NOISY_PCT || SECONDS - t0 >= QUIET_WAIT)) && break
	done
	((SECONDS - t0 > 1)) && echo "       (waited $((SECONDS - t0)) s for other processes to calm down; now they use ${o}% of a core)"
	return 0
}

PROBLEMS=()

# ---------------------------------------------------------------------------
# Part 1: inbound trunk calls and extension calls, rate by rate.
# cps_step KIND RATE TRY: one step, prints its row; sets C_STOP, C_OTHERS.
# KIND trunk: SIPp on 127.0.0.2 calls the DID (national form) without
# credentials; ext: SIPp on 127.0.0.1 calls 1002 as 1001 with digest.
cps_step() {
	local K=$1 R=$2 try=$3 N D T_MAX off e0 r0 e1 r1 d0 d1 rd0 rd1 b0 b1 t0 t1 rss_max=0 r uas uac t_start
	local -a caller
	N=$((R * STEP_SECS)); ((N > MAX_CALLS)) && N=$MAX_CALLS
	wait_quiet
	D=$WORK/cps-$K-$R-$try; mkdir -p "$D"; cd "$D" || die "cd $D"
	T_MAX=$((N / R + CPS_HOLD_MS / 1000 + 40))
	if [[ $K == trunk ]]; then
		caller=(-i "$PROV_IP" -mi "$PROV_IP" -s "$DID_NATIONAL" -key caller "$CLI")
	else
		caller=(-i 127.0.0.1 -mi 127.0.0.1 -s 1002 -key caller 1001 -au 1001 -ap alice-1001)
	fi
	off=$(logsize); read -r e0 r0 _ _ <<<"$(udp_snmp)"; read -r d0 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	rd0=$(ticks $RDPID); b0=$(busy_ticks); t0=$(now); t_start=$SECONDS
	run_sipp uas -sf "$HERE/sipp/uas_cps.xml" -i 127.0.0.1 -p "$UAS_PORT" -mi 127.0.0.1 -mp "$UAS_MP" \
		-s 1002 -m "$N" -timeout "${T_MAX}s" -stf uas.csv "${SIPP_COMMON[@]}"
	uas=$SIPP_PID
	sleep 0.2
	run_sipp uac "127.0.0.1:$RD_PORT" -sf "$HERE/sipp/uac_cps.xml" -p "$UAC_PORT" -mp "$UAC_MP" "${caller[@]}" \
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
	[[ $K == trunk ]] && (($(kv "$sum" trunk) != $(kv "$sum" started))) &&
		note_problem "trunk $R: only $(kv "$sum" trunk) of $(kv "$sum" started) calls were taken as the trunk's"
	local mspc heap lpc
	mspc=$(awk -v t=$((rd1 - rd0)) -v c="$created" -v hz="$HZ" 'BEGIN{printf "%.2f", (c > 0 ? 1000 * t / hz / c : 0)}')
	lpc=$(awk -v l="$(kv "$sum" lines)" -v c="$created" 'BEGIN{printf "%.1f", (c > 0 ? l / c : 0)}')
	heap=$(kv "$sum" heap); ((heap > 0)) || heap=- # no GC during the step
	printf '%-5s %5d %5s %6d %6d %6d %7d %7s %6s %7s %6s %7s %5s %6s %6s %6d %6d  %s\n' "$K" "$R" "$(kv "$sum" rate)" "$created" "$ok" \
		"$failed" "$retrans" "$rtime" "$rdcpu" "$mspc" "$(mb "$rss_max")" "$heap" "$lpc" "$scpu" "$others" $((e1 - e0)) $((r1 - r0)) "$note"
	echo "$K $R $try $created $ok $failed $retrans $rtime $rdcpu $mspc $rss_max $heap $scpu $others $((e1 - e0)) $((r1 - r0)) $(kv "$sum" rate) $lpc" >>"$WORK/cps.dat"
	step_problems "$K $R" "$sum" "$created" "$idle_ok"
	cd "$WORK" || die "cd"
	C_OTHERS=$others C_STOP= C_LEFT=0
	(($(kv "$sum" open) > 0 || !idle_ok)) && C_LEFT=1
	if ((failed > 0)); then C_STOP="failed calls"
	elif ((retrans * 100 > created * RETRANS_STORM_PCT + 1000)); then C_STOP="retransmission storm (over ${RETRANS_STORM_PCT}% of the calls)"
	elif (($(kv "$sum" rate) < R * 8 / 10)); then C_STOP="the generator could not reach the rate"
	else
		BEST_CPS[$K]=$R
		BEST_CPS_LINE[$K]="$R CPS ($created calls, 0 failed, $retrans retransmissions, response ${rtime} ms): Ringdesk ${rdcpu}% CPU = ${mspc} ms CPU per call, RSS up to $(mb "$rss_max") MB; SIPp ${scpu}% CPU; others ${others}%"
	fi
}

# Part 1 runs one Ringdesk per kind of call, with the same config but their
# own SIP port, RTP ports and data: each kind then inherits only the SIP
# state of its own previous step (load.sh's conditions), while the ramps
# take turns on the machine.
declare -A K_PID=() K_LOG=() K_PORT=() K_RTP=() K_SOCK0=() K_RSS0=() K_PLACED=() K_GEN=()
# use_rd KIND: make KIND's Ringdesk the current one (RDPID, RDLOG, RD_PORT...)
use_rd() {
	RDPID=${K_PID[$1]} RDLOG=${K_LOG[$1]} RD_PORT=${K_PORT[$1]} RD_SOCK0=${K_SOCK0[$1]} RD_RSS0=${K_RSS0[$1]} CALLS_PLACED=${K_PLACED[$1]}
}
# cps_ringdesk_start KIND: a fresh Ringdesk for KIND (log cps-KIND-G.log), with
# 1002 registered at the SIPp UAS address
cps_ringdesk_start() {
	local K=$1 name
	K_GEN[$K]=$((${K_GEN[$K]:-0} + 1))
	name=cps-$K-${K_GEN[$K]}
	# rtp.quarantine 0.5 s instead of 2 s: the kinds share load.sh's port
	# range, and these calls send no RTP that could arrive late
	config_head "$name" "${K_PORT[$K]}" "${K_RTP[$K]}" | sed 's/^  media_timeout: 5m$/&\n  quarantine: 500ms/' >"$WORK/$name.yaml"
	cat >>"$WORK/$name.yaml" <<EOF
trunks:
  - name: provider
    host: $PROV_IP
    port: $PROV_PORT
    networks: ["$PROV_IP/32"]
    country: PT
dialplan: $name-dialplan.yaml
EOF
	cat >"$WORK/$name-dialplan.yaml" <<EOF
numbers:
  "$DID": {action: extension 1002}
EOF
	start_ringdesk "$name" "$WORK/$name.yaml"
	timeout 15 sipp "127.0.0.1:${K_PORT[$K]}" -sf "$ROOT/test/peers/sipp/register.xml" -i 127.0.0.1 -p "$UAS_PORT" \
		-mp "$UAS_MP" -s 1002 -au 1002 -ap bob-1002 -key expires 3600 -m 1 -nostdin -timeout 10s >/dev/null 2>&1 ||
		die "REGISTER of 1002 failed"
	sleep 0.5
	K_PID[$K]=$RDPID K_LOG[$K]=$RDLOG K_SOCK0[$K]=$(nsock $RDPID) K_RSS0[$K]=$(rss_kb $RDPID) K_PLACED[$K]=0
}
# cps_ringdesk_stop KIND: stop it; check that every call placed was started
# and ended; a summary line
cps_ringdesk_stop() {
	local K=$1 rss_end total
	use_rd "$K"
	rss_end=$(rss_kb $RDPID)
	stop_ringdesk "cps-$K-${K_GEN[$K]}"
	total=$(calls_summary <"$RDLOG")
	(($(kv "$total" started) != CALLS_PLACED)) && note_problem "cps-$K-${K_GEN[$K]}: SIPp placed $CALLS_PLACED calls, Ringdesk logged $(kv "$total" started) 'call started'"
	RD_SUMMARY+=("$(printf '%s: %d calls placed (%d from the trunk), %d ended (%s); %d WARN, %d ERROR log lines; RSS %s MB idle, %s MB after the last step' \
		"cps-$K-${K_GEN[$K]}" "$CALLS_PLACED" "$(kv "$total" trunk)" "$(kv "$total" ended)" "$(kv "$total" causes)" "$(kv "$total" warn)" "$(kv "$total" err)" \
		"$(mb "$RD_RSS0")" "$(mb "${rss_end:-0}")")")
	while read -r l; do RD_SUMMARY+=("        log: $l"); done < <(grep '^problem=' <<<"$total" | sed 's/^problem=//')
}

declare -A BEST_CPS=() BEST_CPS_LINE=() STOPPED=()
if [[ -n ${STEPS_CPS// /} ]]; then
	echo
	echo "== 1. Call rate: ${CPS_HOLD_MS} ms calls (SDP, no RTP), $STEP_SECS s of calls per step (at most $MAX_CALLS), fresh SIPp"
	echo "      processes per step, each rate run as: $CPS_KINDS (every other rate in the reverse order)"
	echo "      trunk: the provider (SIPp on $PROV_IP, the trunk's network: no digest) calls $DID_NATIONAL (DID $DID"
	echo "             in national form, country PT), which rings extension 1002: INVITE, 100/180/200, ACK, BYE"
	echo "      ext:   1001 calls 1002 (as load.sh part 1): INVITE, 407, INVITE with credentials, 100/180/200, ACK, BYE"
	echo "      resp_ms: first INVITE to 200 (ext includes the 407 round trip); rd_*: Ringdesk (cpu: % of one core;"
	echo "      ms/call: CPU per call; rss: peak; heap: live heap after GC); log/c: Ringdesk log lines per call;"
	echo "      sipp: both SIPp processes; others: the rest of this machine; udperr/rcvbuf: kernel UDP InErrors/RcvbufErrors"
	printf '%-5s %5s %5s %6s %6s %6s %7s %7s %6s %7s %6s %7s %5s %6s %6s %6s %6s  %s\n' \
		"kind" "cps" "got" "calls" "ok" "failed" "retrans" "resp_ms" "rd_cpu" "ms/call" "rd_rss" "rd_heap" "log/c" "sipp" "others" "udperr" "rcvbuf" "ringdesk"
	printf '%-5s %5s %5s %6s %6s %6s %7s %7s %6s %7s %6s %7s %5s %6s %6s %6s %6s\n' "" "" "" "" "" "" "" "" "%" "" "MB" "MB" "" "%" "%" "" ""
	nk=0 CPS_KINDS_A=($CPS_KINDS)
	for K in $CPS_KINDS; do
		((nk < 4)) || die "at most 4 CPS_KINDS"
		# SIP ports 5060, 5062...; the RTP ports 20000-64999 split between the
		# kinds. A call holds 2 even ports for its length plus the quarantine
		# (0.5 s here, see below), ~3.2 port-seconds: 22,500 ports (11,250
		# even ones) last up to ~3,500 CPS of 1 s calls.
		if ((nk == 0)); then K_PORT[$K]=$RD_PORT; elif ((nk == 1)); then K_PORT[$K]=$RD_PORT2; else K_PORT[$K]=$(free_udp_port); fi
		K_RTP[$K]="$((20000 + nk * 45000 / ${#CPS_KINDS_A[@]}))-$((19999 + (nk + 1) * 45000 / ${#CPS_KINDS_A[@]}))"
		cps_ringdesk_start "$K"
		nk=$((nk + 1))
	done
	echo "      (one Ringdesk per kind: $(for K in $CPS_KINDS; do printf '%s on :%s, ' "$K" "${K_PORT[$K]}"; done | sed 's/, $//'); RSS $(mb "${K_RSS0[${CPS_KINDS%% *}]}") MB idle)"
	ri=0
	for R in $STEPS_CPS; do
		# every other rate in the reverse order, so that neither kind always
		# runs right after the other
		kinds=$CPS_KINDS
		((ri++ % 2)) && kinds=$(tr ' ' '\n' <<<"$CPS_KINDS" | tac | tr '\n' ' ')
		for K in $kinds; do
			[[ -n ${STOPPED[$K]:-} ]] && continue
			use_rd "$K"
			cps_step "$K" "$R" 1
			if [[ -n $C_STOP ]] && ((NOISY_PCT > 0 && C_OTHERS > NOISY_PCT)); then
				echo "      (other processes used ${C_OTHERS}% of a core meanwhile: once more)"
				cps_step "$K" "$R" 2
			fi
			K_PLACED[$K]=$CALLS_PLACED
			[[ -n $C_STOP ]] && { echo "  -> $K: stop: $C_STOP"; STOPPED[$K]=1; }
			if ((C_LEFT)) && [[ -z ${STOPPED[$K]:-} ]]; then
				# Calls Ringdesk still holds (their BYE lost, see the README)
				# would end during later steps, and their BYEs reach those
				# steps' SIPp UAS as new calls: start afresh.
				echo "      (calls left over: a fresh Ringdesk for the next $K steps)"
				cps_ringdesk_stop "$K"
				cps_ringdesk_start "$K"
			fi
		done
		more=0
		for K in $CPS_KINDS; do [[ -z ${STOPPED[$K]:-} ]] && more=1; done
		((more)) || break
	done
	for K in $CPS_KINDS; do cps_ringdesk_stop "$K"; done
fi

# ---------------------------------------------------------------------------
# Part 2: trunk registrations.
# counts_col FILE PATTERN [NTH]: the NTH (default 1st) column whose name
# matches PATTERN in SIPp's -trace_counts CSV, summed over all those columns
# when NTH is "all": its value in the last row (0 if none)
counts_last() {
	[[ -s $1 ]] || { echo 0; return; }
	awk -F';' -v pat="$2" -v nth="${3:-1}" 'NR==1{for(i=1;i<=NF;i++) if($i ~ pat) c[++n]=i} END{
		if (nth == "all") { for (j = 1; j <= n; j++) s += $c[j]; print s + 0 } else print (nth <= n && $c[nth] != "") ? $c[nth] + 0 : 0 }' "$1"
}
# counts_peak FILE PATTERN FROM TO: the most of column PATTERN sent in one
# second between elapsed seconds FROM and TO of the counts CSV
counts_peak() {
	[[ -s $1 ]] || { echo 0; return; }
	awk -F';' -v pat="$2" -v from="$3" -v to="$4" 'NR==1{for(i=1;i<=NF;i++) if($i ~ pat && !c) c=i; next}
		{ split($2, t, ":"); s = t[1]*3600 + t[2]*60 + t[3] + t[4]/1e6
		  if (s >= from && s <= to && prev != "" && $c - prev > m) m = $c - prev; prev = $c }
		END{print m + 0}' "$1"
}
# counts_span FILE PATTERN SPAN: "sent seconds" of column PATTERN over about
# SPAN seconds of the counts CSV (one row a second), from the end. A SPAN of
# whole refresh intervals holds every trunk's refresh once per interval,
# provided that both ends fall between two bursts of refreshes: the span
# ends at the last row followed by a quiet second, and starts at the row
# followed by a quiet second nearest SPAN before it (else at the rows
# nearest these times).
counts_span() {
	[[ -s $1 ]] || { echo "0 0"; return; }
	awk -F';' -v pat="$2" -v span="$3" 'NR==1{for(i=1;i<=NF;i++) if($i ~ pat && !c) c=i; next}
		{ split($2, t, ":"); n++; e[n] = t[1]*3600 + t[2]*60 + t[3] + t[4]/1e6; v[n] = $c }
		END{
			for (i = 1; i < n; i++) quiet[i] = (v[i + 1] == v[i])
			b1 = n; for (i = n - 1; i >= 1; i--) if (quiet[i]) { b1 = i; break }
			for (pass = 1; pass <= 2; pass++) {
				b0 = 0
				for (i = 1; i < b1; i++) { if (pass == 1 && !quiet[i]) continue
					d = e[b1] - span - e[i]; if (d < 0) d = -d; if (!b0 || d < bd) { b0 = i; bd = d } }
				if (b0 && bd < 1.5) break
			}
			if (!b0) { print "0 0"; exit }
			printf "%d %.3f\n", v[b1] - v[b0], e[b1] - e[b0] }' "$1"
}
counts_elapsed() { # seconds since the SIPp start, per its counts CSV
	[[ -s $1 ]] || { echo 0; return; }
	tail -1 "$1" | awk -F';' '{split($2, t, ":"); printf "%.3f", t[1]*3600 + t[2]*60 + t[3] + t[4]/1e6}'
}
# status_states DATA: "registered failing other" from `ringdesk status -json`,
# "- - -" when it fails. Once the command fails, the rest of the step asks
# the socket with curl (status.via says so, status.err why).
status_states() {
	local out
	if [[ ! -e status.via ]]; then
		out=$("$RINGDESK" status -json -data-dir "$1" 2>status.err) ||
			{ command -v curl >/dev/null && echo curl >status.via; }
	fi
	if [[ -e status.via ]]; then
		out=$(curl -sf --max-time 5 --unix-socket "$1/ringdesk.sock" http://ringdesk/status) || { echo "- - -"; return; }
	fi
	awk '/"state":/{ if (/"registered"/) r++; else if (/"failing"/) f++; else o++ } END{if (!NR) print "- - -"; else print r+0, f+0, o+0}' <<<"$out"
}
# log_times OFFSET: "first last count" of the "trunk registered" lines after
# OFFSET, as seconds since midnight UTC
reg_times() {
	log_slice "$1" | awk '/"msg":"trunk registered"/{ t = substr($0, index($0, "\"time\":\"") + 19, 15)
		s = substr(t,1,2)*3600 + substr(t,4,2)*60 + substr(t,7); if (!n) f = s; l = s; n++ } END{printf "%.3f %.3f %d\n", f, l, n}'
}
secs_of_day() { date -u -d "@$1" '+%H %M %S.%N' | awk '{printf "%.3f", $1*3600 + $2*60 + $3}'; }

# reg_step N TRY: N trunks; prints a row; sets G_STOP, G_OTHERS
reg_step() {
	local N=$1 try=$2 D T_MAX reg e0 r0 e1 r1 d0 d1 t_up ok_up=0
	local refresh; refresh=$(awk -v g="$GRANT" 'BEGIN{print g / 2}')
	wait_quiet
	D=$WORK/reg-$N-$try; mkdir -p "$D"; cd "$D" || die "cd $D"
	config_head "reg-$N-$try" >ringdesk.yaml
	echo "trunks:" >>ringdesk.yaml
	# one short line per trunk: a config may have at most 1 MiB (~9,500 such trunks)
	awk -v n="$N" -v ip="$PROV_IP" -v port="$PROV_PORT" -v pw="$TRUNK_PASS" 'BEGIN{ p = (port == 5060) ? "" : ",port: " port
		for (i = 1; i <= n; i++) printf "  - {name: t%d,host: %s%s,username: u%d,password: %s,register: true,expiry: 30s,country: PT}\n", i, ip, p, i, pw }' >>ringdesk.yaml
	if (($(stat -c %s ringdesk.yaml) > 1048576)); then
		note_problem "$N trunks: the config would be $(stat -c %s ringdesk.yaml) bytes, over the 1 MiB Ringdesk reads"
		G_STOP="config too large" G_OTHERS=0
		cd "$WORK" || die "cd"
		return 0
	fi
	T_MAX=$((REG_UP_TIMEOUT + REG_SUSTAIN + 60))
	read -r e0 r0 _ _ <<<"$(udp_snmp)"
	run_sipp reg -sf "$HERE/sipp/uas_registrar_bench.xml" -i "$PROV_IP" -p "$PROV_PORT" -m "$N" -l $((N + 100)) \
		-key trunk_pass "$TRUNK_PASS" -key grant "$GRANT" -trace_counts -timeout "${T_MAX}s" -stf reg.csv "${SIPP_COMMON[@]}"
	reg=$SIPP_PID
	sleep 0.3
	local CF; CF=$(ls ./*_counts.csv 2>/dev/null | head -1)
	start_ringdesk "reg-$N-$try" ringdesk.yaml
	local data=$WORK/reg-$N-$try-data
	rm -f status.via status.err
	local up_deadline; up_deadline=$(later "$REG_UP_TIMEOUT")
	local rg fl ot
	while :; do
		read -r rg fl ot <<<"$(status_states "$data")"
		[[ $rg == "$N" ]] && { ok_up=1; break; }
		past "$up_deadline" && break
		kill -0 $RDPID 2>/dev/null || break
		sleep 0.2
	done
	t_up=$(fsub "$(now)" "$RD_T0")
	local rd_up rss_up
	rd_up=$(ticks $RDPID); rss_up=$(rss_kb $RDPID)
	local eu ru rdd_up sd_up; read -r eu ru _ _ <<<"$(udp_snmp)"
	read -r rdd_up _ <<<"$(sock_drops $RDPID "$RD_PORT")"; read -r sd_up _ <<<"$(sock_drops "$reg" "$PROV_PORT")"
	CF=$(ls ./*_counts.csv 2>/dev/null | head -1)
	local f l n listen_s
	read -r f l n <<<"$(reg_times 0)"
	listen_s=$(log_slice 0 | awk '/"msg":"sip listening"/{ t = substr($0, index($0, "\"time\":\"") + 19, 15); printf "%.3f", substr(t,1,2)*3600 + substr(t,4,2)*60 + substr(t,7); exit }')
	local t0s; t0s=$(secs_of_day "$RD_T0")
	# the window: REG_SUSTAIN s of refreshes, after 2 s for the retransmissions
	# of the start to settle
	((ok_up)) && sleep 2
	local w0 w1 ew0 ew1 c0 c1 x0 x1 u0 u1 rt0 rt1 q0 q1 rd0 rd1 s0 s1 b0 b1 off rss_max=0 rr minreg=$N maxfail=0 polls=0 bad=0
	off=$(logsize); w0=$(now); ew0=$(counts_elapsed "$CF")
	c0=$(counts_last "$CF" '_200_Sent$' 1); x0=$(counts_last "$CF" '_403_Sent$' all)
	u0=$(counts_last "$CF" '_Unexp$' all); rt0=$(counts_last "$CF" '_Retrans$' all); q0=$(counts_last "$CF" '_401_Sent$' all)
	read -r d0 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	rd0=$(ticks $RDPID); s0=$(ticks "$reg"); b0=$(busy_ticks)
	# whole refresh intervals (a whole number of seconds), plus 3 s for
	# SIPp's once-a-second counts rows (see counts_span)
	local span; span=$(awk -v w="$REG_SUSTAIN" -v p="$refresh" 'BEGIN{k = int((w + p - 0.001) / p); if (k < 1) k = 1
		while (k * p != int(k * p)) k++; print k * p}')
	local wend; wend=$(later "$(awk -v s="$span" 'BEGIN{print s + 3}')")
	if ((ok_up)); then
		while ! past "$wend"; do
			sleep "$REG_POLL"
			rr=$(rss_kb $RDPID); ((rr > rss_max)) && rss_max=$rr
			read -r rg fl ot <<<"$(status_states "$data")"
			polls=$((polls + 1))
			if [[ $rg == - ]]; then bad=$((bad + 1)); continue; fi
			((rg < minreg)) && minreg=$rg
			((fl > maxfail)) && maxfail=$fl
		done
	fi
	w1=$(now); ew1=$(counts_elapsed "$CF")
	local cs win; read -r cs win <<<"$(counts_span "$CF" '_200_Sent$' "$span")"
	rd1=$(ticks $RDPID); s1=$(ticks "$reg"); b1=$(busy_ticks)
	c1=$(counts_last "$CF" '_200_Sent$' 1); x1=$(counts_last "$CF" '_403_Sent$' all)
	u1=$(counts_last "$CF" '_Unexp$' all); rt1=$(counts_last "$CF" '_Retrans$' all); q1=$(counts_last "$CF" '_401_Sent$' all)
	read -r d1 _ <<<"$(sock_drops $RDPID "$RD_PORT")"
	local ew rw; read -r ew rw _ _ <<<"$(udp_snmp)"
	local sum; sum=$(log_slice "$off" | calls_summary)
	local wlog=$(($(logsize) - off))
	# shutdown: Ringdesk unregisters every trunk within 2 s
	local startup_problems; startup_problems=$(log_slice 0 | head -c "$off" | calls_summary)
	stop_ringdesk "$N trunks"
	wait_sipp reg 5
	read -r e1 r1 _ _ <<<"$(udp_snmp)"
	local unreg; unreg=$(csv_last reg.csv 'SuccessfulCall(C)')
	local peak; peak=$(counts_peak "$CF" '_200_Sent$' "$ew0" "$ew1")
	local rate rd_cpu ms_per scpu others upcpu uprate expect_rate refr_pct
	read -r rate expect_rate refr_pct rd_cpu ms_per scpu others upcpu uprate <<<"$(awk -v c="$cs" -v w="$win" -v ww="$(fsub "$w1" "$w0")" -v cw=$((c1 - c0)) \
		-v n="$N" -v g="$refresh" -v rdt=$((rd1 - rd0)) -v st=$((s1 - s0)) -v bt=$((b1 - b0)) -v hz="$HZ" \
		-v rdu="$rd_up" -v tup="$(fsub "$l" "$t0s")" -v tst="$t_up" 'BEGIN{
		rate = w > 0 ? c / w : 0; ex = n / g
		oth = 100 * (bt - rdt - st) / hz / ww; if (oth < 0) oth = 0
		printf "%.0f %.0f %.0f %.0f %.3f %.0f %.0f %.0f %.0f\n", rate, ex, (ex > 0 ? 100 * rate / ex : 0), 100 * rdt / hz / ww,
			(cw > 0 ? 1000 * rdt / hz / cw : 0), 100 * st / hz / ww, oth, 100 * rdu / hz / (tst > 0 ? tst : 1), (tup > 0 ? n / tup : 0) }')"
	local first_s last_s
	first_s=$(fsub "$f" "$t0s"); last_s=$(fsub "$l" "$t0s")
	local lpr; lpr=$(awk -v b="$wlog" -v c=$((c1 - c0)) 'BEGIN{printf "%.0f", (c > 0 ? b / c : 0)}')
	local note="unreg=$unreg/$N in ${RD_STOP_S}s"
	(($(kv "$sum" warn) + $(kv "$sum" err) > 0)) && note+=" warn=$(kv "$sum" warn) err=$(kv "$sum" err)"
	((d1 > d0)) && note+=" sip_sock_drops=$((d1 - d0))"
	((x1 > 0)) && note+=" 403s=$x1"
	((u1 > 0)) && note+=" sipp_unexpected=$u1"
	((bad > 0)) && note+=" status_failed=$bad/$polls"
	[[ -e status.via ]] && note+=" (status via curl)"
	local heap; heap=$(kv "$sum" heap); ((heap > 0)) || heap=-
	printf '%6d %5s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6d %6d %7s %6s %7s %6s %6s %6d %6d  %s\n' "$N" "$GRANT" \
		"$last_s" "$uprate" "$upcpu" "$(mb "$rss_up")" "$rate" "$expect_rate" "$peak" "$((rt1 - rt0))" "$rd_cpu" "$minreg" "$maxfail" "$ms_per" \
		"$(mb "$rss_max")" "$heap" "$scpu" "$others" $((ew - eu)) $((rw - ru)) "$note"
	echo "$N $try $GRANT $first_s $last_s $uprate $upcpu $rss_up $rate $expect_rate $peak $((rt1 - rt0)) $rd_cpu $minreg $maxfail $ms_per $rss_max $scpu $others $((e1 - e0)) $((r1 - r0)) $unreg $RD_STOP_S $lpr $((q1 - q0)) $((c1 - c0)) $x1 $u1" >>"$WORK/reg.dat"
	[[ -e status.via ]] && note_problem "$N trunks: ringdesk status failed ($(tr -d '\n' <status.err | head -c 200)); asked the socket with curl instead"
	echo "         start: first trunk registered $first_s s after launch ($(fsub "$f" "$listen_s") s after 'sip listening'), all $n by $last_s s;" \
		"status showed all $N at $t_up s; REGISTER retransmissions until then: $rt0;" \
		"UDP InErrors/RcvbufErrors: $((eu - e0))/$((ru - r0)) until then (dropped by Ringdesk's SIP socket: $rdd_up, SIPp's: $sd_up)," \
		"$((e1 - ew))/$((r1 - rw)) at shutdown; Ringdesk log: $lpr bytes per refresh"
	grep '^problem=' <<<"$startup_problems" | sed 's/^problem=/         ringdesk log (start): /'
	grep '^problem=' <<<"$sum" | sed 's/^problem=/         ringdesk log (window): /'
	local stl; stl=$(sipp_stall); [[ -n $stl ]] && echo "         SIPp stalled up to $stl ms (its watchdog)"
	((unreg < N)) && note_problem "$N trunks: only $unreg of $N unregistered when Ringdesk stopped (it allows itself 2 s)"
	cd "$WORK" || die "cd"
	G_OTHERS=$others G_STOP=
	if ((!ok_up)); then G_STOP="not all $N trunks registered within $REG_UP_TIMEOUT s (status: $rg registered, $fl failing)"
	elif ((x1 > 0)); then G_STOP="the registrar refused $x1 digests (403)"
	elif ((minreg < N || maxfail > 0)); then G_STOP="trunks dropped out of 'registered' during the window (as few as $minreg registered, up to $maxfail failing)"
	elif ((refr_pct < 90)); then G_STOP="refreshes at ${refr_pct}% of the expected rate"
	elif (((rt1 - rt0) * 100 > (c1 - c0) * 2 + 100)); then G_STOP="REGISTER retransmissions $((rt1 - rt0)) (over 1% of the REGISTERs)"
	else
		BEST_REG=$N
		BEST_REG_LINE="$N trunks refreshing every $refresh s: $rate refreshes/s (each a REGISTER, 401, REGISTER with digest, 200; burst up to $peak/s), 0 failures, $((rt1 - rt0)) retransmissions: Ringdesk ${rd_cpu}% CPU = $ms_per ms CPU per refresh, RSS $(mb "$rss_max") MB; SIPp ${scpu}% CPU; others ${others}%; all $N registered $last_s s after launch (${uprate}/s)"
	fi
	return 0
}

BEST_REG=0 BEST_REG_LINE=
if [[ -n ${STEPS_REG// /} ]]; then
	echo
	echo "== 2. Trunk registrations: N trunks (user names u1...uN), one SIPp registrar on $PROV_IP:$PROV_PORT that"
	echo "      challenges every REGISTER (401, qop=auth), checks the digest and grants GRANT s; Ringdesk asks 30 s"
	echo "      and refreshes at half the grant. A fresh Ringdesk and registrar per step; a window of
      whole refresh intervals, at least $REG_SUSTAIN s."
	echo "      all_s: launch to the last 'trunk registered' line; up/s: N / all_s; upcpu: Ringdesk CPU until then;"
	echo "      refr/s: registrations (200s) per second in the window, expect: N / (GRANT/2), peak: most in one second;"
	echo "      retr: SIPp-seen retransmissions in the window; minreg/fail: fewest registered and most failing trunks"
	echo "      in 'ringdesk status' every $REG_POLL s; ms/refr: Ringdesk CPU per refresh; udperr/rcvbuf: kernel UDP"
	echo "      InErrors/RcvbufErrors in the window; unreg: trunks unregistered at shutdown (SIGTERM)"
	printf '%6s %5s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %7s %6s %7s %6s %6s %6s %6s  %s\n' \
		"trunks" "grant" "all_s" "up/s" "upcpu" "up_rss" "refr/s" "expect" "peak" "retr" "rd_cpu" "minreg" "fail" "ms/refr" "rd_rss" "rd_heap" "sipp" "others" "udperr" "rcvbuf" "notes"
	printf '%6s %5s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %7s %6s %7s %6s %6s\n' "" "s" "s" "" "%" "MB" "" "" "" "" "%" "" "" "" "MB" "MB" "%" "%"
	for N in $STEPS_REG; do
		reg_step "$N" 1
		if [[ -n $G_STOP ]] && ((NOISY_PCT > 0 && G_OTHERS > NOISY_PCT)); then
			echo "      (other processes used ${G_OTHERS}% of a core meanwhile: once more)"
			reg_step "$N" 2
		fi
		[[ -n $G_STOP ]] && { echo "  -> stop: $G_STOP"; break; }
	done
fi

# ---------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== Summary ($(awk -v s="$(fsub "$(now)" "$T_START")" 'BEGIN{printf "%.0f", s}') s)"
echo "machine:        $NPROC x $CPU_MODEL; load average $LOAD_START at start, $LOAD_END at end"
echo "                the generator (SIPp) shares these cores with Ringdesk"
if [[ -n ${STEPS_CPS// /} ]]; then
	for K in $CPS_KINDS; do
		printf 'best %-5s     %s\n' "$K:" "${BEST_CPS_LINE[$K]:-none of the steps was clean}"
	done
fi
[[ -n ${STEPS_REG// /} ]] && echo "best refreshes: ${BEST_REG_LINE:-none of the steps passed}"
if ((${#RD_SUMMARY[@]})); then
	echo "ringdesk:"
	printf '  %s\n' "${RD_SUMMARY[@]}"
fi
if ((${#PROBLEMS[@]})); then
	echo "problems:"
	printf '  - %s\n' "${PROBLEMS[@]}"
fi
res="RESULT"
for K in $CPS_KINDS; do res+=" ${K}_cps=${BEST_CPS[$K]:-0}"; done
echo "$res trunks=$BEST_REG refreshes_per_s=$(awk -v n="$BEST_REG" -v g="$GRANT" 'BEGIN{printf "%.0f", n / (g / 2)}')"
if ((KEEP || ${#PROBLEMS[@]})); then
	echo "logs kept in $WORK"
else
	rm -rf "$WORK"
fi
