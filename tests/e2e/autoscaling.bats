#!/usr/bin/env bats
# Auto Scaling groups driven by the real aws CLI against one live fogbank with a frozen
# clock: a group of 3 over three zones comes into service with real instance processes and
# its tags; a killed instance is replaced after a clock advance; a launch lifecycle hook
# holds an instance in Pending:Wait, times out (ABANDON) and completes (CONTINUE); the
# scaling activities say why; errors carry AWS's codes and messages. Six instance boots.
#
# The installed CLI (botocore 1.43.11) ships no Auto Scaling waiters, so the tests poll
# describe-auto-scaling-groups instead of `aws autoscaling wait`.

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

# in_service GROUP: the number of its InService instances.
in_service() {
    awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" \
        --query "length(AutoScalingGroups[0].Instances[?LifecycleState=='InService'])" \
        --output text
}

# wait_states GROUP STATE N: polls for up to 10 s until N instances of GROUP are in STATE.
wait_states() {
    local i n
    for i in $(seq 1 100); do
        n=$(awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" \
            --query "length(AutoScalingGroups[0].Instances[?LifecycleState=='$2'])" --output text)
        [ "$n" = "$3" ] && return 0
        sleep 0.1
    done
    awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" >&2
    return 1
}

# instances_of GROUP [STATE]: the ids of its instances (in STATE).
instances_of() {
    local filter=""
    [ -n "${2:-}" ] && filter="?LifecycleState=='$2'"
    awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" \
        --query "AutoScalingGroups[0].Instances[$filter].InstanceId" --output text
}

@test "a group of 3 over three zones comes into service, one real instance per zone" {
    awsfb autoscaling create-launch-configuration --launch-configuration-name web-lc \
        --image-id "$AMI" --instance-type t3.micro
    awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name web \
        --launch-configuration-name web-lc --min-size 1 --max-size 6 --desired-capacity 3 \
        --availability-zones us-east-1a us-east-1b us-east-1c \
        --tags Key=team,Value=blue,PropagateAtLaunch=true
    wait_states web InService 3
    run awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names web \
        --query 'sort(AutoScalingGroups[0].Instances[].AvailabilityZone)' --output text
    [ "$output" = "$(printf 'us-east-1a\tus-east-1b\tus-east-1c')" ]
    # The instances really run, with the group's name tag and the propagated tag.
    run awsfb ec2 describe-instances --filters Name=tag:aws:autoscaling:groupName,Values=web \
        --query 'Reservations[].Instances[].[State.Name, Tags[?Key==`team`]|[0].Value]' \
        --output text
    [ "$(grep -c $'^running\tblue$' <<<"$output")" -eq 3 ] || { echo "$output"; false; }
    for id in $(instances_of web); do
        ctl --json status | jq -e --arg id "$id" '.instances[] | select(.id == $id) | .alive'
    done
    run awsfb autoscaling describe-auto-scaling-instances \
        --query 'AutoScalingInstances[0].HealthStatus' --output text
    [ "$output" = HEALTHY ]
}

@test "a killed instance is replaced after a clock advance, and the activity says why" {
    victim=$(instances_of web | awk '{print $1}')
    ctl fault kill "$victim"
    # The kill lands when the supervisor has reaped the tree: wait for that, then let the
    # periodic health check (every 10 s of virtual time) see it.
    for i in $(seq 1 100); do
        ctl --json status | jq -e --arg id "$victim" \
            '.instances[] | select(.id == $id) | .alive == false' >/dev/null && break
        sleep 0.05
    done
    ctl clock advance 15s
    wait_states web InService 3
    [[ " $(instances_of web) " != *" $victim "* ]]
    run awsfb ec2 describe-instances --instance-ids "$victim" \
        --query 'Reservations[0].Instances[0].State.Name' --output text
    [[ "$output" == shutting-down || "$output" == terminated ]]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name web \
        --query "Activities[?Description=='Terminating EC2 instance: $victim'].Cause" \
        --output text
    [[ "$output" == *"an instance was taken out of service in response to an EC2 instance status check failure."* ]]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name web \
        --query 'Activities[0].[Description,StatusCode,Progress]' --output text
    [[ "$output" == "Launching a new EC2 instance: i-"*"Successful"*"100" ]]
}

@test "the creation activities carry AWS's texts" {
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name web \
        --query 'Activities[-1].Cause' --output text
    [[ "$output" == "At "*"Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 3.  At "*"Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 3." ]]
}

@test "a launch hook holds Pending:Wait, times out to ABANDON, then CONTINUE puts it in service" {
    awsfb ec2 create-launch-template --launch-template-name api-lt \
        --launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t3.micro\"}"
    awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name api \
        --launch-template LaunchTemplateName=api-lt --min-size 1 --max-size 1 \
        --availability-zones us-east-1b \
        --lifecycle-hook-specification-list \
        LifecycleHookName=deploy,LifecycleTransition=autoscaling:EC2_INSTANCE_LAUNCHING,HeartbeatTimeout=600
    wait_states api Pending:Wait 1
    first=$(instances_of api)
    # The pending action is visible through the control API.
    curl -sf "$FB_URL/_fogbank/status" |
        jq -e --arg id "$first" '.autoscaling.lifecycle_actions[] | select(.instance_id == $id and .hook == "deploy")'
    # A heartbeat at 5 min restarts the 10 min: still waiting at 11 min.
    ctl clock advance 5m
    awsfb autoscaling record-lifecycle-action-heartbeat --auto-scaling-group-name api \
        --lifecycle-hook-name deploy --instance-id "$first"
    ctl clock advance 6m
    [ "$(instances_of api)" = "$first" ]
    # Nobody completes it: after the timeout ABANDON terminates it and a new one waits.
    ctl clock advance 5m
    wait_states api Pending:Wait 1
    second=$(instances_of api Pending:Wait)
    [ "$second" != "$first" ]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name api \
        --query "Activities[?starts_with(Description, 'Launching a new EC2 instance: $first')].Description" \
        --output text
    [[ "$output" == *"Status Reason: Instance failed to complete user's Lifecycle Action: Lifecycle Action with token "*" was abandoned: Heartbeat Timeout"* ]]
    awsfb autoscaling complete-lifecycle-action --auto-scaling-group-name api \
        --lifecycle-hook-name deploy --lifecycle-action-result CONTINUE --instance-id "$second"
    wait_states api InService 1
    [ "$(instances_of api InService)" = "$second" ]
}

@test "errors carry AWS's codes and messages and change nothing" {
    run awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name web \
        --launch-configuration-name web-lc --min-size 1 --max-size 2 \
        --availability-zones us-east-1a
    assert_aws_error AlreadyExists CreateAutoScalingGroup
    run awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name other \
        --launch-configuration-name web-lc --min-size 3 --max-size 2 \
        --availability-zones us-east-1a
    assert_aws_error ValidationError CreateAutoScalingGroup
    [[ "$output" == *"Max bound, 2, must be greater than or equal to min bound, 3"* ]]
    run awsfb autoscaling update-auto-scaling-group --auto-scaling-group-name web \
        --desired-capacity 9
    assert_aws_error ValidationError UpdateAutoScalingGroup
    [[ "$output" == *"Desired capacity:9 must be between the specified min size:1 and max size:6"* ]]
    run awsfb autoscaling set-desired-capacity --auto-scaling-group-name nope --desired-capacity 1
    assert_aws_error ValidationError SetDesiredCapacity
    [[ "$output" == *"AutoScalingGroup name not found"* ]]
    run awsfb autoscaling delete-launch-configuration --launch-configuration-name web-lc
    assert_aws_error ResourceInUse DeleteLaunchConfiguration
    run awsfb autoscaling delete-auto-scaling-group --auto-scaling-group-name web
    assert_aws_error ResourceInUse DeleteAutoScalingGroup
    run awsfb autoscaling complete-lifecycle-action --auto-scaling-group-name api \
        --lifecycle-hook-name deploy --lifecycle-action-result CONTINUE \
        --instance-id i-0123456789abcdef0
    assert_aws_error ValidationError CompleteLifecycleAction
    [[ "$output" == *"No active Lifecycle Action found with instance ID i-0123456789abcdef0"* ]]
    [ "$(in_service web)" = 3 ]
    [ "$(awsfb autoscaling describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 2 ]
    assert_alive
}

@test "force-deleting a group terminates its instances" {
    ids=$(instances_of web)
    awsfb autoscaling delete-auto-scaling-group --auto-scaling-group-name web --force-delete
    run awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names web \
        --query 'length(AutoScalingGroups)'
    [ "$output" = 0 ]
    for id in $ids; do
        state=$(awsfb ec2 describe-instances --instance-ids "$id" \
            --query 'Reservations[0].Instances[0].State.Name' --output text)
        [[ "$state" == shutting-down || "$state" == terminated ]]
    done
    awsfb autoscaling delete-launch-configuration --launch-configuration-name web-lc
}
