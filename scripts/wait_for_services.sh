#!/usr/bin/env bash
# Wait until PostgreSQL and Redis accept connections.
#
#   scripts/wait_for_services.sh            # wait for both, up to 30 s
#   WAIT_TIMEOUT=60 scripts/wait_for_services.sh postgres
#
# Environment: PGHOST/PGPORT (default 127.0.0.1:5432),
# REDIS_HOST/REDIS_PORT (default 127.0.0.1:6379), WAIT_TIMEOUT (seconds).
# Exits non-zero if a service is still unreachable after the timeout.
set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-30}"

postgres_ready() { pg_isready -q -h "$PGHOST" -p "$PGPORT"; }
redis_ready() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_for() {
    local name="$1" check="$2" waited=0
    printf 'waiting for %s ' "$name"
    until "$check"; do
        if [ "$waited" -ge "$WAIT_TIMEOUT" ]; then
            printf '\n%s is not reachable after %ss\n' "$name" "$WAIT_TIMEOUT" >&2
            return 1
        fi
        printf '.'
        sleep 1
        waited=$((waited + 1))
    done
    printf 'ok (%ss)\n' "$waited"
}

services=("$@")
[ "${#services[@]}" -gt 0 ] || services=(postgres redis)

for service in "${services[@]}"; do
    case "$service" in
        postgres) wait_for "PostgreSQL on $PGHOST:$PGPORT" postgres_ready ;;
        redis) wait_for "Redis on $REDIS_HOST:$REDIS_PORT" redis_ready ;;
        *) echo "unknown service: $service (expected postgres or redis)" >&2; exit 2 ;;
    esac
done
