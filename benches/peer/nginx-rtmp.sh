#!/bin/sh
# The peer for `arcly-bench compare`: Debian's nginx with libnginx-mod-rtmp
# on loopback, one worker pinned to one CPU, `application live { live on; }`
# and otherwise the module's defaults (no GOP cache).
#
#   nginx-rtmp.sh start PORT CPU   prints "master=PID worker=PID"
#   nginx-rtmp.sh stop PORT
#
# Everything lives in /tmp/arcly-bench-nginx-PORT (config, pid file, logs).
set -eu

usage() {
    echo "usage: $0 start PORT CPU | stop PORT" >&2
    exit 2
}

[ $# -ge 2 ] || usage
action=$1
port=$2
dir=/tmp/arcly-bench-nginx-$port
module=/usr/lib/nginx/modules/ngx_rtmp_module.so

case $action in
start)
    [ $# -eq 3 ] || usage
    cpu=$3
    if ! command -v nginx >/dev/null 2>&1 || [ ! -f "$module" ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                nginx-light libnginx-mod-rtmp >&2
        else
            echo "nginx-rtmp missing: run apt-get install nginx-light libnginx-mod-rtmp" >&2
            exit 1
        fi
    fi
    # worker_cpu_affinity takes a bit mask, CPU 0 rightmost.
    mask=1
    i=0
    while [ "$i" -lt "$cpu" ]; do
        mask=${mask}0
        i=$((i + 1))
    done
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<CONF
daemon on;
master_process on;
worker_processes 1;
worker_cpu_affinity $mask;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
load_module $module;

events {
    worker_connections 19000;
}

rtmp {
    server {
        listen 127.0.0.1:$port;
        application live {
            live on;
        }
    }
}
CONF
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    master=
    worker=
    tries=0
    while [ -z "$worker" ] && [ "$tries" -lt 100 ]; do
        sleep 0.05
        tries=$((tries + 1))
        [ -s "$dir/nginx.pid" ] || continue
        master=$(cat "$dir/nginx.pid")
        worker=$(ps --ppid "$master" -o pid= | tr -d ' ' | head -n 1)
    done
    if [ -z "$worker" ]; then
        echo "nginx did not start; see $dir/error.log" >&2
        exit 1
    fi
    echo "master=$master worker=$worker"
    ;;
stop)
    [ -s "$dir/nginx.pid" ] || exit 0
    master=$(cat "$dir/nginx.pid")
    kill -TERM "$master" 2>/dev/null || true
    tries=0
    while kill -0 "$master" 2>/dev/null && [ "$tries" -lt 100 ]; do
        sleep 0.05
        tries=$((tries + 1))
    done
    kill -KILL "$master" 2>/dev/null || true
    ;;
*)
    usage
    ;;
esac
