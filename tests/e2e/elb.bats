#!/usr/bin/env bats
# The Classic Load Balancer through the real aws CLI and curl: the API (create, describe,
# listeners, zones, subnets, attributes, tags, limits, errors) and the data plane with two
# real instances serving their id at / and /health: traffic reaches both, health checks on
# the virtual clock turn them InService, the health-fail fault takes one out of service and
# traffic stops going to it, deregistration, 503 with none InService, a TCP listener; a
# listener's host port pinned by a tag and by `fogbank ctl elb pin`. The slow data-plane
# tests (draining, idle timeout, the app failing its own checks, Auto Scaling) are in
# elb_asg.bats.
# One fogbank for the whole file (setup_file); the clock is frozen and advanced by hand.

load helpers

setup_file() {
    fogbank_start --dns-port 0
    AMI=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    cat >"$BATS_FILE_TMPDIR/web.sh" <<'EOF'
#!/bin/sh
mkdir -p /var/www
echo "$FOGBANK_INSTANCE_ID" >/var/www/index.html
echo "ok $FOGBANK_INSTANCE_ID" >/var/www/health
cat >/var/www/serve.py <<'PY'
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as most web servers
    def do_GET(self):
        if self.path == "/headers":
            body = str(self.headers).encode()
        elif self.path == "/peer":
            body = ("%s %d" % (open("index.html").read().strip(), self.client_address[1])).encode()
        else:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
cd /var/www && nohup python3 serve.py "$PORT" >/dev/null 2>&1 &
EOF
    IDS=$(awsfb ec2 run-instances --image-id "$AMI" --count 2 \
        --user-data "file://$BATS_FILE_TMPDIR/web.sh" \
        --query 'Instances[].InstanceId' --output text)
    export AMI IDS
}

teardown_file() {
    fogbank_stop
}

ctl() {
    "$FOGBANK_BIN" ctl --endpoint "$FB_URL" "$@"
}

