#!/usr/bin/env bats
# Auto Scaling fleets through the real aws CLI against one live fogbank with a frozen clock:
# a failed zone's instance is replaced in another zone and the fleet rebalances when the zone
# returns; scale 3 -> 6 -> 2 terminates the instances the Default and OldestInstance policies
# name; a simple scaling policy honours its cooldown; a group whose AMI cannot boot loops,
# raising the launch-loop event with its billed hours (the event stream, `fogbank ctl
# status` and `fogbank ctl events`); errors carry AWS's codes. About 17 instance boots.

load helpers

setup_file() {
    fogbank_start
    AMI=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    export AMI
}

teardown_file() {
    fogbank_stop
}

ctl() {
    "$FOGBANK_BIN" ctl --endpoint "$FB_URL" "$@"
}

# Polling goes through the control API's status (curl), not the aws CLI, whose start-up
# (~0.5 s) would make up most of the file's time.

# members GROUP: "id az state" per line, in launch order.
members() {
    curl -sf "$FB_URL/_fogbank/status" | jq -r --arg g "$1" \
        '.autoscaling.groups[] | select(.name == $g) | .instances[] | "\(.id) \(.az) \(.state)"'
}

# wait_states GROUP STATE N: polls for up to 10 s until N instances of GROUP are in STATE.
wait_states() {
    local i
    for i in $(seq 1 100); do
        [ "$(members "$1" | awk -v s="$2" '$3 == s' | wc -l)" = "$3" ] && return 0
        sleep 0.1
    done
    members "$1" >&2
    return 1
}

# settle GROUP N: advances the clock 10 s at a time (up to 12 times) until GROUP has exactly N
# instances, all InService.
settle() {
    local i
    for i in $(seq 1 12); do
        members "$1" >"$BATS_TEST_TMPDIR/m"
        [ "$(wc -l <"$BATS_TEST_TMPDIR/m")" = "$2" ] &&
            [ "$(awk '$3 == "InService"' "$BATS_TEST_TMPDIR/m" | wc -l)" = "$2" ] && return 0
        ctl clock advance 10s >/dev/null
        sleep 0.05
    done
    members "$1" >&2
    return 1
}

# zones GROUP: its instances' zones, sorted, tab-separated.
zones() {
    members "$1" | awk '{print $2}' | sort | paste -sd '\t' -
}

# ids GROUP [ZONE]: its instance ids (in ZONE), sorted, tab-separated.
ids() {
    members "$1" | awk -v z="${2:-}" 'z == "" || $2 == z {print $1}' | sort | paste -sd '\t' -
}

sorted() {
    tr ' \t' '\n\n' <<<"$*" | sed '/^$/d' | sort | paste -sd '\t' -
}

@test "a failed zone's instance is replaced in another zone; the fleet rebalances when it returns" {
    awsfb autoscaling create-launch-configuration --launch-configuration-name fleet-lc \
        --image-id "$AMI" --instance-type t3.micro
    awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name fleet \
        --launch-configuration-name fleet-lc --min-size 0 --max-size 6 --desired-capacity 3 \
        --availability-zones us-east-1a us-east-1b us-east-1c
    wait_states fleet InService 3
    [ "$(zones fleet)" = "$(printf 'us-east-1a\tus-east-1b\tus-east-1c')" ]
    lost=$(ids fleet us-east-1a)
    ctl fault az-down us-east-1a
    for i in $(seq 1 12); do
        [[ "$(zones fleet)" != *us-east-1a* ]] && break
        ctl clock advance 10s >/dev/null
        sleep 0.1
    done
    settle fleet 3
    # Its instance is gone, replaced in b or c (launches in a fail and go elsewhere).
    [[ " $(ids fleet) " != *" $lost "* ]]
    [[ "$(zones fleet)" != *us-east-1a* ]]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name fleet \
        --query "Activities[?Description=='Terminating EC2 instance: $lost'].Cause" --output text
    [[ "$output" == *"an instance was taken out of service in response to an EC2 "* ]]
    ctl fault az-up us-east-1a
    # AZRebalance: a launch in a first, then the termination in the fuller zone.
    for i in $(seq 1 12); do
        [ "$(zones fleet)" = "$(printf 'us-east-1a\tus-east-1b\tus-east-1c')" ] && break
        ctl clock advance 10s >/dev/null
        sleep 0.1
    done
    settle fleet 3
    [ "$(zones fleet)" = "$(printf 'us-east-1a\tus-east-1b\tus-east-1c')" ]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name fleet \
        --query 'Activities[].Cause' --output text
    [[ "$output" == *"in response to an Availability Zone rebalancing"* ]]
}

