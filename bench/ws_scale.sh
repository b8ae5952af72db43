#!/usr/bin/env bash
# WebSocket scale check: N VUs each hold one connection to `hornet target` (another process, on
# loopback) and send a message every 5 s, waiting for its echo. Prints the generator's memory per
# connection and CPU per message, measured from /proc.
#
# usage: bench/ws_scale.sh HORNET_BINARY [CONNECTIONS=10000] [RAMP_SECONDS=20] [LOOPS=8]
#
# Builds nothing: pass a (release) hornet binary. Loopback only. Raises `ulimit -n` itself (to the
# hard limit), and is bounded in time: the run takes RAMP + LOOPS * 5 s plus a few seconds, and is
# killed after twice that.
set -euo pipefail

HORNET=${1:?usage: bench/ws_scale.sh HORNET_BINARY [CONNECTIONS] [RAMP_SECONDS] [LOOPS]}
N=${2:-10000}
RAMP=${3:-20}
LOOPS=${4:-8}
THINK=5

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((N + 1000)) ]; then
  echo "ulimit -n is $(ulimit -n): need at least $((N + 1000)) open files" >&2
  exit 2
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the target picks a free port and prints it.
"$HORNET" target --addr 127.0.0.1:0 --threads 1 >"$work/target.log" 2>&1 &
pids+=($!)
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's|^hornet target listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/target.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "hornet target did not start:" >&2
  cat "$work/target.log" >&2
  exit 1
fi

cat >"$work/ws.yaml" <<EOF
config:
  target: "ws://127.0.0.1:$PORT"
  phases:
    - { duration: $RAMP, arrivalCount: $N }
  ws: { timeout: 30 }
  gracefulStop: 60
scenarios:
  - engine: ws
    flow:
      - connect: /ws/echo
      - loop:
          - send: { payload: "ping {{ \$loopCount }}", match: { regexp: "^ping", value: ping }, name: echo }
          - think: $THINK
        count: $LOOPS
EOF

limit=$(( (RAMP + LOOPS * THINK + 30) * 2 ))
CI=true "$HORNET" run "$work/ws.yaml" -o "$work/report.json" --no-dashboard >"$work/run.log" 2>&1 &
hpid=$!
pids+=($hpid)
# Watchdog: the run is killed after `limit` seconds.
(sleep "$limit"; kill "$hpid" 2>/dev/null) &
pids+=($!)
sleep 0.3
# Sample: seconds since start, VmRSS (kB), utime + stime (clock ticks).
start=$(date +%s.%N)
while kill -0 "$hpid" 2>/dev/null; do
  if rss=$(awk '/^VmRSS/ {print $2}' "/proc/$hpid/status" 2>/dev/null) \
    && hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$hpid/status" 2>/dev/null) \
    && cpu=$(awk '{print $14 + $15}' "/proc/$hpid/stat" 2>/dev/null); then
    now=$(date +%s.%N)
    echo "$(awk -v a="$now" -v b="$start" 'BEGIN { print a - b }') $rss $hwm $cpu" >>"$work/samples"
  fi
  sleep 0.5
done
wait "$hpid" || true
if [ ! -s "$work/report.json" ]; then
  echo "the run wrote no report:" >&2
  tail -20 "$work/run.log" >&2
  exit 1
fi

python3 - "$work/samples" "$work/report.json" "$N" "$RAMP" "$LOOPS" "$THINK" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
samples_path, report_path, n, ramp, loops, think, tck = sys.argv[1:]
n, ramp, loops, think, tck = int(n), float(ramp), int(loops), float(think), float(tck)
samples = [tuple(map(float, l.split())) for l in open(samples_path) if l.strip()]
report = json.load(open(report_path))
c = report["aggregate"]["counters"]
baseline = samples[0][1]
hwm = max(s[2] for s in samples)
# The steady window: every VU connected, none finished (the last arrival at `ramp`, the first
# VU ends after loops * think).
lo, hi = ramp + 2.0, loops * think - 2.0
window = [s for s in samples if lo <= s[0] <= hi]
plateau = max(s[1] for s in window) if window else hwm
errors = {k: v for k, v in c.items() if k.startswith("errors.")}
print(f"connections opened:     {c.get('websocket.connections', 0)} (errors: {c.get('errors', 0)} {errors})")
for e in report.get("errors", [])[:3]:
    print(f"  {e['kind']} on {e['endpoint']}: {e['first_message']}")
print(f"messages sent/received: {c.get('websocket.messages_sent', 0)} / {c.get('websocket.messages_received', 0)}")
rtt = report["aggregate"]["summaries"].get("websocket.rtt", {})
print(f"rtt p50/p99/max (ms):   {rtt.get('p50')} / {rtt.get('p99')} / {rtt.get('max')}")
print(f"RSS baseline:           {baseline/1024:.1f} MiB")
print(f"RSS with {n} connections (steady window max): {plateau/1024:.1f} MiB; VmHWM {hwm/1024:.1f} MiB")
print(f"RSS per connection:     {(plateau - baseline) * 1024 / n / 1024:.1f} KiB (VmHWM-based: {(hwm - baseline) * 1024 / n / 1024:.1f} KiB)")
if len(window) >= 2:
    t0, t1 = window[0][0], window[-1][0]
    cpu_s = (window[-1][3] - window[0][3]) / tck
    msgs = 0
    for p in report["intervals"]:
        mid = p["t_s"] + p["duration_s"] / 2
        if t0 <= mid <= t1:
            pc = p["counters"]
            msgs += pc.get("websocket.messages_sent", 0) + pc.get("websocket.messages_received", 0)
    if msgs:
        print(f"CPU in steady window:   {cpu_s:.2f} s over {t1 - t0:.0f} s, {msgs} messages (sent + received)")
        print(f"CPU per message:        {cpu_s * 1e6 / msgs:.1f} us")
EOF
