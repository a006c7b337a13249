#!/usr/bin/env bash
# A local mail set-up for one machine (scripts/start, when no CC_IMAP_HOST is configured), under var/mail/:
#   - Dovecot with IMAP on 127.0.0.1:1143 and LMTP on 127.0.0.1:2424, one mailbox: the shared inbox
#     ekase@kase.gov.lv (password "valstskase"), with INBOX and Sent, kept across restarts;
#   - an SMTP server on 127.0.0.1:8025 (aiosmtpd) that keeps every message the product sends in the
#     maildir var/mail/outgoing/ (nothing leaves the machine).
#
#   scripts/mail_local.sh start|stop|status
#   scripts/mail_local.sh send [SUBJECT [FROM]]   a client's message into the local inbox (body from stdin
#                                                 when it is not a terminal), as a mail server would (LMTP)
#   source scripts/mail_local.sh                  (defines cc_mail_start, which exports CC_IMAP_* and
#                                                 CC_SMTP_*, and cc_mail_stop)
#
# Dovecot switches to the "nobody" user to touch mail, so this needs root (scripts/start runs as root or
# with sudo for apt-get anyway).

CC_MAIL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/var/mail"
CC_MAIL_ADDRESS="ekase@kase.gov.lv"
CC_MAIL_PASSWORD="valstskase"
CC_MAIL_IMAP_PORT=1143
CC_MAIL_LMTP_PORT=2424
CC_MAIL_SMTP_PORT=8025
CC_MAIL_PYTHON="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/python"

_cc_mail_pid() { # $1: pidfile; prints the PID when that process runs
  local pid
  [[ -f $1 ]] || return 1
  pid="$(<"$1")"
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

_cc_mail_config() {
  cat <<EOF
base_dir = $CC_MAIL_DIR/run
state_dir = $CC_MAIL_DIR/state
log_path = $CC_MAIL_DIR/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
lmtp_save_to_detail_mailbox = no
lda_mailbox_autocreate = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $CC_MAIL_DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $CC_MAIL_DIR/users
  default_fields = home=$CC_MAIL_DIR/store/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    auto = subscribe
    special_use = \\Sent
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $CC_MAIL_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $CC_MAIL_LMTP_PORT
  }
}
EOF
}

