#!/usr/bin/env bats
# EC2 instances as real process trees, driven by the real aws CLI: user data, ports, console
# output, the lifecycle (terminate, stop/start, reboot), CreateImage, the metadata service
# from inside an instance, zone failure, the instance limit, errors, and a restart of
# fogbank. Every server runs on a state file in the test's temporary directory, so each
# instance's disk is at $DATA/instances/<id>.

load helpers

EXTRA_SERVE_ARGS=() # extra `fogbank serve` options of the next setup

setup() {
    STATE="$BATS_TEST_TMPDIR/state.db"
    DATA="$STATE.data"
    fogbank_start --state "$STATE" "${EXTRA_SERVE_ARGS[@]}"
    AMI=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    [[ "$AMI" == ami-* ]]
}

teardown() {
    fogbank_stop
}

ctl() {
    "$FOGBANK_BIN" ctl --endpoint "$FB_URL" "$@"
}

# host_port ID [INSTANCE_PORT]: the host port mapped to the instance's port (80).
host_port() {
    ctl --json status | jq -r --arg id "$1" --arg p "${2:-80}" \
        '.instances[] | select(.id == $id) | .ports[$p]'
}

pids_of() {
    ctl --json status | jq -r --arg id "$1" '.instances[] | select(.id == $id) | .pids[]'
}

state_of() {
    awsfb ec2 describe-instances --instance-ids "$1" \
        --query 'Reservations[0].Instances[0].State.Name' --output text
}

