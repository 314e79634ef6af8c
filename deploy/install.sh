#!/usr/bin/env bash
# Installs BAGBOT as systemd services. Run from the repository root, as root.
# Idempotent: a second run changes nothing, and an edited /etc/bagbot/bagbot.yaml is never overwritten.
#
#   deploy/install.sh [--build-dir DIR] [--data-dir DIR] [--start]
#
#   --build-dir DIR  use binaries already built in DIR instead of building in release mode
#   --data-dir DIR   tick files to replay (copied to /var/lib/bagbot/replay once); default: ../shared/data
#                    when present, else the synthetic feed
#   --start          enable and start bagbot.target at the end
set -euo pipefail

build_dir=""
data_dir=""
start=no
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --start) start=yes; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ -f Package.swift ] && [ -d systemd ] || { echo "install.sh: run from the repository root" >&2; exit 1; }

changed=0
note() { echo "install: $*"; changed=1; }

daemons=(mindsetd arsenald routerd gateway)
if [ -z "$build_dir" ]; then
  # Static Swift runtime: the binaries run on a machine without the toolchain.
  swift build -c release --static-swift-stdlib
  build_dir=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
for binary in "${daemons[@]}" bagbot; do
  [ -x "$build_dir/$binary" ] || { echo "install.sh: $build_dir/$binary is missing (build first, or drop --build-dir)" >&2; exit 1; }
done

# User and group.
if ! getent group bagbot >/dev/null; then groupadd --system bagbot; note "created group bagbot"; fi
if ! getent passwd bagbot >/dev/null; then
  useradd --system --gid bagbot --home-dir /var/lib/bagbot --no-create-home --shell /usr/sbin/nologin bagbot
  note "created user bagbot"
fi

# install_if_changed SRC DEST MODE
install_if_changed() {
  if ! cmp -s "$1" "$2"; then
    install -D -m "$3" "$1" "$2"
    note "installed $2"
  fi
}
for binary in "${daemons[@]}" bagbot; do install_if_changed "$build_dir/$binary" "/usr/local/bin/$binary" 0755; done
# The web dashboard's static files (gateway.dashboard_dir's default when installed).
dashboard="$build_dir/bagbot_GatewayCore.resources/Dashboard"
[ -f "$dashboard/index.html" ] || { echo "install.sh: $dashboard is missing (the build copies it beside the binaries)" >&2; exit 1; }
(cd "$dashboard" && find . -type f) | while read -r file; do
  install_if_changed "$dashboard/$file" "/usr/local/share/bagbot/dashboard/${file#./}" 0644
done
# A file an older version had and this one has not is removed, so the page never loads a stale script.
[ -d /usr/local/share/bagbot/dashboard ] && (cd /usr/local/share/bagbot/dashboard && find . -type f) | while read -r file; do
  [ -f "$dashboard/$file" ] || { rm -f "/usr/local/share/bagbot/dashboard/${file#./}"; note "removed /usr/local/share/bagbot/dashboard/${file#./}"; }
done

units_changed=0
for unit in systemd/*.service systemd/*.target; do
  target="/etc/systemd/system/$(basename "$unit")"
  cmp -s "$unit" "$target" || units_changed=1
  install_if_changed "$unit" "$target" 0644
done
for doc in docs/operations.md docs/configuration.md docs/ipc.md docs/architecture.md; do
  [ -f "$doc" ] && install_if_changed "$doc" "/usr/local/share/doc/bagbot/$(basename "$doc")" 0644
done

install -d -m 0750 -o root -g bagbot /etc/bagbot
install -d -m 0700 -o root -g root /etc/bagbot/credentials
install -d -m 0750 -o bagbot -g bagbot /var/lib/bagbot

# Replay data for the default paper setup.
if [ -z "$data_dir" ] && [ -d ../shared/data ]; then data_dir=$(cd ../shared/data && pwd); fi
replay=/var/lib/bagbot/replay
if [ -n "$data_dir" ]; then
  install -d -m 0750 -o bagbot -g bagbot "$replay"
  for file in "$data_dir"/*.csv; do
    [ -e "$file" ] || continue
    if [ ! -e "$replay/$(basename "$file")" ]; then
      install -m 0640 -o bagbot -g bagbot "$file" "$replay/"
      note "copied $(basename "$file") to $replay"
    fi
  done
fi

# The configuration: written once, never overwritten.
config=/etc/bagbot/bagbot.yaml
if [ ! -e "$config" ]; then
  cat > "$config" <<YAML
# BAGBOT configuration. Every key left out has its default: see
# /usr/local/share/doc/bagbot/configuration.md. Restart the units after editing.
paths:
  run_dir: /run/bagbot
  state_dir: /var/lib/bagbot
ipc:
  socket_group: bagbot
  socket_mode: "0660"
router:
  mode: paper
  replay:
    data_dir: $replay
    speed: "1"
    loop: true
YAML
  chown root:bagbot "$config"
  chmod 0640 "$config"
  note "wrote $config"
fi

# The first admin token, delivered to the gateway with LoadCredential= (never the environment).
token_file=/etc/bagbot/credentials/admin-token
if [ ! -e "$token_file" ]; then
  token=$(/usr/local/bin/bagbot token)
  ( umask 077; printf '%s\n' "$token" > "$token_file" )
  note "created the first admin token in $token_file (root only; erased there once the gateway has stored its hash, at its first start):"
  echo "  $token"
  note "copy it now: it is shown once"
fi

if [ "$units_changed" -eq 1 ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
if [ "$start" = yes ]; then
  systemctl enable --now bagbot.target
  for daemon in "${daemons[@]}"; do systemctl enable "bagbot-$daemon.service" >/dev/null 2>&1; done
fi
[ "$changed" -eq 0 ] && echo "install: nothing to change"
exit 0
