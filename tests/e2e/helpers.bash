# Shared set-up of the end-to-end tests: start the real fogbank binary on an ephemeral
# loopback port with in-memory state, a frozen clock and a fixed seed; drive it with the real
# aws CLI and curl; stop it by PID. The server log is kept under $FB_LOG_DIR.

FOGBANK_BIN=${FOGBANK_BIN:-build/fogbank}
FB_LOG_DIR=${FB_LOG_DIR:-${BATS_TMPDIR:-/tmp}/fogbank-e2e-logs}

export AWS_ACCESS_KEY_ID=AKIDFOGBANKTEST
export AWS_SECRET_ACCESS_KEY=fogbank-test-secret
export AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER=""
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_ENDPOINT_URL

# fogbank_start [extra serve args...]: sets FB_PID, FB_PORT, FB_URL, FB_LOG, FB_DNS_PORT.
fogbank_start() {
    mkdir -p "$FB_LOG_DIR"
    FB_LOG="$FB_LOG_DIR/$(basename "${BATS_TEST_FILENAME:-e2e}" .bats).log"
    "$FOGBANK_BIN" serve --port 0 --dns-port 0 --state :memory: --seed 42 --time-scale 0 "$@" \
        >"$FB_LOG" 2>&1 &
    FB_PID=$!
    local i
    for i in $(seq 1 200); do
        FB_PORT=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$FB_LOG" | head -n 1)
        [ -n "$FB_PORT" ] && break
        kill -0 "$FB_PID" 2>/dev/null || break
        sleep 0.02
    done
    if [ -z "$FB_PORT" ]; then
        echo "fogbank did not start; log:" >&2
        cat "$FB_LOG" >&2
        return 1
    fi
    FB_URL="http://127.0.0.1:$FB_PORT"
    # Route53's DNS server, on the same startup line.
    FB_DNS_PORT=$(sed -n 's/.* dns:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$FB_LOG" | head -n 1)
    export FB_PID FB_PORT FB_URL FB_LOG FB_DNS_PORT
}

fogbank_stop() {
    [ -n "${FB_PID:-}" ] || return 0
    kill -TERM "$FB_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do
        kill -0 "$FB_PID" 2>/dev/null || break
        sleep 0.02
    done
    kill -KILL "$FB_PID" 2>/dev/null || true
    wait "$FB_PID" 2>/dev/null || true
    FB_PID=
}

# awsfb SERVICE ARGS...: the real aws CLI pointed at fogbank.
awsfb() {
    aws --endpoint-url "$FB_URL" --output json "$@"
}

# The server must still answer after whatever a test threw at it.
assert_alive() {
    kill -0 "$FB_PID"
    curl -sf "$FB_URL/_fogbank/health" | jq -e '.status == "ok"' >/dev/null
}

# assert_aws_error CODE OPERATION: the last `run awsfb ...` failed with that AWS error code.
assert_aws_error() {
    [ "$status" -ne 0 ] || { echo "expected failure, got success: $output"; return 1; }
    [[ "$output" == *"An error occurred ($1) when calling the $2 operation"* ]] ||
        { echo "expected ($1) from $2, got: $output"; return 1; }
}

# A SigV4-looking Authorization header naming a service's credential scope.
sigv4() {
    echo "Authorization: AWS4-HMAC-SHA256 Credential=AKIDFOGBANKTEST/20261128/${2:-us-east-1}/$1/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
}
