#!/usr/bin/env bats
# The bad-input contract through raw HTTP: each malformed request gets the exact AWS error
# code, and the server keeps answering.

load helpers

setup_file() {
    fogbank_start --max-body 1048576
}

teardown_file() {
    fogbank_stop
}

# post SERVICE BODY [curl args...]: POSTs a form body signed for SERVICE; prints status and body.
post() {
    local svc=$1 body=$2
    shift 2
    curl -s -w '\n%{http_code}' -H "$(sigv4 "$svc")" \
        -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \
        --data-binary "$body" "$@" "$FB_URL/"
}

@test "unknown action is InvalidAction (400)" {
    run post ec2 'Action=DescribeUnicorns&Version=2016-11-15'
    [[ "$output" == *'<Code>InvalidAction</Code>'* ]]
    [ "${lines[-1]}" = 400 ]
    run post autoscaling 'Action=DescribeUnicorns&Version=2011-01-01'
    [[ "$output" == *'<Code>InvalidAction</Code>'* ]]
    assert_alive
}

@test "missing Version is MissingParameter, unknown Version is NoSuchVersion" {
    run post ec2 'Action=DescribeRegions'
    [[ "$output" == *'<Code>MissingParameter</Code>'* ]]
    [ "${lines[-1]}" = 400 ]
    run post ec2 'Action=DescribeRegions&Version=1999-01-01'
    [[ "$output" == *'<Code>NoSuchVersion</Code>'* ]]
    [ "${lines[-1]}" = 400 ]
    assert_alive
}

@test "missing Action is answered in the envelope" {
    run post elb 'Version=2012-06-01'
    [[ "$output" == *'<ErrorResponse'* ]]
    [[ "$output" == *'<Code>MissingAction</Code>'* ]]
    [ "${lines[-1]}" = 400 ]
    assert_alive
}

@test "malformed query string is MalformedQueryString" {
    run post ec2 'Action=DescribeRegions&Version=2016-11-15&RegionName.1=%zz'
    [[ "$output" == *'<Code>MalformedQueryString</Code>'* ]]
    run curl -s -H "$(sigv4 ec2)" "$FB_URL/?Action=DescribeRegions&Version=2016-11-15&x=%G1"
    [[ "$output" == *'<Code>MalformedQueryString</Code>'* ]]
    assert_alive
}

@test "a value of the wrong type is InvalidParameterValue for EC2" {
    run post ec2 'Action=DescribeAvailabilityZones&Version=2016-11-15&AllAvailabilityZones=maybe'
    [[ "$output" == *'<Code>InvalidParameterValue</Code>'* ]]
    [ "${lines[-1]}" = 400 ]
    run post ec2 'Action=DescribeRegions&Version=2016-11-15&DryRun=12'
    [[ "$output" == *'<Code>InvalidParameterValue</Code>'* ]]
    assert_alive
}

@test "GET with the query in the URL works like a form POST" {
    run curl -s -H "$(sigv4 ec2)" "$FB_URL/?Action=DescribeAvailabilityZones&Version=2016-11-15"
    [[ "$output" == *'<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'* ]]
    [[ "$output" == *'<zoneName>us-east-1a</zoneName>'* ]]
}

@test "malformed JSON is SerializationException, unknown target UnknownOperationException" {
    run curl -s -w '\n%{http_code}' -H "$(sigv4 codedeploy)" -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: CodeDeploy_20141006.ListApplications' -d '{"nextToken": ' "$FB_URL/"
    [ "$(head -n 1 <<<"$output" | jq -r .__type)" = "SerializationException" ]
    [ "${lines[-1]}" = 400 ]
    run curl -s -w '\n%{http_code}' -H "$(sigv4 codedeploy)" -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: CodeDeploy_20141006.FlyToTheMoon' -d '{}' "$FB_URL/"
    [ "$(head -n 1 <<<"$output" | jq -r .__type)" = "UnknownOperationException" ]
    assert_alive
}

@test "an XML entity bomb is refused without expanding it" {
    bomb='<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>&lol3;</Name></CreateHostedZoneRequest>'
    run curl -s -w '\n%{http_code}' -H "$(sigv4 route53)" -d "$bomb" "$FB_URL/2013-04-01/hostedzone"
    [[ "$output" == *'<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'* ]]
    [[ "$output" == *'<Code>InvalidInput</Code>'* ]]
    [[ "$output" == *'DOCTYPE is disallowed'* ]]
    [[ "$output" != *lollollol* ]]
    [ "${lines[-1]}" = 400 ]
    assert_alive
}

@test "malformed XML is InvalidInput for Route53" {
    run curl -s -w '\n%{http_code}' -H "$(sigv4 route53)" \
        -d '<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>x' \
        "$FB_URL/2013-04-01/hostedzone"
    [[ "$output" == *'<Code>InvalidInput</Code>'* ]]
    [ "${lines[-1]}" = 400 ]
    assert_alive
}

@test "an oversized body is RequestEntityTooLarge (413)" {
    run bash -c "head -c 2000000 /dev/zero | tr '\\0' a | curl -s -w '\n%{http_code}' -H '$(sigv4 ec2)' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @- '$FB_URL/'"
    [[ "$output" == *'<Code>RequestEntityTooLarge</Code>'* ]]
    [ "${lines[-1]}" = 413 ]
    assert_alive
}

@test "unsigned garbage is answered by the S3 fallback, not a crash" {
    run curl -s -w '\n%{http_code}' -X PATCH --data-binary $'\x00\xff\xfe' "$FB_URL/some/where?x=1"
    [ "${lines[-1]}" -ge 400 ]
    run curl -s -w '\n%{http_code}' "$FB_URL/%"
    [ "${lines[-1]}" -ge 400 ]
    assert_alive
}
