#!/usr/bin/env bats
# The slow half of the Classic Load Balancer's data plane through the real aws CLI and curl
# (the fast half is elb.bats, so the two files run side by side): connection draining (a slow
# request in flight to a deregistered instance completes while new ones go elsewhere, one still
# open past the draining timeout is cut), the idle timeout (504 for a backend that does not
# answer, an idle connection closed), the app itself failing its /health (OutOfService with
# the instance as the reason, traffic stops), and an Auto Scaling group with HealthCheckType
# ELB replacing the instance its load balancer reports OutOfService. The instances run a
# small threaded app: / and /health answer its id, /slow/N answers after N real seconds,
# /sick makes /health answer 500 from then on. One fogbank for the file, a frozen clock.

load helpers

setup_file() {
    fogbank_start
    AMI=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    cat >"$BATS_FILE_TMPDIR/app.sh" <<'EOF'
#!/bin/sh
mkdir -p /var/app
cat >/var/app/app.py <<'PY'
import http.server, os, time
ID = os.environ["FOGBANK_INSTANCE_ID"]
sick = []
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        code = 200
        if self.path == "/sick":
            sick.append(1)
        elif self.path == "/health" and sick:
            code = 500
        elif self.path.startswith("/slow/"):
            time.sleep(float(self.path[6:]))
        body = (ID + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
PY
nohup python3 /var/app/app.py >/dev/null 2>&1 &
EOF
    IDS=$(awsfb ec2 run-instances --image-id "$AMI" --count 2 \
        --user-data "file://$BATS_FILE_TMPDIR/app.sh" \
        --query 'Instances[].InstanceId' --output text)
    export AMI IDS
}

teardown_file() {
    fogbank_stop
}

ctl() {
    "$FOGBANK_BIN" ctl --endpoint "$FB_URL" "$@"
}

advance() {
    curl -sf -X POST "$FB_URL/_fogbank/clock/advance" -d "{\"by\":\"$1\"}" >/dev/null
}

# lb_port NAME: the loopback port of the load balancer's listener 80.
lb_port() {
    ctl --json status | jq -r --arg n "$1" \
        '.load_balancers[] | select(.name == $n) | .listeners[] |
         select(.load_balancer_port == 80) | .host_port'
}

# app_port ID: the host port of the instance's port 80 once its app answers there.
app_port() {
    local i p
    for i in $(seq 1 100); do
        p=$(ctl --json status | jq -r --arg id "$1" '.instances[] | select(.id == $id) | .ports["80"]')
        [ -n "$p" ] && [ "$p" != null ] && curl -sf "http://127.0.0.1:$p/health" >/dev/null &&
            { echo "$p"; return 0; }
        sleep 0.1
    done
    return 1
}

health_of() {
    awsfb elb describe-instance-health --load-balancer-name "$1" --instances "$2" \
        --query 'InstanceStates[0].[State,ReasonCode,Description]' --output text
}

# wait_health LB ID STATE [STEP]: advances the clock STEP (default one 5 s interval), then
# looks, until the state shows (the probes are real, asynchronous exchanges; each look is an
# aws CLI call, about a second, so the clock moves first).
wait_health() {
    local i
    for i in $(seq 1 40); do
        [ "${4:-5s}" != 0 ] && advance "${4:-5s}"
        sleep 0.3
        [[ "$(health_of "$1" "$2")" == "$3"* ]] && return 0
    done
    echo "$2 of $1 is $(health_of "$1" "$2"), not $3" >&2
    return 1
}

# new_lb NAME ZONES...: an HTTP:80 load balancer checking /health every 5 s (2 to change).
new_lb() {
    local name=$1
    shift
    awsfb elb create-load-balancer --load-balancer-name "$name" \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones "$@" >/dev/null
    awsfb elb configure-health-check --load-balancer-name "$name" \
        --health-check Target=HTTP:80/health,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2 >/dev/null
}

@test "draining: in-flight requests finish, new ones go elsewhere, past the timeout one is cut" {
    local a b port i pa pb
    read -r a b <<<"$IDS"
    app_port "$a" >/dev/null
    app_port "$b" >/dev/null
    new_lb drain us-east-1a us-east-1b us-east-1c
    awsfb elb modify-load-balancer-attributes --load-balancer-name drain --load-balancer-attributes \
        '{"CrossZoneLoadBalancing":{"Enabled":true},"ConnectionDraining":{"Enabled":true,"Timeout":10}}' >/dev/null
    awsfb elb register-instances-with-load-balancer --load-balancer-name drain \
        --instances "$a" "$b" >/dev/null
    wait_health drain "$a" InService
    wait_health drain "$b" InService
    port=$(lb_port drain)

    # Two slow requests, one on each instance (round-robin), then a is deregistered.
    curl -s "http://127.0.0.1:$port/slow/2" >"$BATS_TEST_TMPDIR/s1" &
    pa=$!
    curl -s "http://127.0.0.1:$port/slow/2" >"$BATS_TEST_TMPDIR/s2" &
    pb=$!
    sleep 0.5
    awsfb elb deregister-instances-from-load-balancer --load-balancer-name drain \
        --instances "$a" >/dev/null
    [[ "$(health_of drain "$a")" == "InService	N/A	Instance deregistration currently in progress." ]]
    for i in 1 2 3 4; do
        [ "$(curl -sf "http://127.0.0.1:$port/")" = "$b" ]
    done
    wait "$pa"
    wait "$pb"
    [ "$(sort "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/s2" | tr '\n' ' ')" = \
        "$(printf '%s\n' "$a" "$b" | sort | tr '\n' ' ')" ]
    advance 11s
    [[ "$(health_of drain "$a")" == "OutOfService	N/A	Instance is not currently registered with the LoadBalancer." ]]

    # Again, with requests that outlast the draining timeout: the one to a is cut when it
    # ends (10 s of virtual time), not before; the one to b goes on.
    awsfb elb register-instances-with-load-balancer --load-balancer-name drain \
        --instances "$a" >/dev/null
    wait_health drain "$a" InService
    curl -s -o /dev/null "http://127.0.0.1:$port/slow/20" &
    pa=$!
    curl -s -o /dev/null "http://127.0.0.1:$port/slow/20" &
    pb=$!
    sleep 0.5
    awsfb elb deregister-instances-from-load-balancer --load-balancer-name drain \
        --instances "$a" >/dev/null
    advance 5s
    sleep 0.5
    kill -0 "$pa" && kill -0 "$pb"
    advance 6s
    local cut="" running="" rc
    for i in $(seq 1 50); do
        kill -0 "$pa" 2>/dev/null || { cut=$pa; running=$pb; break; }
        kill -0 "$pb" 2>/dev/null || { cut=$pb; running=$pa; break; }
        sleep 0.1
    done
    [ -n "$cut" ]
    rc=0
    wait "$cut" || rc=$?
    # curl: 52 empty reply from server (the connection closed without an answer).
    [ "$rc" -eq 52 ]
    kill -0 "$running"
    kill "$running"
    wait "$running" || true
    assert_alive
}

@test "idle timeout: 504 for an instance that does not answer in time, idle connections closed" {
    local port code
    port=$(lb_port drain)
    awsfb elb modify-load-balancer-attributes --load-balancer-name drain --load-balancer-attributes \
        '{"ConnectionSettings":{"IdleTimeout":5}}' >/dev/null
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/slow/4" >"$BATS_TEST_TMPDIR/code" &
    local pid=$!
    sleep 0.5
    advance 6s
    local i
    for i in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # Answered before the instance did (it takes 4 real seconds).
    ! kill -0 "$pid" 2>/dev/null
    wait "$pid" || true
    [ "$(cat "$BATS_TEST_TMPDIR/code")" = 504 ]
    [[ "$(health_of drain "$(awk '{print $2}' <<<"$IDS")")" == InService* ]]
    # A connection that sends nothing is closed after the idle timeout: read sees EOF (1),
    # not its own 3 s time-out (> 128).
    local fd rc=0 line
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    advance 2s
    sleep 0.2
    advance 4s
    read -r -t 3 line <&"$fd" || rc=$?
    exec {fd}<&-
    [ "$rc" -eq 1 ]
    assert_alive
}

@test "the app's own /health failing: OutOfService after UnhealthyThreshold checks, traffic stops" {
    # The balancer of the tests above, b still registered: a comes back.
    local a b port i
    read -r a b <<<"$IDS"
    awsfb elb register-instances-with-load-balancer --load-balancer-name drain \
        --instances "$a" >/dev/null
    wait_health drain "$a" InService
    port=$(lb_port drain)
    curl -sf "http://127.0.0.1:$(app_port "$a")/sick" >/dev/null
    # One failed check is below the UnhealthyThreshold (2): still InService.
    advance 5s
    sleep 0.5
    [[ "$(health_of drain "$a")" == InService* ]]
    advance 5s
    wait_health drain "$a" OutOfService 0
    [[ "$(health_of drain "$a")" == "OutOfService	Instance	Instance has failed at least the UnhealthyThreshold number of health checks consecutively." ]]
    for i in 1 2 3 4; do
        [ "$(curl -sf "http://127.0.0.1:$port/")" = "$b" ]
    done
    assert_alive
}

@test "HealthCheckType ELB: the group replaces the instance its load balancer reports OutOfService; attach and detach balancers" {
    local data victim fresh i
    new_lb asg-lb us-east-1a
    data=$(jq -n --arg ami "$AMI" --arg ud "$(base64 -w0 "$BATS_FILE_TMPDIR/app.sh")" \
        '{ImageId: $ami, InstanceType: "t3.micro", UserData: $ud}')
    awsfb ec2 create-launch-template --launch-template-name app-lt \
        --launch-template-data "$data" >/dev/null
    awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name app \
        --launch-template LaunchTemplateName=app-lt --min-size 1 --max-size 2 \
        --desired-capacity 1 --availability-zones us-east-1a --load-balancer-names asg-lb \
        --health-check-type ELB --health-check-grace-period 30
    for i in $(seq 1 100); do
        victim=$(awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names app \
            --query "AutoScalingGroups[0].Instances[?LifecycleState=='InService'].InstanceId" \
            --output text)
        [ -n "$victim" ] && break
        sleep 0.1
    done
    [[ "$victim" == i-* ]]
    # Registered when it entered InService; InService at the balancer after its checks.
    app_port "$victim" >/dev/null
    wait_health asg-lb "$victim" InService
    curl -sf "http://127.0.0.1:$(app_port "$victim")/sick" >/dev/null
    wait_health asg-lb "$victim" OutOfService
    # Past the grace period the group's health check sees the verdict and replaces it.
    for i in $(seq 1 60); do
        fresh=$(awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names app \
            --query "AutoScalingGroups[0].Instances[?LifecycleState=='InService'].InstanceId" \
            --output text)
        [ -n "$fresh" ] && [ "$fresh" != "$victim" ] && break
        advance 10s
        sleep 0.2
    done
    [[ "$fresh" == i-* && "$fresh" != "$victim" ]]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name app \
        --query "Activities[?Description=='Terminating EC2 instance: $victim'].Cause" --output text
    [[ "$output" == *"an ELB system health check failure"* ]]
    run awsfb ec2 describe-instances --instance-ids "$victim" \
        --query 'Reservations[0].Instances[0].State.Name' --output text
    [[ "$output" == shutting-down || "$output" == terminated ]]
    # The replacement is registered and comes into service; the victim is gone from it.
    app_port "$fresh" >/dev/null
    wait_health asg-lb "$fresh" InService
    [ "$(curl -sf "http://127.0.0.1:$(lb_port asg-lb)/")" = "$fresh" ]
    run awsfb elb describe-load-balancers --load-balancer-names asg-lb \
        --query 'LoadBalancerDescriptions[0].Instances[].InstanceId' --output text
    [ "$output" = "$fresh" ]
    run awsfb autoscaling describe-load-balancers --auto-scaling-group-name app \
        --query 'LoadBalancers[].[LoadBalancerName,State]' --output text
    [ "$output" = "asg-lb	InService" ]

    # The group side: a second balancer attached registers the InService instance at once
    # (Added until one of its checks passes); detached, the instance leaves it.
    new_lb side-lb us-east-1a
    run awsfb autoscaling attach-load-balancers --auto-scaling-group-name app \
        --load-balancer-names side-lb nope
    [ "$status" -ne 0 ] && [[ "$output" == *ValidationError*"nope"* ]]
    awsfb autoscaling attach-load-balancers --auto-scaling-group-name app \
        --load-balancer-names side-lb
    run awsfb elb describe-load-balancers --load-balancer-names side-lb \
        --query 'LoadBalancerDescriptions[0].Instances[].InstanceId' --output text
    [ "$output" = "$fresh" ]
    run awsfb autoscaling describe-load-balancers --auto-scaling-group-name app \
        --query 'LoadBalancers[].[LoadBalancerName,State]' --output text
    [ "$output" = "asg-lb	InService"$'\n'"side-lb	Added" ]
    wait_health side-lb "$fresh" InService
    run awsfb autoscaling describe-load-balancers --auto-scaling-group-name app \
        --query "LoadBalancers[?LoadBalancerName=='side-lb'].State" --output text
    [ "$output" = InService ]
    awsfb autoscaling detach-load-balancers --auto-scaling-group-name app \
        --load-balancer-names side-lb
    run awsfb elb describe-load-balancers --load-balancer-names side-lb \
        --query 'length(LoadBalancerDescriptions[0].Instances)' --output text
    [ "$output" = 0 ]
    run awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names app \
        --query 'AutoScalingGroups[0].LoadBalancerNames' --output text
    [ "$output" = asg-lb ]
    assert_alive
}
