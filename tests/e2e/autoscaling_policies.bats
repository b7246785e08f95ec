#!/usr/bin/env bats
# Auto Scaling scaling policies, scheduled actions, tags and account facts through the real
# aws CLI: a policy changes the desired capacity, a scheduled action runs after a clock
# advance, tags round-trip, errors carry AWS's codes. Groups stay at 0..1 instances so that
# almost nothing boots.

load helpers

setup_file() {
    fogbank_start
    AMI=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    awsfb autoscaling create-launch-configuration --launch-configuration-name lc \
        --image-id "$AMI" --instance-type t3.micro
    awsfb autoscaling create-auto-scaling-group --auto-scaling-group-name web \
        --launch-configuration-name lc --min-size 0 --max-size 1 --desired-capacity 0 \
        --availability-zones us-east-1a
}

teardown_file() {
    fogbank_stop
}

ctl() {
    "$FOGBANK_BIN" ctl --endpoint "$FB_URL" "$@"
}

desired() {
    awsfb autoscaling describe-auto-scaling-groups --auto-scaling-group-names web \
        --query 'AutoScalingGroups[0].DesiredCapacity' --output text
}

@test "put-scaling-policy and execute-policy change the desired capacity" {
    arn=$(awsfb autoscaling put-scaling-policy --auto-scaling-group-name web \
        --policy-name out --adjustment-type ChangeInCapacity --scaling-adjustment 1 \
        --cooldown 600 --query PolicyARN --output text)
    [[ "$arn" == arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:*:autoScalingGroupName/web:policyName/out ]]
    run awsfb autoscaling describe-policies --auto-scaling-group-name web \
        --query 'ScalingPolicies[0].[PolicyName,PolicyType,AdjustmentType,ScalingAdjustment,Cooldown]' \
        --output text
    [ "$status" -eq 0 ]
    [ "$output" = "out	SimpleScaling	ChangeInCapacity	1	600" ]
    awsfb autoscaling execute-policy --auto-scaling-group-name web --policy-name out
    [ "$(desired)" = "1" ]
    # within the cooldown, HonorCooldown refuses
    run awsfb autoscaling execute-policy --auto-scaling-group-name web --policy-name out \
        --honor-cooldown
    [ "$status" -ne 0 ]
    [[ "$output" == *ScalingActivityInProgress* ]]
    # back to 0 by ExactCapacity, by ARN
    awsfb autoscaling put-scaling-policy --auto-scaling-group-name web --policy-name zero \
        --adjustment-type ExactCapacity --scaling-adjustment 0
    zero=$(awsfb autoscaling describe-policies --policy-names zero \
        --query 'ScalingPolicies[0].PolicyARN' --output text)
    awsfb autoscaling execute-policy --policy-name "$zero"
    [ "$(desired)" = "0" ]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name web \
        --query 'Activities[].Cause' --output text
    [[ "$output" == *"a user request executed policy out changing the desired capacity from 0 to 1."* ]]
    awsfb autoscaling delete-policy --auto-scaling-group-name web --policy-name out
    awsfb autoscaling delete-policy --policy-name "$zero"
    [ "$(awsfb autoscaling describe-policies --query 'length(ScalingPolicies)')" = "0" ]
}

@test "step scaling validates its steps and picks the step of the metric" {
    run awsfb autoscaling put-scaling-policy --auto-scaling-group-name web --policy-name bad \
        --policy-type StepScaling --adjustment-type ChangeInCapacity \
        --step-adjustments MetricIntervalLowerBound=1,MetricIntervalUpperBound=2,ScalingAdjustment=1
    [ "$status" -ne 0 ]
    [[ "$output" == *ValidationError*"unspecified upper bound"* ]]
    awsfb autoscaling put-scaling-policy --auto-scaling-group-name web --policy-name steps \
        --policy-type StepScaling --adjustment-type ExactCapacity \
        --step-adjustments MetricIntervalLowerBound=0,MetricIntervalUpperBound=10,ScalingAdjustment=0 \
        MetricIntervalLowerBound=10,ScalingAdjustment=1
    awsfb autoscaling execute-policy --auto-scaling-group-name web --policy-name steps \
        --metric-value 65 --breach-threshold 50
    [ "$(desired)" = "1" ]
    awsfb autoscaling execute-policy --auto-scaling-group-name web --policy-name steps \
        --metric-value 55 --breach-threshold 50
    [ "$(desired)" = "0" ]
    run awsfb autoscaling execute-policy --auto-scaling-group-name web --policy-name steps
    [ "$status" -ne 0 ]
    [[ "$output" == *ValidationError* ]]
    awsfb autoscaling delete-policy --auto-scaling-group-name web --policy-name steps
}

