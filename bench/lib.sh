# lib.sh: helpers shared by load.sh and trunks.sh, sourced before anything
# runs (the functions find the scripts' die, WORK, RINGDESK, ROOT, RDLOG,
# RDPID and PROBLEMS when they are called). Entering the private network
# namespace, time, CPU and memory of processes, UDP counters, SIPp runs and
# their CSV statistics, Ringdesk's log and the steps' problems.

# enter_namespace ARGS...: outside the namespace, make the work dir, build
# Ringdesk into it when RINGDESK is missing, and re-execute the script ($0)
# with ARGS in a private network namespace (NETNS=auto: when root and
# unshare allow; 1: required; 0: never), so that no other test shares its
# ports, its UDP counters or 127.0.0.2. Inside, it returns at once.
enter_namespace() {
	[[ -n ${RD_BENCH_INNER:-} ]] && return 0
	: "${WORK:=$(mktemp -d "/tmp/ringdesk-$(basename "$0" .sh).XXXXXX")}"
	mkdir -p "$WORK" || die "cannot create $WORK"
	export WORK
	if [[ ! -x $RINGDESK ]]; then
		echo "$(basename "$0"): $RINGDESK missing, building it into $WORK/ringdesk"
		(cd "$ROOT" && go build -o "$WORK/ringdesk" ./cmd/ringdesk) || die "go build failed"
		RINGDESK=$WORK/ringdesk
	fi
	RINGDESK=$(cd "$(dirname "$RINGDESK")" && pwd)/$(basename "$RINGDESK")
	export RINGDESK RD_BENCH_INNER=1
	if [[ ${NETNS:-auto} != 0 ]] && [[ $(id -u) == 0 ]] && unshare -n true 2>/dev/null; then
		export NETNS=1
		exec unshare -n -- "$0" "$@"
	fi
	[[ ${NETNS:-auto} == 1 ]] && die "NETNS=1 needs root and unshare -n"
	export NETNS=0
	exec "$0" "$@"
}

