#!/usr/bin/env bash
# A local Redis for one machine (the Celery broker for scripts/start), kept under var/redis/.
# Persistent on purpose: an append-only file keeps queued tasks across a restart (unlike the tests' Redis).
#
#   scripts/redis_local.sh start|stop|status   (start prints the REDIS_URL to use)
#   source scripts/redis_local.sh               (defines cc_redis_start, which exports REDIS_URL, and cc_redis_stop)
#
# Port 6379 unless something else listens there; then a free port. A Redis left running by an earlier
# start (say, the script was killed) is found by its pidfile and reused.

CC_REDIS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/var/redis"
CC_REDIS_PIDFILE="$CC_REDIS_DIR/redis.pid"
CC_REDIS_PORTFILE="$CC_REDIS_DIR/port"

_cc_redis_pid() { # prints the PID of our running redis-server, or fails
  local pid
  [[ -f $CC_REDIS_PIDFILE && -f $CC_REDIS_PORTFILE ]] || return 1
  pid="$(<"$CC_REDIS_PIDFILE")"
  [[ $pid =~ ^[0-9]+$ ]] && [[ "$(ps -o comm= -p "$pid" 2>/dev/null)" == redis-server* ]] || return 1
  printf '%s\n' "$pid"
}

_cc_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_cc_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cc_redis_start() {
  local port
  if _cc_redis_pid >/dev/null; then
    port="$(<"$CC_REDIS_PORTFILE")"
    printf 'Redis: reusing the one already running from var/redis on port %s\n' "$port"
  else
    command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2 && return 1; }
    mkdir -p "$CC_REDIS_DIR"
    port=6379
    if _cc_port_in_use "$port"; then
      port="$(_cc_free_port)"
      printf 'Redis: port 6379 is taken, using %s\n' "$port"
    fi
    # appendonly: queued Celery tasks survive a restart; everysec costs at most a second of writes.
    redis-server --bind 127.0.0.1 --port "$port" --dir "$CC_REDIS_DIR" \
      --daemonize yes --pidfile "$CC_REDIS_PIDFILE" --logfile "$CC_REDIS_DIR/redis.log" \
      --appendonly yes --appendfsync everysec
    printf '%s\n' "$port" >"$CC_REDIS_PORTFILE"
    local tries=0
    until [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; do
      if ((++tries > 100)); then # 10 s
        echo "Redis did not answer PING on port $port within 10 s; the end of $CC_REDIS_DIR/redis.log:" >&2
        tail -n 20 "$CC_REDIS_DIR/redis.log" >&2 || true
        return 1
      fi
      sleep 0.1
    done
    printf 'Redis: started on 127.0.0.1:%s (pid %s, data in var/redis)\n' "$port" "$(<"$CC_REDIS_PIDFILE")"
  fi
  export REDIS_URL="redis://127.0.0.1:$port/0"
}

cc_redis_stop() {
  local pid tries=0
  pid="$(_cc_redis_pid)" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0 # Redis flushes the append-only file and exits
  while kill -0 "$pid" 2>/dev/null; do
    if ((++tries > 100)); then
      echo "Redis (pid $pid) did not stop within 10 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$CC_REDIS_PIDFILE" "$CC_REDIS_PORTFILE"
  printf 'Redis: stopped (pid %s)\n' "$pid"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      cc_redis_start
      printf 'REDIS_URL=%s\n' "$REDIS_URL"
      ;;
    stop) cc_redis_stop ;;
    status)
      if pid="$(_cc_redis_pid)"; then
        printf 'running: pid %s, REDIS_URL=redis://127.0.0.1:%s/0\n' "$pid" "$(<"$CC_REDIS_PORTFILE")"
      else
        echo "not running"
        exit 3
      fi
      ;;
    *)
      echo "usage: $0 start|stop|status" >&2
      exit 2
      ;;
  esac
fi
