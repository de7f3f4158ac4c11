#!/usr/bin/env bash
# run.sh DIR   Runs linphonec (linphone-cli) in the foreground as a headless test
# phone: no sound card (ALSA "null" device), audio sent from a WAV, received audio
# recorded to DIR/rec.wav, incoming calls answered automatically. It reads its
# commands from the FIFO DIR/in, e.g.  echo "call sip:1002@127.0.0.1" > DIR/in
# Settings from the environment; defaults in brackets:
#   LP_IP [127.0.0.1]  LP_PORT [5094]  LP_RTP_PORT [7078]
#   LP_USER [1005]  LP_PASSWORD [secret]  LP_REGISTRAR [127.0.0.1:5060] (host:port; empty: no REGISTER)
#   LP_WAV [required: WAV to send (16-bit PCM, 8 kHz mono is fine)]
# Commands: call SIP_URI | terminate | answer | 123# (digits: RFC 4733 DTMF) | quit
set -euo pipefail
dir=${1:?usage: run.sh DIR}
if ! command -v linphonec >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linphone-cli >/dev/null
fi
: "${LP_WAV:?set LP_WAV to a WAV file}"
mkdir -p "$dir/.local/share/linphone"
dir=$(cd "$dir" && pwd)
wav=$(cd "$(dirname "$LP_WAV")" && pwd)/$(basename "$LP_WAV")
# linphone refuses to call without a sound card; ALSA's null device stands in for one
printf 'pcm.!default {\n  type null\n}\n' > "$dir/.asoundrc"
# [sip] contact/guess_hostname and [rtp] bind_address keep the identity and the SDP
# address on LP_IP: without a registrar linphonec otherwise offers the machine's
# default-route address (IPv6 if it has one) and baresip rejects the call.
cat > "$dir/linphonerc" <<CFG
[sip]
sip_port=${LP_PORT:-5094}
sip_tcp_port=-1
sip_tls_port=-1
bind_address=${LP_IP:-127.0.0.1}
contact=sip:${LP_USER:-1005}@${LP_IP:-127.0.0.1}
guess_hostname=0
[rtp]
audio_rtp_port=${LP_RTP_PORT:-7078}
bind_address=${LP_IP:-127.0.0.1}
[sound]
echocancellation=0
[video]
enabled=0
capture=0
display=0
automatically_initiate=0
automatically_accept=0
CFG
rm -f "$dir/in"; mkfifo "$dir/in"
{
  echo "soundcard use files"
  echo "play $wav"
  echo "record $dir/rec.wav"
  reg=${LP_REGISTRAR-127.0.0.1:5060}
  if [ -n "$reg" ]; then
    echo "register sip:${LP_USER:-1005}@${reg%:*} sip:$reg ${LP_PASSWORD:-secret}"
  fi
} > "$dir/setup"
exec 3<>"$dir/in"       # hold the FIFO open so linphonec never sees end-of-input
export HOME=$dir        # .asoundrc, call history and zrtp cache live here
( sleep 1; cat "$dir/setup" > "$dir/in" ) &
exec linphonec -c "$dir/linphonerc" -a -d 1 -l "$dir/linphone.log" <&3
