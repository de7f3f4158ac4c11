#!/usr/bin/env bash
# make.sh: synthesise Ringdesk's default sounds with sox (SoX 14.4), from
# nothing but sine waves: no samples, no recordings, no third-party audio.
#
#   configs/sounds/make.sh            writes configs/sounds/hold-music.wav
#   configs/sounds/make.sh OUT.wav    writes the hold music to OUT.wav
#
# hold-music.wav: 24 s, 8 kHz mono 16-bit PCM, an original piece: a slow
# Cmaj7 - Am7 - Fmaj7 - G6 progression played twice (80 bpm, one bar per
# chord) as soft sine pads over a sine bass, with a simple sine melody on top
# and a little reverb. It starts from silence and fades to silence so that it
# loops without a click; the last chord (G6) leads back to the first (Cmaj7).
#
# DTMF safety: every sound is a sine (pads and bass also have a quiet second
# harmonic), and nothing reaches 1150 Hz: the highest melody note is C6
# (1046.5 Hz), the highest harmonic 988 Hz. The DTMF column tones (1209,
# 1336, 1477, 1633 Hz) are therefore absent, so no two notes can ever pass for
# a DTMF digit (media/wav's TestHoldMusic checks it).
#
# -R makes sox repeatable: running this again gives the same file, byte for
# byte.
set -euo pipefail

out=${1:-"$(dirname "$0")/hold-music.wav"}
command -v sox >/dev/null || { echo "make.sh: needs sox (apt-get install sox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rate=8000
beat=0.75  # seconds: 80 beats per minute
length=24  # seconds: 8 bars of 4 beats

# Equal temperament, A4 = 440 Hz.
declare -A hz=(
  [F2]=87.31 [G2]=98.00 [A2]=110.00 [C3]=130.81
  [F3]=174.61 [G3]=196.00 [A3]=220.00 [B3]=246.94
  [C4]=261.63 [D4]=293.66 [E4]=329.63 [G4]=392.00 [A4]=440.00 [B4]=493.88
  [C5]=523.25 [D5]=587.33 [E5]=659.26 [F5]=698.46 [G5]=783.99 [A5]=880.00
  [B5]=987.77 [C6]=1046.50
)

n=0
parts=()
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }

# tone START DUR FREQ VOL ATTACK RELEASE: one sine, shaped by a quarter-sine
# fade in and out, placed at START seconds.
tone() {
  local f="$tmp/$((n++)).wav"
  sox -R -n -r "$rate" -c 1 -b 32 -e floating-point "$f" \
    synth "$2" sine "$3" vol "$4" fade q "$5" "$2" "$6" pad "$1"
  parts+=("$f")
}

# pad START DUR NOTE VOL: a soft pad voice, the note and its octave at -16 dB.
pad() {
  tone "$1" "$2" "${hz[$3]}" "$4" 0.5 1.2
  tone "$1" "$2" "$(calc "2 * ${hz[$3]}")" "$(calc "$4 * 0.16")" 0.5 1.2
}

# melody BEAT BEATS NOTE: a melody note from beat BEAT (0 = start) for BEATS
# beats, with a quick attack and a long decay.
melody() {
  local start dur
  start=$(calc "$1 * $beat")
  dur=$(calc "$2 * $beat + 0.25")
  tone "$start" "$dur" "${hz[$3]}" 0.30 0.03 "$(calc "$dur * 0.7")"
}

# The chords, one bar (4 beats) each, played twice. The last bar fades
# sooner, leaving room for the loop.
chords=("C3 C4 E4 G4 B4" "A2 A3 C4 E4 G4" "F2 F3 A3 C4 E4" "G2 G3 B3 D4 E4")
for bar in 0 1 2 3 4 5 6 7; do
  start=$(calc "$bar * 4 * $beat")
  dur=3.4
  [[ $bar == 7 ]] && dur=2.6
  read -r bass notes <<<"${chords[bar % 4]}"
  pad "$start" "$dur" "$bass" 0.12
  for note in $notes; do
    pad "$start" "$dur" "$note" 0.08
  done
done

# The melody: BEAT BEATS NOTE.
while read -r b len note; do
  melody "$b" "$len" "$note"
done <<'EOF'
0 1.5 E5
1.5 0.5 G5
2 1 D5
3 1 C5
4 1.5 E5
5.5 0.5 D5
6 1 C5
7 1 A4
8 1.5 A5
9.5 0.5 G5
10 1 F5
11 1 E5
12 2 D5
14 1 B4
15 1 D5
16 1.5 E5
17.5 0.5 G5
18 1 C6
19 1 B5
20 1.5 A5
21.5 0.5 G5
22 2 E5
24 1 F5
25 1 A5
26 1 C6
27 1 A5
28 1.5 G5
29.5 0.5 D5
30 1.5 D5
EOF

# Mix (each part at its own volume), add a small room, cut to the loop
# length, fade in and out, set the peak at -12 dBFS (about -17 dBm0 RMS), and
# write 16-bit PCM.
sox -R -n -r "$rate" -c 1 -b 32 -e floating-point "$tmp/bed.wav" synth "$((length + 1))" sine 0 vol 0 # silence: room for the reverb's tail
mix=(-v 1 "$tmp/bed.wav")
for p in "${parts[@]}"; do mix+=(-v 1 "$p"); done
sox -R -m "${mix[@]}" -b 32 -e floating-point "$tmp/mix.wav"
sox -R "$tmp/mix.wav" "$tmp/room.wav" reverb 40 60 50
sox -R "$tmp/room.wav" -r "$rate" -c 1 -b 16 -e signed-integer "$out" \
  trim 0 "$length" fade q 0.1 "$length" 0.8 gain -n -12
echo "wrote $out: $(soxi -D "$out") s, $(soxi -s "$out") samples"