@test "scale 3 -> 6 -> 2 with Default terminates the older instance of each zone first" {
    ctl clock advance 1m
    old=$(ids fleet)
    awsfb autoscaling set-desired-capacity --auto-scaling-group-name fleet --desired-capacity 6
    settle fleet 6
    [ "$(zones fleet)" = "$(printf 'us-east-1a\tus-east-1a\tus-east-1b\tus-east-1b\tus-east-1c\tus-east-1c')" ]
    new=$(comm -13 <(sorted "$old" | tr '\t' '\n') <(ids fleet | tr '\t' '\n') | paste -sd ' ' -)
    ctl clock advance 1m
    awsfb autoscaling set-desired-capacity --auto-scaling-group-name fleet --desired-capacity 2
    settle fleet 2
    # Zone balance first (the zones in order on ties), then the instance closest to its next
    # billing hour, i.e. the one that has run longest: the three old go, then the new one of
    # us-east-1a; the new ones of b and c stay.
    keep="$(ids fleet us-east-1b) $(ids fleet us-east-1c)"
    [ "$(ids fleet)" = "$(sorted "$keep")" ]
    [ "$(zones fleet)" = "$(printf 'us-east-1b\tus-east-1c')" ]
    for id in $(ids fleet); do [[ " $new " == *" $id "* ]]; done
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name fleet \
        --query "Activities[?starts_with(Description, 'Terminating EC2 instance: ')].Cause" \
        --output text
    for id in $old; do
        [[ "$output" == *"shrinking the capacity from 6 to 2.  At "*"Z instance $id was selected for termination."* ]]
    done
}

@test "scale 2 -> 6 -> 2 with OldestInstance terminates the oldest of each zone" {
    awsfb autoscaling update-auto-scaling-group --auto-scaling-group-name fleet \
        --termination-policies OldestInstance
    first=$(ids fleet)
    ctl clock advance 1m
    awsfb autoscaling set-desired-capacity --auto-scaling-group-name fleet --desired-capacity 6
    settle fleet 6
    second=$(comm -13 <(sorted "$first" | tr '\t' '\n') <(ids fleet | tr '\t' '\n') | paste -sd ' ' -)
    [ "$(wc -w <<<"$second")" -eq 4 ]
    ctl clock advance 1m
    awsfb autoscaling set-desired-capacity --auto-scaling-group-name fleet --desired-capacity 2
    settle fleet 2
    # The two survivors of the Default scale-in were the oldest in b and c: both went.
    for id in $first; do [[ " $(ids fleet) " != *" $id "* ]]; done
    for id in $(ids fleet); do [[ " $second " == *" $id "* ]]; done
    [ "$(zones fleet)" = "$(printf 'us-east-1b\tus-east-1c')" ]
}

@test "a simple scaling policy honours its cooldown" {
    awsfb autoscaling put-scaling-policy --auto-scaling-group-name fleet --policy-name in \
        --adjustment-type ChangeInCapacity --scaling-adjustment -1 --cooldown 120
    ctl clock advance 2m
    awsfb autoscaling execute-policy --auto-scaling-group-name fleet --policy-name in \
        --honor-cooldown
    settle fleet 1
    run awsfb autoscaling execute-policy --auto-scaling-group-name fleet --policy-name in \
        --honor-cooldown
    assert_aws_error ScalingActivityInProgress ExecutePolicy
    curl -sf "$FB_URL/_fogbank/status" |
        jq -e '.autoscaling.groups[] | select(.name == "fleet") | .desired == 1'

    ctl clock advance 2m
    awsfb autoscaling execute-policy --auto-scaling-group-name fleet --policy-name in \
        --honor-cooldown
    settle fleet 0
}

