#!/usr/bin/env bats
# The control API and its command-line client: health, reset, the virtual clock, usage and
# exit codes.

load helpers

setup_file() {
    fogbank_start
}

teardown_file() {
    fogbank_stop
}

ctl() {
    "$FOGBANK_BIN" ctl --endpoint "$FB_URL" "$@"
}

@test "GET /_fogbank/health answers with version and uptime" {
    run curl -sf "$FB_URL/_fogbank/health"
    [ "$status" -eq 0 ]
    [ "$(jq -r .status <<<"$output")" = ok ]
    [ "$(jq -r .version <<<"$output")" = "$("$FOGBANK_BIN" version | awk '{print $NF}')" ]
    jq -e '.uptime_seconds >= 0' <<<"$output"
}

@test "ctl health prints ok, and --json the raw answer" {
    run ctl health
    [ "$status" -eq 0 ]
    [[ "$output" == ok* ]]
    run ctl --json health
    [ "$status" -eq 0 ]
    [ "$(jq -r .status <<<"$output")" = ok ]
}

@test "FOGBANK_ENDPOINT names the server" {
    FOGBANK_ENDPOINT="$FB_URL" run "$FOGBANK_BIN" ctl health
    [ "$status" -eq 0 ]
}

@test "the frozen clock moves only when advanced, by exactly the duration" {
    before=$(ctl --json clock show | jq .now_ms)
    sleep 0.05
    [ "$(ctl --json clock show | jq .now_ms)" -eq "$before" ]
    run ctl --json clock advance 10m
    [ "$status" -eq 0 ]
    [ "$(jq .now_ms <<<"$output")" -eq $((before + 600000)) ]
    run ctl --json clock advance 1h30m
    [ "$(jq .now_ms <<<"$output")" -eq $((before + 600000 + 5400000)) ]
}

@test "clock scale makes virtual time run" {
    run ctl --json clock scale 1000
    [ "$status" -eq 0 ]
    [ "$(jq .scale <<<"$output")" = 1000 ]
    before=$(ctl --json clock show | jq .now_ms)
    sleep 0.1
    after=$(ctl --json clock show | jq .now_ms)
    [ "$((after - before))" -ge 50000 ]
    run ctl --json clock scale 0
    [ "$(jq .scale <<<"$output")" = 0 ]
}

@test "the control API rejects bad requests with JSON errors" {
    run curl -s -w '\n%{http_code}' -X POST -d '{"by":"soon"}' "$FB_URL/_fogbank/clock/advance"
    [ "${lines[-1]}" = 400 ]
    run curl -s -w '\n%{http_code}' -X POST -d '{"scale":-1}' "$FB_URL/_fogbank/clock/scale"
    [ "${lines[-1]}" = 400 ]
    run curl -s -w '\n%{http_code}' -X POST -d 'not json' "$FB_URL/_fogbank/clock/scale"
    [ "${lines[-1]}" = 400 ]
    run curl -s -w '\n%{http_code}' "$FB_URL/_fogbank/nowhere"
    [ "${lines[-1]}" = 404 ]
    run curl -s -w '\n%{http_code}' -X DELETE "$FB_URL/_fogbank/health"
    [ "${lines[-1]}" = 405 ]
    assert_alive
}

@test "ctl reset answers and the server goes on" {
    run ctl reset
    [ "$status" -eq 0 ]
    run awsfb ec2 describe-availability-zones
    [ "$status" -eq 0 ]
}

@test "ctl exit codes: 2 for usage, 1 for an unreachable server" {
    run "$FOGBANK_BIN" ctl clock advance
    [ "$status" -eq 2 ]
    run "$FOGBANK_BIN" ctl frobnicate
    [ "$status" -eq 2 ]
    run "$FOGBANK_BIN" ctl --endpoint http://127.0.0.1:1 health
    [ "$status" -eq 1 ]
    [[ "$output" == *"fogbank ctl:"* ]]
}

@test "fogbank version, --help and bad usage" {
    run "$FOGBANK_BIN" version
    [ "$status" -eq 0 ]
    [[ "$output" == "fogbank "* ]]
    run "$FOGBANK_BIN" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"serve"* && "$output" == *"ctl"* ]]
    run "$FOGBANK_BIN" serve --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--time-scale"* ]]
    run "$FOGBANK_BIN" serve --no-such-flag
    [ "$status" -eq 2 ]
    run "$FOGBANK_BIN" serve --time-scale -3
    [ "$status" -eq 2 ]
    run "$FOGBANK_BIN" bake-bread
    [ "$status" -eq 2 ]
}

@test "--account-id changes the identity and a busy port fails cleanly" {
    run "$FOGBANK_BIN" serve --port "$FB_PORT" --state :memory:
    [ "$status" -eq 1 ]
    local saved_pid=$FB_PID saved_url=$FB_URL saved_port=$FB_PORT saved_log=$FB_LOG
    fogbank_start --account-id 210987654321
    run awsfb sts get-caller-identity
    fogbank_stop
    FB_PID=$saved_pid FB_URL=$saved_url FB_PORT=$saved_port FB_LOG=$saved_log
    [ "$(jq -r .Account <<<"$output")" = 210987654321 ]
}

@test "a file state is created and SIGTERM exits cleanly" {
    local dir
    dir=$(mktemp -d)
    local saved_pid=$FB_PID saved_url=$FB_URL saved_port=$FB_PORT saved_log=$FB_LOG
    "$FOGBANK_BIN" serve --port 0 --dns-port 0 --state "$dir/state.db" >"$dir/log" 2>&1 &
    local pid=$!
    for i in $(seq 1 100); do grep -q 'listening on' "$dir/log" && break; sleep 0.02; done
    kill -TERM "$pid"
    wait "$pid"
    local rc=$?
    [ -f "$dir/state.db" ]
    [ "$rc" -eq 0 ]
    FB_PID=$saved_pid FB_URL=$saved_url FB_PORT=$saved_port FB_LOG=$saved_log
    rm -rf "$dir"
}
