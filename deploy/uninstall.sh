#!/usr/bin/env bash
# Removes what deploy/install.sh installed. Keeps /var/lib/bagbot (orders, fills, state) and
# /etc/bagbot unless asked:
#
#   deploy/uninstall.sh [--purge-state] [--purge-config]
set -euo pipefail
purge_state=no
purge_config=no
while [ $# -gt 0 ]; do
  case "$1" in
    --purge-state) purge_state=yes; shift ;;
    --purge-config) purge_config=yes; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }

units=(bagbot-gateway.service bagbot-arsenald.service bagbot-routerd.service bagbot-mindsetd.service bagbot.target)
if [ -d /run/systemd/system ]; then
  systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
fi
for unit in "${units[@]}"; do rm -f "/etc/systemd/system/$unit"; done
[ -d /run/systemd/system ] && systemctl daemon-reload
for binary in mindsetd arsenald routerd gateway bagbot; do rm -f "/usr/local/bin/$binary"; done
rm -rf /usr/local/share/doc/bagbot /usr/local/share/bagbot
if [ "$purge_config" = yes ]; then rm -rf /etc/bagbot; echo "uninstall: removed /etc/bagbot"; fi
if [ "$purge_state" = yes ]; then
  rm -rf /var/lib/bagbot
  echo "uninstall: removed /var/lib/bagbot"
else
  echo "uninstall: kept /var/lib/bagbot (orders, fills, state); --purge-state removes it"
fi
if getent passwd bagbot >/dev/null && [ "$purge_state" = yes ]; then userdel bagbot 2>/dev/null || true; fi
if getent group bagbot >/dev/null && [ "$purge_state" = yes ]; then groupdel bagbot 2>/dev/null || true; fi
echo "uninstall: done"