_cc_mail_wait_port() { # $1 port, $2 name, $3 log
  local tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if ((++tries > 100)); then
      echo "$2 did not listen on 127.0.0.1:$1 within 10 s; the end of $3:" >&2
      tail -n 20 "$3" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

_cc_mail_start_dovecot() {
  if _cc_mail_pid "$CC_MAIL_DIR/dovecot.pid" >/dev/null; then
    echo "Mail: reusing the Dovecot already running from var/mail"
    return 0
  fi
  ((EUID == 0)) || { echo "the local mailbox needs root (Dovecot runs mail access as nobody)" >&2 && return 1; }
  mkdir -p "$CC_MAIL_DIR/store" "$CC_MAIL_DIR/run" "$CC_MAIL_DIR/state"
  chmod 755 "$CC_MAIL_DIR"
  chown nobody:nogroup "$CC_MAIL_DIR/store"
  printf '%s:{PLAIN}%s::::::\n' "$CC_MAIL_ADDRESS" "$CC_MAIL_PASSWORD" >"$CC_MAIL_DIR/users"
  chmod 644 "$CC_MAIL_DIR/users"
  _cc_mail_config >"$CC_MAIL_DIR/dovecot.conf"
  dovecot -F -c "$CC_MAIL_DIR/dovecot.conf" >>"$CC_MAIL_DIR/dovecot.log" 2>&1 &
  printf '%s\n' "$!" >"$CC_MAIL_DIR/dovecot.pid"
  _cc_mail_wait_port "$CC_MAIL_IMAP_PORT" Dovecot "$CC_MAIL_DIR/dovecot.log"
  printf 'Mail: Dovecot on 127.0.0.1:%s (IMAP) and :%s (LMTP), mailbox %s, mail in var/mail/store\n' \
    "$CC_MAIL_IMAP_PORT" "$CC_MAIL_LMTP_PORT" "$CC_MAIL_ADDRESS"
}

_cc_mail_start_smtp() {
  if _cc_mail_pid "$CC_MAIL_DIR/smtp.pid" >/dev/null; then
    return 0
  fi
  mkdir -p "$CC_MAIL_DIR/outgoing/tmp" "$CC_MAIL_DIR/outgoing/new" "$CC_MAIL_DIR/outgoing/cur" # a maildir
  "$CC_MAIL_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$CC_MAIL_SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$CC_MAIL_DIR/outgoing" \
    >>"$CC_MAIL_DIR/smtp.log" 2>&1 &
  printf '%s\n' "$!" >"$CC_MAIL_DIR/smtp.pid"
  _cc_mail_wait_port "$CC_MAIL_SMTP_PORT" "the SMTP server" "$CC_MAIL_DIR/smtp.log"
  printf 'Mail: SMTP on 127.0.0.1:%s keeps what the product sends in var/mail/outgoing/\n' "$CC_MAIL_SMTP_PORT"
}

cc_mail_start() {
  command -v dovecot >/dev/null || { echo "dovecot is not installed" >&2 && return 1; }
  _cc_mail_start_dovecot || return 1
  _cc_mail_start_smtp || return 1
  export CC_IMAP_HOST=127.0.0.1 CC_IMAP_PORT="$CC_MAIL_IMAP_PORT" CC_IMAP_TLS=none
  export CC_IMAP_USER="$CC_MAIL_ADDRESS" CC_IMAP_PASSWORD="$CC_MAIL_PASSWORD" CC_MAIL_FROM="$CC_MAIL_ADDRESS"
  export CC_SMTP_HOST=127.0.0.1 CC_SMTP_PORT="$CC_MAIL_SMTP_PORT" CC_SMTP_TLS=none
}

cc_mail_stop() {
  local name pid tries
  for name in smtp dovecot; do
    pid="$(_cc_mail_pid "$CC_MAIL_DIR/$name.pid")" || continue
    kill -TERM "$pid" 2>/dev/null || true
    tries=0
    while kill -0 "$pid" 2>/dev/null && ((++tries <= 100)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$CC_MAIL_DIR/$name.pid"
  done
  echo "Mail: local Dovecot and SMTP stopped"
}

cc_mail_send() { # $1 subject, $2 sender; the body comes from stdin
  "$CC_MAIL_PYTHON" - "$CC_MAIL_LMTP_PORT" "$CC_MAIL_ADDRESS" "${1:-Jautājums / Question}" "${2:-klients@example.org}" <<'PY'
import smtplib, sys
from email.message import EmailMessage
from email.utils import make_msgid

port, rcpt, subject, sender = sys.argv[1:5]
message = EmailMessage()
message["From"], message["To"], message["Subject"] = sender, rcpt, subject
message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
message.set_content(sys.stdin.read() if not sys.stdin.isatty() else "Labdien! Lūdzu, palīdziet.\n")
with smtplib.LMTP("127.0.0.1", int(port)) as lmtp:
    lmtp.send_message(message)
print(f"delivered {message['Message-ID']} to {rcpt}")
PY
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    start) cc_mail_start ;;
    stop) cc_mail_stop ;;
    send) cc_mail_send "${2:-}" "${3:-}" ;;
    status)
      if pid="$(_cc_mail_pid "$CC_MAIL_DIR/dovecot.pid")"; then
        printf 'running: Dovecot pid %s, IMAP 127.0.0.1:%s, mailbox %s\n' "$pid" "$CC_MAIL_IMAP_PORT" "$CC_MAIL_ADDRESS"
      else
        echo "not running"
        exit 3
      fi
      ;;
    *)
      echo "usage: $0 start|stop|status|send [SUBJECT [FROM]]" >&2
      exit 2
      ;;
  esac
fi
