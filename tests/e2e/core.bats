#!/usr/bin/env bats
# The core of fogbank through real clients: regions and zones, STS identity, the
# not-implemented answer of every service, the control API and `fogbank ctl`.

load helpers

setup_file() {
    fogbank_start
}

teardown_file() {
    fogbank_stop
}

@test "describe-regions lists the default regions with their endpoints" {
    run awsfb ec2 describe-regions
    [ "$status" -eq 0 ]
    [ "$(jq '.Regions | length' <<<"$output")" -eq 17 ]
    [ "$(jq -r '.Regions[] | select(.RegionName == "us-east-1") | .Endpoint' <<<"$output")" = "ec2.us-east-1.amazonaws.com" ]
    [ "$(jq -r '[.Regions[].OptInStatus] | unique | .[0]' <<<"$output")" = "opt-in-not-required" ]
}

@test "describe-regions by name and by filter" {
    run awsfb ec2 describe-regions --region-names eu-west-1 us-west-2
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.Regions[].RegionName] | sort' <<<"$output")" = '["eu-west-1","us-west-2"]' ]
    run awsfb ec2 describe-regions --filters Name=region-name,Values=ap-south-1
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.Regions[].RegionName]' <<<"$output")" = '["ap-south-1"]' ]
}

@test "describe-availability-zones gives three available zones with ids" {
    run awsfb ec2 describe-availability-zones
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.AvailabilityZones[].ZoneName]' <<<"$output")" = '["us-east-1a","us-east-1b","us-east-1c"]' ]
    [ "$(jq -c '[.AvailabilityZones[].ZoneId]' <<<"$output")" = '["use1-az1","use1-az2","use1-az3"]' ]
    [ "$(jq -r '[.AvailabilityZones[].State] | unique | .[0]' <<<"$output")" = "available" ]
    [ "$(jq -r '.AvailabilityZones[0].RegionName' <<<"$output")" = "us-east-1" ]
    [ "$(jq -r '.AvailabilityZones[0].ZoneType' <<<"$output")" = "availability-zone" ]
}

@test "the region comes from the credential scope" {
    run awsfb --region eu-west-1 ec2 describe-availability-zones
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.AvailabilityZones[].ZoneName]' <<<"$output")" = '["eu-west-1a","eu-west-1b","eu-west-1c"]' ]
    [ "$(jq -r '.AvailabilityZones[2].ZoneId' <<<"$output")" = "euw1-az3" ]
}

@test "describe-availability-zones filters and names" {
    run awsfb ec2 describe-availability-zones --filters Name=zone-name,Values=us-east-1b
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.AvailabilityZones[].ZoneName]' <<<"$output")" = '["us-east-1b"]' ]
    run awsfb ec2 describe-availability-zones --zone-ids use1-az3
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.AvailabilityZones[].ZoneName]' <<<"$output")" = '["us-east-1c"]' ]
}

@test "an unknown zone or filter is InvalidParameterValue" {
    run awsfb ec2 describe-availability-zones --zone-names us-east-1z
    assert_aws_error InvalidParameterValue DescribeAvailabilityZones
    [[ "$output" == *"us-east-1z"* ]]
    run awsfb ec2 describe-availability-zones --filters Name=colour,Values=blue
    assert_aws_error InvalidParameterValue DescribeAvailabilityZones
    assert_alive
}

# The CLI learned AWS_ENDPOINT_URL in 1.29 (v1) and 2.13 (v2); Debian 12's awscli is 2.9.
cli_knows_endpoint_env() {
    local v
    v=$(aws --version 2>&1 | sed -n 's|^aws-cli/\([0-9]*\)\.\([0-9]*\).*|\1 \2|p')
    set -- $v
    [ "${1:-0}" -eq 1 ] && [ "${2:-0}" -ge 29 ] && return 0
    [ "${1:-0}" -ge 2 ] && [ "${2:-0}" -ge 13 ] && return 0
    [ "${1:-0}" -ge 3 ]
}

@test "AWS_ENDPOINT_URL points the CLI at fogbank" {
    cli_knows_endpoint_env || skip "this aws CLI ($(aws --version 2>&1)) predates AWS_ENDPOINT_URL"
    AWS_ENDPOINT_URL="$FB_URL" run aws ec2 describe-availability-zones --output json
    [ "$status" -eq 0 ]
    [ "$(jq '.AvailabilityZones | length' <<<"$output")" -eq 3 ]
}

@test "sts get-caller-identity names the account" {
    run awsfb sts get-caller-identity
    [ "$status" -eq 0 ]
    [ "$(jq -r .Account <<<"$output")" = "123456789012" ]
    [ "$(jq -r .Arn <<<"$output")" = "arn:aws:iam::123456789012:root" ]
}

@test "every service answers an operation it lacks with NotImplemented naming it" {
    run awsfb ec2 describe-volumes
    assert_aws_error NotImplemented DescribeVolumes
    [[ "$output" == *"DescribeVolumes"* ]]
    run awsfb autoscaling describe-instance-refreshes --auto-scaling-group-name g
    assert_aws_error NotImplemented DescribeInstanceRefreshes
    run awsfb elb describe-load-balancer-policies
    assert_aws_error NotImplemented DescribeLoadBalancerPolicies
    run awsfb elbv2 describe-load-balancers
    assert_aws_error NotImplemented DescribeLoadBalancers
    [[ "$output" == *"Elastic Load Balancing v2"* ]]
    run awsfb route53 list-reusable-delegation-sets
    assert_aws_error NotImplemented ListReusableDelegationSets
    run awsfb cloudformation list-stacks
    assert_aws_error NotImplemented ListStacks
    run awsfb deploy list-applications
    assert_aws_error NotImplemented ListApplications
    run awsfb s3api list-buckets
    assert_aws_error NotImplemented ListBuckets
    assert_alive
}

@test "NotImplemented is HTTP 501 in the service's own envelope" {
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$(sigv4 autoscaling)" \
        -d 'Action=DescribeInstanceRefreshes&AutoScalingGroupName=g&Version=2011-01-01' "$FB_URL/")
    [ "$code" = 501 ]
    body=$(curl -s -H "$(sigv4 autoscaling)" \
        -d 'Action=DescribeInstanceRefreshes&AutoScalingGroupName=g&Version=2011-01-01' "$FB_URL/")
    [[ "$body" == *'<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">'* ]]
    [[ "$body" == *'<Code>NotImplemented</Code>'* ]]
    body=$(curl -s -H "$(sigv4 ec2)" -d 'Action=DescribeVolumes&Version=2016-11-15' "$FB_URL/")
    [[ "$body" == *'<Response><Errors><Error><Code>NotImplemented</Code>'* ]]
    [[ "$body" == *'<RequestID>'* ]]
    body=$(curl -s -H "$(sigv4 codedeploy)" -H 'X-Amz-Target: CodeDeploy_20141006.ListApplications' \
        -H 'Content-Type: application/x-amz-json-1.1' -d '{}' "$FB_URL/")
    [ "$(jq -r .__type <<<"$body")" = "NotImplemented" ]
}
