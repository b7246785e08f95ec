#!/usr/bin/env bats
# Route53 through the real aws CLI and dig: zones and change batches (all or nothing), the
# DNS server answering from the same state (NXDOMAIN/NODATA with the SOA, wildcards, CNAME
# chains, TCP fallback, REFUSED outside our zones), paging 1,000 records, the waiter,
# weighted 3:1 answers, failover when the primary's health check fails on the virtual
# clock, a blue-green move of an alias between two load balancers with real instances, and
# a failover alias that evaluates the health of a load balancer with no instance.
# One fogbank for the whole file; the clock is frozen and advanced by hand.

load helpers

setup_file() {
    fogbank_start
    ZONE=$(awsfb route53 create-hosted-zone --name example.com --caller-reference e2e \
        --query HostedZone.Id --output text)
    export ZONE
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

digfb() {
    dig @127.0.0.1 -p "$FB_DNS_PORT" +time=2 +tries=1 "$@"
}

# upsert NAME TYPE VALUE [TTL]: one simple record set; prints the change id.
upsert() {
    awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch \
        "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"$1\",\"Type\":\"$2\",\"TTL\":${4:-60},\"ResourceRecords\":[{\"Value\":$(jq -Rn --arg v "$3" '$v')}]}}]}" \
        --query ChangeInfo.Id --output text
}

@test "UPSERT an A record: dig answers it at once, the change goes INSYNC, the waiter returns" {
    [ -n "$FB_DNS_PORT" ]
    change=$(upsert www.example.com A 192.0.2.10)
    [ "$(digfb +short www.example.com)" = 192.0.2.10 ]
    [ "$(digfb +short WWW.EXAMPLE.COM)" = 192.0.2.10 ]
    run digfb www.example.com
    [[ "$output" == *"flags: qr aa"* ]]
    [ "$(awsfb route53 get-change --id "$change" --query ChangeInfo.Status --output text)" = PENDING ]
    advance 5s
    run awsfb route53 wait resource-record-sets-changed --id "$change"
    [ "$status" -eq 0 ]
    [ "$(awsfb route53 get-change --id "$change" --query ChangeInfo.Status --output text)" = INSYNC ]
}

@test "a batch with one bad change changes nothing" {
    upsert keep.example.com A 192.0.2.1 >/dev/null
    before=$(awsfb route53 list-resource-record-sets --hosted-zone-id "$ZONE")
    run awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch '{"Changes":[
        {"Action":"CREATE","ResourceRecordSet":{"Name":"new.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.5"}]}},
        {"Action":"DELETE","ResourceRecordSet":{"Name":"keep.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}},
        {"Action":"DELETE","ResourceRecordSet":{"Name":"gone.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}'
    assert_aws_error InvalidChangeBatch ChangeResourceRecordSets
    [[ "$output" == *"Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found"* ]]
    [ "$(awsfb route53 list-resource-record-sets --hosted-zone-id "$ZONE")" = "$before" ]
    [ "$(digfb +short keep.example.com)" = 192.0.2.1 ]
    run digfb new.example.com
    [[ "$output" == *"status: NXDOMAIN"* ]]
    run awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch '{"Changes":[
        {"Action":"CREATE","ResourceRecordSet":{"Name":"keep.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}'
    assert_aws_error InvalidChangeBatch ChangeResourceRecordSets
    [[ "$output" == *"but it already exists"* ]]
}

@test "NXDOMAIN and NODATA carry the SOA; wildcards, CNAME chains, REFUSED outside our zones" {
    awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch '{"Changes":[
        {"Action":"UPSERT","ResourceRecordSet":{"Name":"*.apps.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.20"}]}},
        {"Action":"UPSERT","ResourceRecordSet":{"Name":"alias.example.com","Type":"CNAME","TTL":60,"ResourceRecords":[{"Value":"www.example.com"}]}}]}' >/dev/null
    run digfb nothing.example.com
    [[ "$output" == *"status: NXDOMAIN"* ]]
    [[ "$(digfb +noall +authority nothing.example.com)" == *"SOA"*"awsdns-hostmaster.amazon.com."* ]]
    run digfb www.example.com AAAA
    [[ "$output" == *"status: NOERROR"*"ANSWER: 0"* ]]
    [[ "$(digfb +noall +authority www.example.com AAAA)" == *"SOA"* ]]
    [ "$(digfb +short a.b.apps.example.com)" = 192.0.2.20 ]
    [ "$(digfb +short alias.example.com | tr '\n' ' ')" = "www.example.com. 192.0.2.10 " ]
    run digfb www.example.org
    [[ "$output" == *"status: REFUSED"* ]]
    [[ "$(awsfb route53 list-resource-record-sets --hosted-zone-id "$ZONE" --output text)" == *'\052.apps.example.com.'* ]]
}

@test "a large answer is truncated over UDP and dig retries over TCP" {
    values=$(for i in $(seq 1 30); do printf '{"Value":"\\"txt %02d %s\\""},' "$i" "$(printf 'x%.0s' $(seq 1 90))"; done)
    awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch \
        "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"big.example.com\",\"Type\":\"TXT\",\"TTL\":60,\"ResourceRecords\":[${values%,}]}}]}" >/dev/null
    run digfb +ignore +noedns big.example.com TXT
    [[ "$output" == *"flags: qr aa tc"* ]]
    [ "$(digfb +short big.example.com TXT | wc -l)" -eq 30 ]
    [ "$(digfb +tcp +short big.example.com TXT | wc -l)" -eq 30 ]
}

@test "paging through 1,000 records gives each exactly once; a non-empty zone is not deleted" {
    local zone k
    zone=$(awsfb route53 create-hosted-zone --name paging.test --caller-reference paging \
        --query HostedZone.Id --output text)
    # One batch of 1,000 (AWS's per-request limit of ResourceRecord elements).
    {
        printf '{"Changes":['
        for k in $(seq 0 999); do
            printf '%s{"Action":"CREATE","ResourceRecordSet":{"Name":"h%04d.paging.test","Type":"A","TTL":60,"ResourceRecords":[{"Value":"10.0.%d.%d"}]}}' \
                "$([ "$k" -gt 0 ] && echo ,)" "$k" $((k / 256)) $((k % 256))
        done
        printf ']}'
    } >"$BATS_TEST_TMPDIR/batch.json"
    awsfb route53 change-resource-record-sets --hosted-zone-id "$zone" \
        --change-batch "file://$BATS_TEST_TMPDIR/batch.json" >/dev/null
    # The CLI follows NextRecordName/NextRecordType page by page (100 a page).
    names=$(awsfb route53 list-resource-record-sets --hosted-zone-id "$zone" --page-size 100 \
        --query "ResourceRecordSets[?Type=='A'].Name" --output text | tr '\t' '\n')
    [ "$(grep -c . <<<"$names")" -eq 1000 ]
    [ "$(sort -u <<<"$names" | grep -c .)" -eq 1000 ]
    run awsfb route53 delete-hosted-zone --id "$zone"
    assert_aws_error HostedZoneNotEmpty DeleteHostedZone
}

@test "weighted 3:1 answers roughly 3:1 over many queries" {
    awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch '{"Changes":[
        {"Action":"CREATE","ResourceRecordSet":{"Name":"w.example.com","Type":"A","SetIdentifier":"blue","Weight":3,"TTL":5,"ResourceRecords":[{"Value":"192.0.2.1"}]}},
        {"Action":"CREATE","ResourceRecordSet":{"Name":"w.example.com","Type":"A","SetIdentifier":"green","Weight":1,"TTL":5,"ResourceRecords":[{"Value":"192.0.2.2"}]}}]}' >/dev/null
    # One dig process, 400 queries.
    out=$(digfb +short $(for i in $(seq 1 400); do echo w.example.com; done))
    blue=$(grep -c '^192.0.2.1$' <<<"$out")
    green=$(grep -c '^192.0.2.2$' <<<"$out")
    [ $((blue + green)) -eq 400 ]
    [ "$blue" -gt 255 ] && [ "$blue" -lt 345 ]
}