# wait_state ID STATE: polls for up to 10 s.
wait_state() {
    local i
    for i in $(seq 1 100); do
        [ "$(state_of "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "instance $1 is $(state_of "$1"), not $2" >&2
    return 1
}

console_of() {
    awsfb ec2 get-console-output --instance-id "$1" --query Output --output text
}

# wait_console ID TEXT: polls the console output for up to 15 s.
wait_console() {
    local i
    for i in $(seq 1 150); do
        [[ "$(console_of "$1")" == *"$2"* ]] && return 0
        sleep 0.1
    done
    echo "console of $1 never showed '$2':" >&2
    console_of "$1" >&2
    return 1
}

# run_with_user_data FILE [aws args...]: prints the new instance id.
run_with_user_data() {
    local file=$1
    shift
    awsfb ec2 run-instances --image-id "$AMI" --count 1 --user-data "file://$file" "$@" \
        --query 'Instances[0].InstanceId' --output text
}

@test "three instances, one per zone, serve their own /var/www on their mapped ports" {
    local before=absent
    [ -e /var/www/index.html ] && before=$(md5sum </var/www/index.html)
    cat >"$BATS_TEST_TMPDIR/web.sh" <<'EOF'
#!/bin/sh
mkdir -p /var/www
echo "page of $FOGBANK_INSTANCE_ID" >/var/www/index.html
echo "user data says hello from $FOGBANK_INSTANCE_ID"
cd /var/www && nohup python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1 &
EOF
    local ids=() az id
    for az in us-east-1a us-east-1b us-east-1c; do
        id=$(run_with_user_data "$BATS_TEST_TMPDIR/web.sh" --placement "AvailabilityZone=$az")
        [[ "$id" == i-* ]]
        ids+=("$id")
    done
    awsfb ec2 wait instance-running --instance-ids "${ids[@]}"
    run awsfb ec2 describe-instances --instance-ids "${ids[@]}" \
        --query 'Reservations[].Instances[].Placement.AvailabilityZone' --output text
    [[ "$output" == *us-east-1a* && "$output" == *us-east-1b* && "$output" == *us-east-1c* ]]
    for id in "${ids[@]}"; do
        local port page="" i
        port=$(host_port "$id")
        [[ "$port" =~ ^[0-9]+$ ]]
        for i in $(seq 1 100); do
            page=$(curl -sf "http://127.0.0.1:$port/" || true)
            [ -n "$page" ] && break
            sleep 0.1
        done
        [ "$page" = "page of $id" ]
        wait_console "$id" "user data says hello from $id"
    done
    local after=absent
    [ -e /var/www/index.html ] && after=$(md5sum </var/www/index.html)
    [ "$before" = "$after" ]
    run ctl status
    [ "$status" -eq 0 ]
    [[ "$output" == *"${ids[0]}"*running*us-east-1a* ]]
}

@test "terminate ends every process of the tree; the disk goes after an hour" {
    cat >"$BATS_TEST_TMPDIR/daemon.sh" <<'EOF'
#!/bin/sh
( sleep 1000 & ) ; nohup sleep 1001 >/dev/null 2>&1 &
echo daemons started
EOF
    id=$(run_with_user_data "$BATS_TEST_TMPDIR/daemon.sh")
    awsfb ec2 wait instance-running --instance-ids "$id"
    wait_console "$id" "daemons started"
    local pids=() p i
    for i in $(seq 1 50); do
        mapfile -t pids < <(pids_of "$id")
        [ "${#pids[@]}" -ge 3 ] && break
        sleep 0.1
    done
    [ "${#pids[@]}" -ge 3 ]
    run awsfb ec2 terminate-instances --instance-ids "$id"
    [ "$status" -eq 0 ]
    [ "$(jq -r '.TerminatingInstances[0].CurrentState.Name' <<<"$output")" = shutting-down ]
    wait_state "$id" terminated
    # The CLI's waiter polls every 15 s; once terminated, its first poll must accept.
    timeout 10 aws --endpoint-url "$FB_URL" ec2 wait instance-terminated --instance-ids "$id"
    for p in "${pids[@]}"; do
        for i in $(seq 1 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        ! kill -0 "$p" 2>/dev/null
    done
    [ "$(state_of "$id")" = terminated ]
    [ -d "$DATA/instances/$id" ]
    ctl clock advance 61m
    run awsfb ec2 describe-instances --instance-ids "$id"
    assert_aws_error InvalidInstanceID.NotFound DescribeInstances
    [ ! -e "$DATA/instances/$id" ]
}

@test "stop and start keep the disk; neither they nor reboot run user data again" {
    cat >"$BATS_TEST_TMPDIR/once.sh" <<'EOF'
#!/bin/sh
mkdir -p /opt/fbtest
echo run >>/opt/fbtest/runs
echo USERDATA-MARK
EOF
    id=$(run_with_user_data "$BATS_TEST_TMPDIR/once.sh")
    awsfb ec2 wait instance-running --instance-ids "$id"
    wait_console "$id" USERDATA-MARK
    awsfb ec2 stop-instances --instance-ids "$id" >/dev/null
    wait_state "$id" stopped
    [ -z "$(pids_of "$id")" ]
    [ "$(cat "$DATA/instances/$id/upper/opt/fbtest/runs")" = run ]
    run awsfb ec2 describe-instances --instance-ids "$id" \
        --query 'Reservations[0].Instances[0].StateTransitionReason' --output text
    [[ "$output" == "User initiated ("*" GMT)" ]]
    awsfb ec2 start-instances --instance-ids "$id" >/dev/null
    awsfb ec2 wait instance-running --instance-ids "$id"
    [ -n "$(pids_of "$id")" ]
    awsfb ec2 reboot-instances --instance-ids "$id"
    sleep 1
    wait_state "$id" running
    [ -n "$(pids_of "$id")" ]
    [ "$(cat "$DATA/instances/$id/upper/opt/fbtest/runs")" = run ]
    [ "$(console_of "$id" | grep -c USERDATA-MARK)" -eq 1 ]
}

@test "CreateImage bakes the disk into an AMI that new instances boot from" {
    cat >"$BATS_TEST_TMPDIR/bake.sh" <<'EOF'
#!/bin/sh
mkdir -p /opt/baked && echo "baked-content-42" >/opt/baked/file
echo BAKED
EOF
    id=$(run_with_user_data "$BATS_TEST_TMPDIR/bake.sh")
    wait_console "$id" BAKED
    image=$(awsfb ec2 create-image --instance-id "$id" --name "baked-$BATS_TEST_NUMBER" \
        --query ImageId --output text)
    [[ "$image" == ami-* ]]
    cat >"$BATS_TEST_TMPDIR/check.sh" <<'EOF'
#!/bin/sh
echo "FOUND $(cat /opt/baked/file)"
EOF
    AMI=$image
    id2=$(run_with_user_data "$BATS_TEST_TMPDIR/check.sh")
    wait_console "$id2" "FOUND baked-content-42"
}

@test "IMDS v1 and v2 and the aws CLI work from inside an instance" {
    cat >"$BATS_TEST_TMPDIR/imds.sh" <<'EOF'
#!/bin/sh
E=$AWS_EC2_METADATA_SERVICE_ENDPOINT
echo "V1 $(curl -s "$E/latest/meta-data/instance-id")"
T=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$E/latest/api/token")
echo "V2 $(curl -s -H "X-aws-ec2-metadata-token: $T" "$E/latest/meta-data/placement/availability-zone")"
echo "CLI $(aws ec2 describe-instances --query 'Reservations[].Instances[].InstanceId' --output text)"
EOF
    id=$(run_with_user_data "$BATS_TEST_TMPDIR/imds.sh" \
        --placement AvailabilityZone=us-east-1c --metadata-options HttpTokens=optional)
    wait_console "$id" "V1 $id"
    wait_console "$id" "V2 us-east-1c"
    wait_console "$id" "CLI $id"
    # From outside, the same service with tokens required.
    id2=$(awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --metadata-options HttpTokens=required --query 'Instances[0].InstanceId' --output text)
    run curl -s -o /dev/null -w '%{http_code}' "$FB_URL/_imds/$id2/latest/meta-data/instance-id"
    [ "$output" = 401 ]
    token=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
        "$FB_URL/_imds/$id2/latest/api/token")
    run curl -sf -H "X-aws-ec2-metadata-token: $token" \
        "$FB_URL/_imds/$id2/latest/meta-data/instance-id"
    [ "$output" = "$id2" ]
    run curl -s -o /dev/null -w '%{http_code}' -X PUT "$FB_URL/_imds/$id2/latest/api/token"
    [ "$output" = 400 ]
}

@test "a failed zone kills its instances and refuses launches until it is back" {
    id=$(awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --placement AvailabilityZone=us-east-1a --query 'Instances[0].InstanceId' --output text)
    awsfb ec2 wait instance-running --instance-ids "$id"
    mapfile -t pids < <(pids_of "$id")
    [ "${#pids[@]}" -ge 1 ]
    run ctl fault az-down us-east-1a
    [ "$status" -eq 0 ]
    [[ "$output" == *az-down*us-east-1a* ]]
    sleep 0.3
    for p in "${pids[@]}"; do ! kill -0 "$p" 2>/dev/null; done
    [ "$(state_of "$id")" = running ]
    run awsfb ec2 describe-instance-status --instance-ids "$id" \
        --query 'InstanceStatuses[0].InstanceStatus.Status' --output text
    [ "$output" = impaired ]
    AWS_MAX_ATTEMPTS=1 run awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --instance-type t3.micro --placement AvailabilityZone=us-east-1a
    assert_aws_error InsufficientInstanceCapacity RunInstances
    [[ "$output" == *"We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (us-east-1a)"* ]]
    run ctl fault list
    [[ "$output" == *az-down* ]]
    run ctl fault az-up us-east-1a
    [ "$status" -eq 0 ]
    [ -n "$(pids_of "$id")" ]
    # The first status checks take 2 minutes of virtual time.
    ctl clock advance 2m >/dev/null
    run awsfb ec2 describe-instance-status --instance-ids "$id" \
        --query 'InstanceStatuses[0].InstanceStatus.Status' --output text
    [ "$output" = ok ]
    awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --placement AvailabilityZone=us-east-1a >/dev/null
}

@test "fault kill, hang, clear and list through fogbank ctl" {
    id=$(awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --query 'Instances[0].InstanceId' --output text)
    awsfb ec2 wait instance-running --instance-ids "$id"
    run ctl fault kill "$id"
    [ "$status" -eq 0 ]
    sleep 0.3
    [ -z "$(pids_of "$id")" ]
    [ "$(state_of "$id")" = running ]
    run ctl fault clear "$id"
    [ "$status" -eq 0 ]
    [ -n "$(pids_of "$id")" ]
    run ctl fault hang "$id"
    [ "$status" -eq 0 ]
    run ctl --json status
    [ "$(jq -r --arg id "$id" '.instances[] | select(.id == $id) | .hung' <<<"$output")" = true ]
    run ctl fault clear
    [ "$status" -eq 0 ]
    run ctl fault list
    [ "$output" = "no faults in force" ]
    run ctl fault kill i-0123456789abcdef0
    [ "$status" -eq 1 ]
}

@test "DryRun, a reused ClientToken and initializing status checks" {
    run awsfb ec2 run-instances --image-id "$AMI" --count 1 --dry-run
    assert_aws_error DryRunOperation RunInstances
    [[ "$output" == *"Request would have succeeded, but DryRun flag is set."* ]]
    [ "$(awsfb ec2 describe-instances --query 'length(Reservations)')" = 0 ]
    id=$(awsfb ec2 run-instances --image-id "$AMI" --count 1 --client-token tok-e2e \
        --query 'Instances[0].InstanceId' --output text)
    run awsfb ec2 terminate-instances --instance-ids "$id" --dry-run
    assert_aws_error DryRunOperation TerminateInstances
    [ "$(state_of "$id")" = running ]
    run awsfb ec2 run-instances --image-id "$AMI" --count 1 --client-token tok-e2e \
        --instance-type t3.large
    assert_aws_error IdempotentParameterMismatch RunInstances
    run awsfb ec2 describe-instance-status --instance-ids "$id" \
        --query 'InstanceStatuses[0].[InstanceStatus.Status,SystemStatus.Status]' --output text
    [ "$output" = "initializing	initializing" ]
    ctl clock advance 2m >/dev/null
    run awsfb ec2 describe-instance-status --instance-ids "$id" \
        --query 'InstanceStatuses[0].InstanceStatus.Status' --output text
    [ "$output" = ok ]
}

@test "a shutdown from inside stops or terminates as InstanceInitiatedShutdownBehavior says" {
    # PID 1 exiting cleanly is an OS shutdown: `kill 1` in a PID namespace, `kill 0` (the
    # instance's process group) without one.
    if [ "$(ctl --json status | jq -r .isolation)" = namespaces ]; then
        printf '#!/bin/sh\nsleep 0.2\nkill -TERM 1\n' >"$BATS_TEST_TMPDIR/ud"
    else
        printf '#!/bin/sh\nsleep 0.2\nkill -TERM 0\n' >"$BATS_TEST_TMPDIR/ud"
    fi
    stop=$(run_with_user_data "$BATS_TEST_TMPDIR/ud")
    term=$(run_with_user_data "$BATS_TEST_TMPDIR/ud" \
        --instance-initiated-shutdown-behavior terminate)
    wait_state "$stop" stopped
    wait_state "$term" terminated
    run awsfb ec2 describe-instances --instance-ids "$stop" \
        --query 'Reservations[0].Instances[0].StateReason.Code' --output text
    [ "$output" = Client.InstanceInitiatedShutdown ]
}

@test "errors: codes, messages and exit status" {
    run awsfb ec2 describe-instances --instance-ids i-0123456789abcdef0
    assert_aws_error InvalidInstanceID.NotFound DescribeInstances
    [[ "$output" == *"The instance ID 'i-0123456789abcdef0' does not exist"* ]]
    run awsfb ec2 terminate-instances --instance-ids i-0123456789abcdef0 i-0123456789abcdef1
    assert_aws_error InvalidInstanceID.NotFound TerminateInstances
    [[ "$output" == *"The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist"* ]]
    run awsfb ec2 describe-instances --instance-ids bogus
    assert_aws_error InvalidInstanceID.Malformed DescribeInstances
    run awsfb ec2 run-instances --image-id ami-0123456789abcdef0 --count 1
    assert_aws_error InvalidAMIID.NotFound RunInstances
    run awsfb ec2 run-instances --image-id bogus --count 1
    assert_aws_error InvalidAMIID.Malformed RunInstances
    run awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --placement AvailabilityZone=us-east-1z
    assert_aws_error InvalidParameterValue RunInstances
    id=$(awsfb ec2 run-instances --image-id "$AMI" --count 1 --disable-api-termination \
        --query 'Instances[0].InstanceId' --output text)
    run awsfb ec2 describe-instances --instance-ids "$id" --max-results 5
    assert_aws_error InvalidParameterCombination DescribeInstances
    run awsfb ec2 terminate-instances --instance-ids "$id"
    assert_aws_error OperationNotPermitted TerminateInstances
    [[ "$output" == *"The instance '$id' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."* ]]
    run awsfb ec2 modify-instance-attribute --instance-id "$id" --instance-type Value=t3.large
    assert_aws_error IncorrectInstanceState ModifyInstanceAttribute
    awsfb ec2 stop-instances --instance-ids "$id" >/dev/null
    wait_state "$id" stopped
    run awsfb ec2 reboot-instances --instance-ids "$id"
    assert_aws_error IncorrectInstanceState RebootInstances
    awsfb ec2 modify-instance-attribute --instance-id "$id" --instance-type Value=t3.large
    run awsfb ec2 describe-instance-attribute --instance-id "$id" --attribute instanceType \
        --query InstanceType.Value --output text
    [ "$output" = t3.large ]
    assert_alive
}

@test "the instance limit answers InstanceLimitExceeded" {
    fogbank_stop
    EXTRA_SERVE_ARGS=(--instance-limit 2)
    setup
    run awsfb ec2 run-instances --image-id "$AMI" --count 3
    assert_aws_error InstanceLimitExceeded RunInstances
    [[ "$output" == *"current instance limit of 2"* ]]
    run awsfb ec2 run-instances --image-id "$AMI" --count 1:3 \
        --query 'length(Instances)' --output text
    [ "$output" = 2 ]
}

@test "a restarted fogbank boots the instances that were running" {
    cat >"$BATS_TEST_TMPDIR/once.sh" <<'EOF'
#!/bin/sh
mkdir -p /opt/fbtest
echo run >>/opt/fbtest/runs
EOF
    id=$(run_with_user_data "$BATS_TEST_TMPDIR/once.sh")
    stopped=$(awsfb ec2 run-instances --image-id "$AMI" --count 1 \
        --query 'Instances[0].InstanceId' --output text)
    awsfb ec2 wait instance-running --instance-ids "$id" "$stopped"
    awsfb ec2 stop-instances --instance-ids "$stopped" >/dev/null
    wait_state "$stopped" stopped
    mapfile -t old < <(pids_of "$id")
    fogbank_stop
    for p in "${old[@]}"; do ! kill -0 "$p" 2>/dev/null; done
    setup
    wait_state "$id" running
    local i
    for i in $(seq 1 50); do
        [ -n "$(pids_of "$id")" ] && break
        sleep 0.1
    done
    [ -n "$(pids_of "$id")" ]
    [ "$(state_of "$stopped")" = stopped ]
    [ -z "$(pids_of "$stopped")" ]
    [ "$(cat "$DATA/instances/$id/upper/opt/fbtest/runs")" = run ]
}
