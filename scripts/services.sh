#!/usr/bin/env bash
# Starts the local services the tests use (PostgreSQL, NATS JetStream, Mosquitto) when one is down.
# These machines start them before a session; a service that stopped is started with the same
# command the machine uses, so tests never skip for want of a server.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    up "$port" && return 0
    sleep 0.5
  done
  echo "services: $name did not come up on 127.0.0.1:$port" >&2
  exit 1
}

if ! up 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_up PostgreSQL 5432
fi
if ! up 4222; then
  echo "services: starting NATS"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_up NATS 4222
fi
if ! up 1883; then
  echo "services: starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_up Mosquitto 1883
fi
