#!/usr/bin/env bash
# make.sh: make Ringdesk's default sounds: the hold music and the voicemail
# beep with sox (SoX 14.4) from nothing but sine waves, and the spoken prompts
# with espeak-ng (1.51) from the texts below. No samples, no recordings, no
# third-party audio.
#
#   configs/sounds/make.sh            writes every sound into configs/sounds
#   configs/sounds/make.sh -d DIR     writes every sound into DIR
#   configs/sounds/make.sh OUT.wav    writes the hold music alone to OUT.wav
#
# Every file is 8 kHz mono 16-bit PCM WAV. Running this again gives the same
# files, byte for byte (sox -R; espeak-ng is deterministic), with the same
# versions of sox and espeak-ng.
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
# Prompts (welcome.wav, menu-*.wav, ...): the texts in the prompts table
# below, spoken by espeak-ng (voice en-us, 150 words per minute), resampled
# to 8 kHz by sox and normalised to a peak of -6 dBFS.
#
# beep.wav: the voicemail tone, a 1000 Hz sine for 0.4 s with 10 ms ramps,
# peak -12 dBFS.
set -euo pipefail

here=$(dirname "$0")
case "${1:-}" in
-d)
  [[ $# == 2 ]] || { echo "usage: make.sh [-d DIR | OUT.wav]" >&2; exit 2; }
  dir=$2 only=
  ;;
-*)
  echo "usage: make.sh [-d DIR | OUT.wav]" >&2
  exit 2
  ;;
"")
  dir=$here only=
  ;;
*)
  dir= only=$1
  ;;
esac
command -v sox >/dev/null || { echo "make.sh: needs sox (apt-get install sox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rate=8000

# hold_music OUT: the hold music.
hold_music() {
  local out=$1
  local beat=0.75 # seconds: 80 beats per minute
  local length=24 # seconds: 8 bars of 4 beats

  # Equal temperament, A4 = 440 Hz.
  declare -A hz=(
    [F2]=87.31 [G2]=98.00 [A2]=110.00 [C3]=130.81
    [F3]=174.61 [G3]=196.00 [A3]=220.00 [B3]=246.94
    [C4]=261.63 [D4]=293.66 [E4]=329.63 [G4]=392.00 [A4]=440.00 [B4]=493.88
    [C5]=523.25 [D5]=587.33 [E5]=659.26 [F5]=698.46 [G5]=783.99 [A5]=880.00
    [B5]=987.77 [C6]=1046.50
  )

  local n=0
  local parts=()
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
  local chords=("C3 C4 E4 G4 B4" "A2 A3 C4 E4 G4" "F2 F3 A3 C4 E4" "G2 G3 B3 D4 E4")
  local bar start dur bass notes note
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
  local b len
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
  local mix=(-v 1 "$tmp/bed.wav") p
  for p in "${parts[@]}"; do mix+=(-v 1 "$p"); done
  sox -R -m "${mix[@]}" -b 32 -e floating-point "$tmp/mix.wav"
  sox -R "$tmp/mix.wav" "$tmp/room.wav" reverb 40 60 50
  sox -R "$tmp/room.wav" -r "$rate" -c 1 -b 16 -e signed-integer "$out" \
    trim 0 "$length" fade q 0.1 "$length" 0.8 gain -n -12
  echo "wrote $out: $(soxi -D "$out") s, $(soxi -s "$out") samples"
}

if [[ -n $only ]]; then
  hold_music "$only"
  exit 0
fi

command -v espeak-ng >/dev/null || { echo "make.sh: needs espeak-ng (apt-get install espeak-ng)" >&2; exit 1; }
mkdir -p "$dir"
hold_music "$dir/hold-music.wav"

# beep.wav: the voicemail tone: 1000 Hz for 0.4 s, 10 ms linear ramps, peak
# -12 dBFS.
sox -R -n -r "$rate" -c 1 -b 16 -e signed-integer "$dir/beep.wav" \
  synth 0.4 sine 1000 fade t 0.01 0.4 0.01 gain -n -12
echo "wrote $dir/beep.wav: $(soxi -D "$dir/beep.wav") s, $(soxi -s "$dir/beep.wav") samples"

# prompt NAME TEXT: NAME.wav says TEXT. espeak-ng (voice en-us, 150 words per
# minute) reads the text from stdin and writes 22.05 kHz 16-bit PCM; sox
# resamples it to 8 kHz and sets its peak at -6 dBFS.
prompt() {
  local out="$dir/$1.wav"
  printf '%s' "$2" | espeak-ng -v en-us -s 150 -w "$tmp/speech.wav"
  sox -R "$tmp/speech.wav" -r "$rate" -c 1 -b 16 -e signed-integer "$out" rate "$rate" gain -n -6
  echo "wrote $out: $(soxi -D "$out") s, $(soxi -s "$out") samples"
}

# The prompts: NAME|TEXT, one a line. configs/sounds/README.md lists them too.
while IFS='|' read -r name text; do
  prompt "$name" "$text"
done <<'EOF'
welcome|Thank you for calling Ringdesk.
menu-main|For sales, press 1. For support, press 2. For billing, press 3. To speak to the operator, press 0. To hear these options again, press star.
menu-billing|For invoices, press 1. To leave a message for billing, press 2. To go back, press star.
on-hold|Thank you for waiting. An agent will be with you shortly.
all-busy|All our agents are busy. Please leave a message after the tone.
unavailable|Sorry, no agent is available to take your call.
after-hours|We are closed now. Our office hours are Monday to Friday, nine to six. Please leave a message after the tone.
voicemail|Please leave your message after the tone. Press the pound key when you are done.
EOF