@test "a scheduled action runs after a clock advance and is then gone" {
    now=$(ctl --json clock show | jq .now_ms)
    at=$(date -u -d "@$(( now / 1000 + 600 ))" +%Y-%m-%dT%H:%M:00Z)
    awsfb autoscaling put-scheduled-update-group-action --auto-scaling-group-name web \
        --scheduled-action-name up --start-time "$at" --desired-capacity 1
    run awsfb autoscaling describe-scheduled-actions --auto-scaling-group-name web \
        --query 'ScheduledUpdateGroupActions[0].[ScheduledActionName,DesiredCapacity]' \
        --output text
    [ "$output" = "up	1" ]
    [ "$(desired)" = "0" ]
    ctl clock advance 11m
    [ "$(desired)" = "1" ]
    [ "$(awsfb autoscaling describe-scheduled-actions --query 'length(ScheduledUpdateGroupActions)')" = "0" ]
    run awsfb autoscaling describe-scaling-activities --auto-scaling-group-name web \
        --query 'Activities[].Cause' --output text
    [[ "$output" == *"a scheduled action update of AutoScalingGroup constraints to min: 0, max: 1, desired: 1 changing the desired capacity from 0 to 1."* ]]
    # a recurring one, every hour on the hour, back to 0
    awsfb autoscaling put-scheduled-update-group-action --auto-scaling-group-name web \
        --scheduled-action-name down --recurrence "0 * * * *" --desired-capacity 0
    ctl clock advance 61m
    [ "$(desired)" = "0" ]
    [ "$(awsfb autoscaling describe-scheduled-actions --query 'length(ScheduledUpdateGroupActions)')" = "1" ]
    awsfb autoscaling delete-scheduled-action --auto-scaling-group-name web \
        --scheduled-action-name down
    run awsfb autoscaling put-scheduled-update-group-action --auto-scaling-group-name web \
        --scheduled-action-name past --start-time 2001-01-01T00:00:00Z --min-size 0
    [ "$status" -ne 0 ]
    [[ "$output" == *"Given start time is in the past"* ]]
}

@test "tags round-trip through create-or-update-tags, describe-tags and delete-tags" {
    awsfb autoscaling create-or-update-tags --tags \
        ResourceId=web,ResourceType=auto-scaling-group,Key=env,Value=prod,PropagateAtLaunch=true \
        ResourceId=web,ResourceType=auto-scaling-group,Key=team,Value=a,PropagateAtLaunch=false
    run awsfb autoscaling describe-tags --filters Name=auto-scaling-group,Values=web \
        --query 'Tags[].[Key,Value,PropagateAtLaunch]' --output text
    [ "$output" = "$(printf 'env\tprod\tTrue\nteam\ta\tFalse')" ]
    run awsfb autoscaling describe-tags --filters Name=key,Values=team --query 'Tags[].Value' \
        --output text
    [ "$output" = "a" ]
    awsfb autoscaling delete-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=team
    [ "$(awsfb autoscaling describe-tags --query 'length(Tags)')" = "1" ]
    run awsfb autoscaling create-or-update-tags --tags \
        ResourceId=nope,ResourceType=auto-scaling-group,Key=k,Value=v
    [ "$status" -ne 0 ]
    [[ "$output" == *ValidationError*"AutoScalingGroup name not found"* ]]
}

@test "describe-account-limits and describe-adjustment-types" {
    run awsfb autoscaling describe-account-limits --query \
        '[MaxNumberOfAutoScalingGroups,MaxNumberOfLaunchConfigurations,NumberOfAutoScalingGroups,NumberOfLaunchConfigurations]' \
        --output text
    [ "$output" = "500	200	1	1" ]
    run awsfb autoscaling describe-adjustment-types --query 'AdjustmentTypes[].AdjustmentType' \
        --output text
    [ "$output" = "ChangeInCapacity	ExactCapacity	PercentChangeInCapacity" ]
    assert_alive
}
