#!/bin/sh
# Entry point of the xConnector image. Two short aliases, otherwise the command
# runs as given. `exec` hands PID 1 (and so the stop signal) to the process.
#
#   migrate [args]   python manage.py migrate --noinput [args]
#   manage  args     python manage.py args
#   anything else    run as is (gunicorn ..., celery ..., sh)
set -eu

case "${1:-}" in
    migrate)
        shift
        exec python manage.py migrate --noinput "$@"
        ;;
    manage)
        shift
        exec python manage.py "$@"
        ;;
esac

exec "$@"