# inside_setup: inside the namespace, bring loopback up, enter the work dir,
# and note the machine's facts (HZ, NPROC, CPU_MODEL); raise open files.
inside_setup() {
	if ((NETNS)); then ip link set lo up || die "cannot bring lo up in the namespace"; fi
	cd "$WORK" || die "no work dir"
	HZ=$(getconf CLK_TCK)
	NPROC=$(nproc)
	CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
}

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a-b}'; }
later() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.3f", a+b}'; } # now + SECONDS
past() { awk -v a="$(now)" -v b="$1" 'BEGIN{exit !(a > b)}'; }       # now is after T
# ticks PID: CPU time (user+system) in clock ticks; 0 once gone.
ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}
# busy_ticks: CPU time of the whole machine (all cores) spent outside idle
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# irq_ticks: the part of busy_ticks spent in interrupts and softirqs (on
# loopback, delivering the UDP datagrams the processes send), which no
# process is charged for
irq_ticks() { awk '/^cpu /{print $7 + $8; exit}' /proc/stat; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN{printf "%.0f", k/1024}'; }
# pct TICKS SECONDS: % of one core
pct() { awk -v t="$1" -v s="$2" -v hz="$HZ" 'BEGIN{ if (s <= 0 || t <= 0) print 0; else printf "%.0f", 100*t/hz/s }'; }
nsock() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
# udp_snmp: "InErrors RcvbufErrors SndbufErrors InDatagrams" (this network namespace)
udp_snmp() { awk '/^Udp:/{ if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 } else print $c["InErrors"], $c["RcvbufErrors"], $c["SndbufErrors"], $c["InDatagrams"] }' /proc/net/snmp; }
# sock_drops PID PORT: kernel receive drops on the process's UDP socket on
# PORT (SIP) and on its others (RTP): "sip rtp"
sock_drops() {
	find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -d 'socket:[]' |
		awk -v port="$(printf '%04X' "$2")" 'NR==FNR{ino[$1]=1; next}
			FNR>1 && ($10 in ino){ split($2, a, ":"); if (a[2] == port) sip += $13; else rtp += $13 }
			END{print sip+0, rtp+0}' - /proc/net/udp
}
free_udp_port() { # an unused UDP port (outside a namespace only)
	local p
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % 9000))
		ss -Huan "sport = :$p" | grep -q . || ss -Huan "sport = :$((p + 2))" | grep -q . || { echo $p; return; }
	done
	die "no free UDP port"
}
# csv_last FILE COLUMN: a column of the last row of a SIPp -trace_stat CSV (0 if none)
csv_last() { [[ -s $1 ]] && awk -F';' -v col="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i} END{ print (c && $c != "") ? $c : 0 }' "$1" || echo 0; }
rt_ms() { awk -v t="$1" 'BEGIN{ n = split(t, a, ":"); if (n < 4) { print "?"; exit } printf "%.1f", (a[1]*3600 + a[2]*60 + a[3])*1000 + a[4]/1000 }'; }
# sipp_stall: the longest SIPp main-loop stall (ms) its watchdog reported in this step
sipp_stall() { cat ./*errors.log 2>/dev/null | grep -o 'has been tripped ([0-9]*)' | tr -dc '0-9\n' | sort -n | tail -1; }

# run_sipp NAME ARGS...: start SIPp in the background in the current step dir.
# $SIPP_PID and NAME.pid get its PID; NAME.done gets "exit-code user-ticks
# system-ticks" when it ends.
run_sipp() {
	local name=$1; shift
	rm -f "$name.pid" "$name.done"
	(
		sipp "$@" >/dev/null 2>"$name.stderr" &
		echo $! >"$name.pid"
		wait $!
		rc=$?
		read -r s </proc/$BASHPID/stat; s=${s##*) }; set -- $s
		echo "$rc ${14} ${15}" >"$name.done"
	) </dev/null >/dev/null 2>&1 &
	for _ in $(seq 100); do [[ -s $name.pid ]] && break; sleep 0.02; done
	SIPP_PID=$(cat "$name.pid")
	PIDS_TO_STOP+=("$SIPP_PID")
}
sipp_done() { [[ -s $1.done ]]; }
sipp_ticks() { awk '{print $2+$3}' "$1.done" 2>/dev/null || echo 0; }
stop_pid() { # stop_pid PID: SIGINT (SIPp writes its stats), then SIGKILL
	local p=$1
	kill -0 "$p" 2>/dev/null || return 0
	kill -INT "$p" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
}
# wait_sipp NAME SECONDS: wait for it to end; stop it after SECONDS
wait_sipp() {
	local end=$((SECONDS + $2)) p
	p=$(cat "$1.pid")
	while ! sipp_done "$1"; do
		if ((SECONDS > end)); then
			stop_pid "$p"
			for _ in $(seq 30); do sipp_done "$1" && break; sleep 0.1; done
			return 1
		fi
		sleep 0.1
	done
}

PIDS_TO_STOP=()

# Ringdesk's log and the steps' problems (RDLOG, RDPID and PROBLEMS are
# the sourcing script's).
# ---------------------------------------------------------------------------
# Log parsing. slog JSON lines; durations are in nanoseconds. Only calls that
# started in the slice count ("own"); calls of an earlier step ending in it
# are counted apart as leftovers.
log_slice() { tail -c +"$(($1 + 1))" "$RDLOG"; }
logsize() { stat -c %s "$RDLOG"; }
kv() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' <<<"$1"; }
# wait_ended OFFSET SECONDS: until every call started since OFFSET in the log
# has its "call ended" line (a call ends once its last BYE transaction does:
# up to 32 s when SIP datagrams were lost); sets ENDED_LATE to the seconds it took.
wait_ended() {
	local t0=$SECONDS sum
	while :; do
		sum=$(log_slice "$1" | calls_summary)
		(($(kv "$sum" open) <= 0 || SECONDS - t0 >= $2)) && break
		sleep 1
	done
	ENDED_LATE=$((SECONDS - t0))
}
# wait_idle SECONDS: until Ringdesk is back to its idle sockets (every call and
# RTP session closed); 1 on timeout.
wait_idle() {
	local end; end=$(later "$1")
	while :; do
		IDLE_EXTRA=$(($(nsock $RDPID) - RD_SOCK0))
		((IDLE_EXTRA <= 0)) && return 0
		past "$end" && return 1
		sleep 0.2
	done
}
note_problem() { PROBLEMS+=("$*"); echo "         !! $*"; }
ringdesk_note() { # ringdesk_note SUMMARY: the "ringdesk" column
	local s=$1 n
	n="ended=$(kv "$s" ended)"
	(($(kv "$s" abnormal) > 0)) && n+=" causes=$(kv "$s" causes)"
	(($(kv "$s" warn) + $(kv "$s" err) > 0)) && n+=" warn=$(kv "$s" warn) err=$(kv "$s" err)"
	(($(kv "$s" leftover) > 0)) && n+=" (+$(kv "$s" leftover) earlier calls ended)"
	echo "$n"
}
step_problems() { # step_problems LABEL SUMMARY CREATED IDLE_OK
	grep '^problem=' <<<"$2" | sed 's/^problem=/         ringdesk log: /'
	(($(kv "$2" started) != $3)) && note_problem "$1: SIPp created $3 calls, Ringdesk logged $(kv "$2" started) 'call started'"
	(($(kv "$2" open) > 0)) && note_problem "$1: $(kv "$2" open) calls not ended 40 s after the step"
	((ENDED_LATE > 2)) && echo "         the last 'call ended' came $ENDED_LATE s after SIPp was done (BYE transactions retrying after SIP losses)"
	(($4)) || note_problem "$1: Ringdesk still held $IDLE_EXTRA more sockets than when idle 20 s after the step"
	local st; st=$(sipp_stall)
	[[ -n $st ]] && echo "         SIPp stalled up to $st ms (its watchdog; the generator was starved of CPU)"
	grep -h -o '[A-Z][a-z]* call on unexpected message[^:]*: while [^,]*, received .[^ ]* [^ ]*' ./*errors.log 2>/dev/null |
		sed 's/ for Call-[Ii][Dd] [^:]*//' | sort | uniq -c | sort -rn | head -4 | sed 's/^/         sipp: /'
	grep -h -o 'receive timeout on message [^ ]* [^ ]* [^ ]*' ./*errors.log 2>/dev/null | sort | uniq -c | head -3 | sed 's/^/         sipp: /'
	return 0
}

# wait_quiet: before a step, wait (at most QUIET_WAIT s) until the other
# processes of this shared machine use at most NOISY_PCT % of a core
# (Ringdesk, RDPID, if running, does not count). load.sh and trunks.sh
# still define their own copy, which takes precedence.
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

# capture_start NAME FILTER: dumpcap on lo (classic pcap, headers only: 60
# bytes per packet, enough for Ethernet + IPv4 + UDP + RTP header; 64 MiB
# kernel buffer) into NAME.pcap with the BPF FILTER. On loopback a packet's
# capture time is the time its sender sent it. Sets CAP_PID (also in
# PIDS_TO_STOP). capture_stop NAME: stop it (SIGINT: it writes its counts)
# and print "captured dropped" (dropped: by the kernel or dumpcap).
capture_start() {
	rm -f "$1.pcap" "$1.err"
	dumpcap -i lo -P -s 60 -B 64 -q -f "$2" -w "$1.pcap" </dev/null >/dev/null 2>"$1.err" &
	CAP_PID=$!
	PIDS_TO_STOP+=("$CAP_PID")
	for _ in $(seq 100); do [[ -s $1.pcap ]] && grep -q 'Capturing on' "$1.err" && return 0; kill -0 $CAP_PID 2>/dev/null || break; sleep 0.05; done
	cat "$1.err" >&2
	die "dumpcap did not start (filter: $2)"
}
capture_stop() {
	kill -INT "$CAP_PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	awk '/^Packets received\/dropped/{ s = $0; sub(/.*: /, "", s); split(s, a, "[/ ]"); print a[1]+0, a[2]+0; found = 1 } END{ if (!found) print "? ?" }' "$1.err"
}