@test "a group whose AMI cannot boot loops; the launch-loop event says so with its billed hours" {
    tree="$BATS_FILE_TMPDIR/broken"
    mkdir -p "$tree/etc/fogbank"
    printf '#!/bin/sh\necho "kernel panic - not syncing: VFS: Unable to mount root fs"\nexit 3\n' \
        >"$tree/etc/fogbank/boot"
    chmod +x "$tree/etc/fogbank/boot"
    image=$(ctl image import "$tree" --name broken-ami)
    [[ "$image" == ami-* ]]
    awsfb ec2 create-launch-template --launch-template-name broken-lt \
        --launch-template-data "{\"ImageId\":\"$image\",\"InstanceType\":\"t3.micro\"}"
    run curl -sf -X POST "$FB_URL/_fogbank/autoscaling" \
        -d '{"action":"launch-loop","threshold":2,"window":"30m"}'
    [ "$status" -eq 0 ]
    [ "$(jq -c . <<<"$output")" = '{"threshold":2,"window_s":1800}' ]
    since=$(curl -sf "$FB_URL/_fogbank/events" | jq .newest_seq)
    awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name loop \
        --launch-template LaunchTemplateName=broken-lt --min-size 1 --max-size 1 \
        --availability-zones us-east-1b
    # Each instance comes up impaired (its init failed), is found unhealthy at the next check
    # and replaced. Three lost launches exceed the threshold of 2.
    for round in $(seq 1 8); do
        curl -sf "$FB_URL/_fogbank/events?since=$since" |
            jq -e '.events[] | select(.kind == "autoscaling.launch-loop")' >/dev/null && break
        # The instance's tree has ended (its boot failed) before the next health check.
        for i in $(seq 1 50); do
            id=$(members loop | awk '{print $1}' | tail -n 1)
            [ -n "$id" ] && ctl --json status |
                jq -e --arg id "$id" '.instances[] | select(.id == $id) | .alive == false' \
                    >/dev/null && break
            sleep 0.05
        done
        ctl clock advance 10s >/dev/null
    done
    run curl -sf "$FB_URL/_fogbank/events?since=$since"
    alarm=$(jq -c '[.events[] | select(.kind == "autoscaling.launch-loop")]' <<<"$output")
    [ "$(jq length <<<"$alarm")" = 1 ] || { echo "$output"; false; }
    [ "$(jq -r '.[0].detail.group' <<<"$alarm")" = loop ]
    [ "$(jq -r '.[0].detail.lost_in_window' <<<"$alarm")" = 3 ]
    [ "$(jq -r '.[0].detail.threshold' <<<"$alarm")" = 2 ]
    # Each launch is billed a full hour under the old rule, 60 s minimum per second.
    total=$(jq -r '.[0].detail.launches_total' <<<"$alarm")
    [ "$total" -ge 4 ]
    [ "$(jq -r '.[0].detail.billed_hours_hourly' <<<"$alarm")" = "$total" ]
    jq -e '.[0].detail.billed_hours_per_second > 0 and .[0].detail.billed_hours_per_second < 1' <<<"$alarm"
    # The launches, unhealthy verdicts and terminations are in the stream too.
    [ "$(jq '[.events[] | select(.kind == "autoscaling.unhealthy" and .detail.group == "loop")] | length' <<<"$output")" -ge 3 ]
    [ "$(jq '[.events[] | select(.kind == "autoscaling.terminate" and .detail.group == "loop")] | length' <<<"$output")" -ge 3 ]
    # The status (control API and ctl) shows the loop and the billed figures.
    curl -sf "$FB_URL/_fogbank/status" | jq -e '.autoscaling.groups[] | select(.name == "loop") |
        .launches.loop.alarm == true and .launches.total >= 4 and .launches.billed_hours_hourly >= 4'
    run ctl status
    [[ "$output" == *GROUP*LAUNCHES*BILLED-H* ]]
    grep -E '^loop +1 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9]+ +ALARM$' <<<"$output"
    run ctl events "$since"
    [[ "$output" == *autoscaling.launch-loop*'"group":"loop"'* ]]
    # The instances really failed their status check, and the activities say so.
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name loop \
        --query 'Activities[?starts_with(Description, `Terminating`)].Cause' --output text
    [[ "$output" == *"an instance was taken out of service in response to an EC2 instance status check failure."* ]]
    awsfb autoscaling delete-auto-scaling-group --auto-scaling-group-name loop --force-delete
}

@test "errors carry AWS's codes and change nothing" {
    run awsfb autoscaling create-launch-configuration --launch-configuration-name fleet-lc \
        --image-id "$AMI" --instance-type t3.micro
    assert_aws_error AlreadyExists CreateLaunchConfiguration
    [[ "$output" == *"Launch Configuration by this name already exists"* ]]
    run awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name fleet \
        --launch-configuration-name fleet-lc --min-size 0 --max-size 1 \
        --availability-zones us-east-1a
    assert_aws_error AlreadyExists CreateAutoScalingGroup
    run awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name ghost \
        --launch-configuration-name no-such-lc --min-size 0 --max-size 1 \
        --availability-zones us-east-1a
    assert_aws_error ValidationError CreateAutoScalingGroup
    [[ "$output" == *"Launch configuration name not found"* ]]
    run awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name ghost \
        --launch-configuration-name fleet-lc --min-size 2 --max-size 1 \
        --availability-zones us-east-1a
    assert_aws_error ValidationError CreateAutoScalingGroup
    run awsfb autoscaling set-desired-capacity --auto-scaling-group-name fleet \
        --desired-capacity 7
    assert_aws_error ValidationError SetDesiredCapacity
    [[ "$output" == *"New SetDesiredCapacity value 7 is above max value 6"* ]]
    run awsfb autoscaling delete-launch-configuration --launch-configuration-name fleet-lc
    assert_aws_error ResourceInUse DeleteLaunchConfiguration
    run curl -s -X POST "$FB_URL/_fogbank/autoscaling" -d '{"action":"launch-loop","threshold":-1}'
    [[ "$output" == *BadRequest* ]]
    [ "$(awsfb autoscaling describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 1 ]
    assert_alive
}