# lb_port NAME LB_PORT: the loopback port the listener accepts on.
lb_port() {
    local i p
    for i in $(seq 1 50); do
        p=$(ctl --json status | jq -r --arg n "$1" --argjson lp "$2" \
            '.load_balancers[] | select(.name == $n) | .listeners[] |
             select(.load_balancer_port == $lp) | .host_port')
        [ -n "$p" ] && [ "$p" != 0 ] && { echo "$p"; return 0; }
        sleep 0.05
    done
    return 1
}

advance() {
    curl -sf -X POST "$FB_URL/_fogbank/clock/advance" -d "{\"by\":\"$1\"}" >/dev/null
}

health_of() {
    awsfb elb describe-instance-health --load-balancer-name "$1" --instances "$2" \
        --query 'InstanceStates[0].[State,ReasonCode,Description]' --output text
}

# wait_health LB ID STATE: advances the clock one interval (5 s) at a time until the state
# shows (the probes themselves are real, asynchronous exchanges).
wait_health() {
    local i
    for i in $(seq 1 40); do
        [[ "$(health_of "$1" "$2")" == "$3"* ]] && return 0
        advance 5s
        sleep 0.2
    done
    echo "$2 of $1 is $(health_of "$1" "$2"), not $3" >&2
    return 1
}

# Waits until both instances answer on their own port.
wait_web() {
    local id p i
    for id in $IDS; do
        for i in $(seq 1 100); do
            p=$(ctl --json status | jq -r --arg id "$id" '.instances[] | select(.id == $id) | .ports["80"]')
            [ -n "$p" ] && [ "$p" != null ] && curl -sf "http://127.0.0.1:$p/health" >/dev/null && break
            sleep 0.1
        done
    done
}

@test "create, describe, attributes, tags, limits and the errors of the API" {
    run awsfb elb create-load-balancer --load-balancer-name api-lb \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a us-east-1b --tags Key=env,Value=test
    [ "$status" -eq 0 ]
    [[ "$(echo "$output" | jq -r .DNSName)" == api-lb-*.us-east-1.elb.amazonaws.com ]]
    run awsfb elb describe-load-balancers --load-balancer-names api-lb
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.LoadBalancerDescriptions[0] |
        .HealthCheck.Target == "TCP:80" and .HealthCheck.Interval == 30 and
        .HealthCheck.HealthyThreshold == 10 and .Scheme == "internet-facing" and
        .CanonicalHostedZoneNameID == "Z35SXDOTRQ7X7K" and (.AvailabilityZones | length) == 2 and
        (.Subnets | length) == 2 and (.VPCId | startswith("vpc-")) and
        .ListenerDescriptions[0].Listener.InstanceProtocol == "HTTP"'
    run awsfb elb describe-load-balancer-attributes --load-balancer-name api-lb
    echo "$output" | jq -e '.LoadBalancerAttributes | .CrossZoneLoadBalancing.Enabled == false and
        .ConnectionDraining.Enabled == false and .ConnectionDraining.Timeout == 300 and
        .ConnectionSettings.IdleTimeout == 60'
    run awsfb elb modify-load-balancer-attributes --load-balancer-name api-lb \
        --load-balancer-attributes '{"ConnectionDraining":{"Enabled":true,"Timeout":30},"CrossZoneLoadBalancing":{"Enabled":true}}'
    [ "$status" -eq 0 ]
    run awsfb elb describe-load-balancer-attributes --load-balancer-name api-lb
    echo "$output" | jq -e '.LoadBalancerAttributes | .CrossZoneLoadBalancing.Enabled and
        .ConnectionDraining.Timeout == 30'
    awsfb elb add-tags --load-balancer-names api-lb --tags Key=team,Value=web
    awsfb elb remove-tags --load-balancer-names api-lb --tags env
    run awsfb elb describe-tags --load-balancer-names api-lb
    echo "$output" | jq -e '.TagDescriptions[0].Tags == [{"Key":"team","Value":"web"}]'
    run awsfb elb create-load-balancer-listeners --load-balancer-name api-lb \
        --listeners Protocol=TCP,LoadBalancerPort=8080,InstancePort=8080
    [ "$status" -eq 0 ]
    run awsfb elb create-load-balancer-listeners --load-balancer-name api-lb \
        --listeners Protocol=TCP,LoadBalancerPort=8080,InstancePort=9999
    assert_aws_error DuplicateListener CreateLoadBalancerListeners
    awsfb elb delete-load-balancer-listeners --load-balancer-name api-lb --load-balancer-ports 8080
    run awsfb elb enable-availability-zones-for-load-balancer --load-balancer-name api-lb \
        --availability-zones us-east-1c
    echo "$output" | jq -e '.AvailabilityZones | length == 3'
    run awsfb elb disable-availability-zones-for-load-balancer --load-balancer-name api-lb \
        --availability-zones us-east-1c
    echo "$output" | jq -e '.AvailabilityZones | length == 2'
    local subnet
    subnet=$(awsfb ec2 describe-subnets --filters Name=availability-zone,Values=us-east-1c \
        --query 'Subnets[0].SubnetId' --output text)
    run awsfb elb attach-load-balancer-to-subnets --load-balancer-name api-lb --subnets "$subnet"
    echo "$output" | jq -e --arg s "$subnet" '.Subnets | index($s) != null'
    run awsfb elb detach-load-balancer-from-subnets --load-balancer-name api-lb --subnets "$subnet"
    echo "$output" | jq -e --arg s "$subnet" '.Subnets | index($s) == null'
    run awsfb elb describe-account-limits
    echo "$output" | jq -e '.Limits[] | select(.Name == "classic-load-balancers") | .Max == "20"'

    run awsfb elb describe-load-balancers --load-balancer-names nope
    assert_aws_error LoadBalancerNotFound DescribeLoadBalancers
    run awsfb elb create-load-balancer --load-balancer-name api-lb \
        --listeners Protocol=HTTP,LoadBalancerPort=81,InstancePort=80 --availability-zones us-east-1a
    assert_aws_error DuplicateLoadBalancerName CreateLoadBalancer
    run awsfb elb create-load-balancer --load-balancer-name=-bad \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 --availability-zones us-east-1a
    assert_aws_error ValidationError CreateLoadBalancer
    run awsfb elb register-instances-with-load-balancer --load-balancer-name api-lb \
        --instances i-00000000000000000
    assert_aws_error InvalidInstance RegisterInstancesWithLoadBalancer
    run awsfb elb configure-health-check --load-balancer-name api-lb \
        --health-check Target=HTTP:80,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2
    assert_aws_error ValidationError ConfigureHealthCheck
    awsfb elb delete-load-balancer --load-balancer-name api-lb
    run awsfb elb describe-load-balancers --load-balancer-names api-lb
    assert_aws_error LoadBalancerNotFound DescribeLoadBalancers
    assert_alive
}

@test "traffic reaches both instances once InService; health-fail takes one out; 503 with none" {
    awsfb elb create-load-balancer --load-balancer-name web \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        Protocol=TCP,LoadBalancerPort=9000,InstancePort=80 \
        --availability-zones us-east-1a us-east-1b us-east-1c >/dev/null
    awsfb elb modify-load-balancer-attributes --load-balancer-name web \
        --load-balancer-attributes '{"CrossZoneLoadBalancing":{"Enabled":true}}' >/dev/null
    awsfb elb configure-health-check --load-balancer-name web \
        --health-check Target=HTTP:80/health,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2 >/dev/null
    local a b port tport
    read -r a b <<<"$IDS"
    awsfb ec2 wait instance-running --instance-ids $IDS
    wait_web
    port=$(lb_port web 80)
    # Nothing registered yet: the load balancer answers 503 itself.
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
    [ "$output" = 503 ]
    awsfb elb register-instances-with-load-balancer --load-balancer-name web \
        --instances "$a" "$b" >/dev/null
    [[ "$(health_of web "$a")" == "OutOfService	ELB	Instance registration is still in progress." ]]
    wait_health web "$a" InService
    wait_health web "$b" InService
    awsfb elb wait instance-in-service --load-balancer-name web --instances "$a" "$b"
    # Round-robin: four requests reach both instances.
    local seen="" i
    for i in 1 2 3 4; do
        seen+=" $(curl -sf "http://127.0.0.1:$port/")"
    done
    [[ "$seen" == *"$a"* && "$seen" == *"$b"* ]]
    # The same over one keep-alive connection: each request goes to the next instance.
    run curl -sf "http://127.0.0.1:$port/" "http://127.0.0.1:$port/" "http://127.0.0.1:$port/" \
        "http://127.0.0.1:$port/" "http://127.0.0.1:$port/" "http://127.0.0.1:$port/"
    [ "$status" -eq 0 ]
    [ "$(grep -c "$a" <<<"$output")" -eq 3 ] && [ "$(grep -c "$b" <<<"$output")" -eq 3 ]
    assert_alive
    # Connections to the instances are kept and reused by later clients, as ELB does: four
    # separate clients, two per instance, and each instance sees one peer port.
    local peers=""
    for i in 1 2 3 4; do
        peers+="$(curl -sf "http://127.0.0.1:$port/peer")"$'\n'
    done
    [ "$(grep -c "^$a " <<<"$peers")" -eq 2 ] && [ "$(grep -c "^$b " <<<"$peers")" -eq 2 ]
    [ "$(sort -u <<<"$peers" | grep -c .)" -eq 2 ]
    # The instance's 404 comes through; the headers ELB adds reach the instance: the
    # client's X-Forwarded-For extended with the client's address, its own -Port and -Proto
    # (the client's are replaced), other headers as sent.
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/missing"
    [ "$output" = 404 ]
    run curl -sf -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Port: 1' \
        -H 'X-Forwarded-Proto: gopher' -H 'X-Test: kept as sent' "http://127.0.0.1:$port/headers"
    [ "$status" -eq 0 ]
    [[ "$output" == *"X-Forwarded-For: 203.0.113.7, 127.0.0.1"* ]]
    [[ "$output" == *"X-Forwarded-Port: 80"* ]]
    [[ "$output" == *"X-Forwarded-Proto: http"* ]]
    [[ "$output" == *"X-Test: kept as sent"* ]]
    [[ "$output" != *"gopher"* && "$output" != *"X-Forwarded-Port: 1"$'\n'* ]]
    # The TCP listener passes bytes unchanged.
    tport=$(lb_port web 9000)
    run curl -sf "http://127.0.0.1:$tport/health"
    [[ "$output" == "ok i-"* ]]

    # health-fail on a: its checks and proxied requests get 500 until OutOfService.
    curl -sf -X POST "$FB_URL/_fogbank/faults" -d "{\"action\":\"health-fail\",\"instance_id\":\"$a\"}" >/dev/null
    # Still InService, so round-robin still picks it: the very next requests that go to a
    # get the fault's 500, the others b's page.
    local codes=""
    for i in 1 2 3 4; do
        codes+=" $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
    done
    [[ "$codes" == *500* && "$codes" == *200* ]]
    wait_health web "$a" OutOfService
    [[ "$(health_of web "$a")" == "OutOfService	Instance	Instance has failed at least the UnhealthyThreshold number of health checks consecutively." ]]
    for i in 1 2 3 4; do
        [ "$(curl -sf "http://127.0.0.1:$port/")" = "$b" ]
    done
    curl -sf -X POST "$FB_URL/_fogbank/faults" -d '{"action":"clear"}' >/dev/null

    # Deregistering b leaves a still OutOfService: 503.
    awsfb elb deregister-instances-from-load-balancer --load-balancer-name web \
        --instances "$b" >/dev/null
    [[ "$(health_of web "$b")" == "OutOfService	N/A	Instance is not currently registered with the LoadBalancer." ]]
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
    [ "$output" = 503 ]
    # a recovers after HealthyThreshold passing checks.
    wait_health web "$a" InService
    [ "$(curl -sf "http://127.0.0.1:$port/")" = "$a" ]
    assert_alive
}

# free_ports: two distinct loopback ports nothing listens on right now.
free_ports() {
    python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])'
}

@test "a listener's host port pinned by a tag or fogbank ctl elb pin; a port in use is refused" {
    local p1 p2
    read -r p1 p2 <<<"$(free_ports)"
    awsfb elb create-load-balancer --load-balancer-name pinned \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a --tags "Key=fogbank:host-port:80,Value=$p1" >/dev/null
    [ "$(lb_port pinned 80)" = "$p1" ]
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/"
    [ "$output" = 503 ]
    # Re-pinned through the control API: the old port closes, the new one answers.
    run ctl elb pin "pinned:80=$p2"
    [ "$status" -eq 0 ]
    [[ "$output" == "ok  pinned:80 -> 127.0.0.1:$p2  (pinned-"* ]]
    [ "$(lb_port pinned 80)" = "$p2" ]
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p2/"
    [ "$output" = 503 ]
    run curl -s -o /dev/null "http://127.0.0.1:$p1/"
    [ "$status" -eq 7 ]
    # A port in use (fogbank's own) is refused and nothing changes.
    run ctl elb pin "pinned:80=$FB_PORT"
    [ "$status" -eq 1 ]
    [[ "$output" == *"The host port $FB_PORT cannot be bound on 127.0.0.1: address already in use."* ]]
    [ "$(lb_port pinned 80)" = "$p2" ]
    run awsfb elb add-tags --load-balancer-names pinned --tags "Key=fogbank:host-port:80,Value=$FB_PORT"
    assert_aws_error ValidationError AddTags
    run awsfb elb describe-tags --load-balancer-names pinned
    echo "$output" | jq -e --arg p "$p1" '.TagDescriptions[0].Tags == [{"Key":"fogbank:host-port:80","Value":$p}]'
    [ "$(lb_port pinned 80)" = "$p2" ]
    # A listener created again takes the port its tag names; a tag naming no listener is
    # refused.
    awsfb elb delete-load-balancer-listeners --load-balancer-name pinned --load-balancer-ports 80
    awsfb elb create-load-balancer-listeners --load-balancer-name pinned \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80
    [ "$(lb_port pinned 80)" = "$p1" ]
    run awsfb elb add-tags --load-balancer-names pinned --tags "Key=fogbank:host-port:81,Value=$p1"
    assert_aws_error ListenerNotFound AddTags
    run awsfb elb create-load-balancer --load-balancer-name pin-busy \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a --tags "Key=fogbank:host-port:80,Value=$p1"
    assert_aws_error ValidationError CreateLoadBalancer
    [[ "$output" == *"The host port $p1 is in use by listener 80 of load balancer 'pinned'"* ]]
    # (That nothing of pin-busy was kept is the unit test's to show: test_elb.c.)
    run awsfb elb create-load-balancer --load-balancer-name pin-bad \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a --tags Key=fogbank:host-port:80,Value=http
    assert_aws_error ValidationError CreateLoadBalancer
    run ctl elb pin "pinned:8080=$p1"
    [ "$status" -eq 1 ]
    [[ "$output" == *"Load balancer 'pinned' has no listener on port 8080."* ]]
    run ctl elb pin "pinned:80"
    [ "$status" -eq 2 ]
    assert_alive
}
