# Sourced by the bench scripts that start contactpointd.
# wait_for_port LOG PID TRIES INTERVAL: prints the port the daemon says it serves on
# (its "serving on 127.0.0.1:PORT" log line), polling LOG up to TRIES times INTERVAL
# seconds apart. Fails, with the log on stderr, when the daemon exits first or never says.
wait_for_port() {
  local log=$1 pid=$2 tries=$3 interval=$4 port=
  for _ in $(seq 1 "$tries"); do
    port=$(sed -n 's/.*serving on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" 2>/dev/null || true)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep "$interval"
  done
  return 1
}