@test "failover switches to SECONDARY when the primary's health check fails" {
    local port pid hc
    port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
    hc=$(awsfb route53 create-health-check --caller-reference fo \
        --health-check-config "IPAddress=127.0.0.1,Port=$port,Type=HTTP,ResourcePath=/,RequestInterval=10,FailureThreshold=2" \
        --query HealthCheck.Id --output text)
    awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch "{\"Changes\":[
        {\"Action\":\"CREATE\",\"ResourceRecordSet\":{\"Name\":\"fo.example.com\",\"Type\":\"A\",\"SetIdentifier\":\"p\",\"Failover\":\"PRIMARY\",\"HealthCheckId\":\"$hc\",\"TTL\":5,\"ResourceRecords\":[{\"Value\":\"192.0.2.1\"}]}},
        {\"Action\":\"CREATE\",\"ResourceRecordSet\":{\"Name\":\"fo.example.com\",\"Type\":\"A\",\"SetIdentifier\":\"s\",\"Failover\":\"SECONDARY\",\"TTL\":5,\"ResourceRecords\":[{\"Value\":\"192.0.2.2\"}]}}]}" >/dev/null
    advance 10s
    for i in $(seq 1 20); do
        [[ "$(awsfb route53 get-health-check-status --health-check-id "$hc" --query 'HealthCheckObservations[0].StatusReport.Status' --output text)" == Success* ]] && break
        sleep 0.1
    done
    [[ "$(awsfb route53 get-health-check-status --health-check-id "$hc" --query 'HealthCheckObservations[0].StatusReport.Status' --output text)" == "Success: HTTP Status Code 200"* ]]
    [ "$(digfb +short fo.example.com)" = 192.0.2.1 ]
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    for i in $(seq 1 10); do
        advance 10s
        sleep 0.1
        [ "$(digfb +short fo.example.com)" = 192.0.2.2 ] && break
    done
    [ "$(digfb +short fo.example.com)" = 192.0.2.2 ]
    run awsfb route53 delete-health-check --health-check-id "$hc"
    assert_aws_error HealthCheckInUse DeleteHealthCheck
    run awsfb route53 get-health-check --health-check-id 00000000-0000-0000-0000-000000000000
    assert_aws_error NoSuchHealthCheck GetHealthCheck
    [ "$(awsfb route53 list-health-checks --query 'length(HealthChecks)')" -eq 1 ]
}

@test "zones: get, list by name, count, comment, tags, delete and their errors" {
    local zone id
    zone=$(awsfb route53 create-hosted-zone --name gone.test --caller-reference gone \
        --hosted-zone-config Comment=first --query HostedZone.Id --output text)
    id=${zone##*/}
    run awsfb route53 create-hosted-zone --name 'bad..test' --caller-reference gone
    assert_aws_error HostedZoneAlreadyExists CreateHostedZone
    [ "$(awsfb route53 update-hosted-zone-comment --id "$zone" --comment second --query HostedZone.Config.Comment --output text)" = second ]
    [ "$(awsfb route53 get-hosted-zone --id "$zone" --query 'length(DelegationSet.NameServers)')" -eq 4 ]
    [ "$(awsfb route53 list-hosted-zones-by-name --dns-name gone.test --max-items 1 --query 'HostedZones[0].Id' --output text)" = "$zone" ]
    awsfb route53 change-tags-for-resource --resource-type hostedzone --resource-id "$id" \
        --add-tags Key=team,Value=dns >/dev/null
    [ "$(awsfb route53 list-tags-for-resource --resource-type hostedzone --resource-id "$id" \
        --query 'ResourceTagSet.Tags[0].Value' --output text)" = dns ]
    [ "$(awsfb route53 delete-hosted-zone --id "$zone" --query ChangeInfo.Status --output text)" = PENDING ]
    # example.com and paging.test remain.
    [ "$(awsfb route53 get-hosted-zone-count --query HostedZoneCount)" -eq 2 ]
    run awsfb route53 get-hosted-zone --id "$zone"
    assert_aws_error NoSuchHostedZone GetHostedZone
    run digfb gone.test SOA
    [[ "$output" == *"status: REFUSED"* ]]
}

@test "bad packets are dropped or answered FORMERR and the server keeps answering" {
    printf '\x12' >"/dev/udp/127.0.0.1/$FB_DNS_PORT"
    printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01' >"/dev/udp/127.0.0.1/$FB_DNS_PORT"
    head -c 3000 /dev/urandom >"/dev/udp/127.0.0.1/$FB_DNS_PORT"
    exec 5<>"/dev/tcp/127.0.0.1/$FB_DNS_PORT"
    printf '\xff\xff\x00\x01' >&5
    exec 5>&-
    [ "$(digfb +short www.example.com)" = 192.0.2.10 ]
    assert_alive
}

@test "blue-green: moving the alias from one load balancer to another moves the traffic" {
    local ami ids blue green a b blue_dns green_dns port target name
    ami=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    cat >"$BATS_TEST_TMPDIR/web.sh" <<'EOF'
#!/bin/sh
mkdir -p /var/www
echo "$FOGBANK_INSTANCE_ID" >/var/www/index.html
cd /var/www && nohup python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1 &
EOF
    ids=$(awsfb ec2 run-instances --image-id "$ami" --count 2 \
        --user-data "file://$BATS_TEST_TMPDIR/web.sh" --query 'Instances[].InstanceId' --output text)
    read -r a b <<<"$ids"
    blue_dns=$(awsfb elb create-load-balancer --load-balancer-name blue \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a us-east-1b us-east-1c --query DNSName --output text)
    green_dns=$(awsfb elb create-load-balancer --load-balancer-name green \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a us-east-1b us-east-1c --query DNSName --output text)
    for lb in blue green; do
        awsfb elb configure-health-check --load-balancer-name $lb \
            --health-check Target=TCP:80,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2 >/dev/null
    done
    awsfb elb register-instances-with-load-balancer --load-balancer-name blue --instances "$a" >/dev/null
    awsfb elb register-instances-with-load-balancer --load-balancer-name green --instances "$b" >/dev/null
    # lb_get NAME: the page served through that balancer's port-80 listener.
    lb_get() {
        port=$(ctl --json status | jq -r --arg n "$1" '.load_balancers[] | select(.name == $n) | .listeners[] | select(.load_balancer_port == 80) | .host_port')
        curl -sf "http://127.0.0.1:$port/"
    }
    # Both instances InService: each balancer serves its instance's page.
    for i in $(seq 1 60); do
        [ "$(lb_get blue)" = "$a" ] && [ "$(lb_get green)" = "$b" ] && break
        advance 5s
        sleep 0.2
    done

    # alias_to DNS: UPSERT www2 as an alias of that load balancer.
    alias_to() {
        awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch "{\"Changes\":[
            {\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"www2.example.com\",\"Type\":\"A\",\"AliasTarget\":{\"HostedZoneId\":\"Z35SXDOTRQ7X7K\",\"DNSName\":\"$1\",\"EvaluateTargetHealth\":false}}}]}" >/dev/null
    }
    # through_alias: the page served through the balancer the record names now. Every
    # balancer listens on loopback, so its name resolves to 127.0.0.1 and the listener's
    # port comes from the status view.
    through_alias() {
        target=$(awsfb route53 list-resource-record-sets --hosted-zone-id "$ZONE" \
            --query "ResourceRecordSets[?Name=='www2.example.com.'].AliasTarget.DNSName" --output text)
        target=${target%.}
        [ "$(digfb +short "$target")" = 127.0.0.1 ] || return 1
        name=$(ctl --json status | jq -r --arg d "${target#dualstack.}" '.load_balancers[] | select((.dns_name | ascii_downcase) == $d) | .name')
        lb_get "$name"
    }
    alias_to "$blue_dns"
    [ "$(digfb +short www2.example.com)" = 127.0.0.1 ]
    [ "$(through_alias)" = "$a" ]
    alias_to "dualstack.$green_dns"
    [ "$(digfb +short www2.example.com)" = 127.0.0.1 ]
    [ "$(through_alias)" = "$b" ]
    # An alias to a balancer that does not exist is refused.
    run awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch '{"Changes":[
        {"Action":"UPSERT","ResourceRecordSet":{"Name":"www3.example.com","Type":"A","AliasTarget":{"HostedZoneId":"Z35SXDOTRQ7X7K","DNSName":"nope-1.us-east-1.elb.amazonaws.com","EvaluateTargetHealth":false}}}]}'
    assert_aws_error InvalidChangeBatch ChangeResourceRecordSets
}

@test "EvaluateTargetHealth: a PRIMARY alias to a load balancer with no InService instance answers the SECONDARY" {
    local idle
    idle=$(awsfb elb create-load-balancer --load-balancer-name idle \
        --listeners Protocol=HTTP,LoadBalancerPort=80,InstancePort=80 \
        --availability-zones us-east-1a --query DNSName --output text)
    # failover_to_idle ETH: PRIMARY an alias of idle, SECONDARY A 192.0.2.2.
    failover_to_idle() {
        awsfb route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch "{\"Changes\":[
            {\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"eth.example.com\",\"Type\":\"A\",\"SetIdentifier\":\"p\",\"Failover\":\"PRIMARY\",\"AliasTarget\":{\"HostedZoneId\":\"Z35SXDOTRQ7X7K\",\"DNSName\":\"$idle\",\"EvaluateTargetHealth\":$1}}},
            {\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"eth.example.com\",\"Type\":\"A\",\"SetIdentifier\":\"s\",\"Failover\":\"SECONDARY\",\"TTL\":5,\"ResourceRecords\":[{\"Value\":\"192.0.2.2\"}]}}]}" >/dev/null
    }
    failover_to_idle true
    [ "$(digfb +short eth.example.com)" = 192.0.2.2 ]
    [ "$(awsfb route53 list-resource-record-sets --hosted-zone-id "$ZONE" --start-record-name eth.example.com \
        --max-items 1 --query 'ResourceRecordSets[0].AliasTarget.EvaluateTargetHealth')" = true ]
    # Without EvaluateTargetHealth the primary answers whatever the balancer's state.
    failover_to_idle false
    [ "$(digfb +short eth.example.com)" = 127.0.0.1 ]
}
