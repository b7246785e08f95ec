#!/usr/bin/env bats
# EC2 networking through the real aws CLI: the default VPC, VPCs, subnets, security groups
# and their rules, key pairs (checked with ssh-keygen and openssl as the EC2 User Guide
# verifies fingerprints) and tags, with filters and the errors AWS answers.

load helpers

setup_file() {
    fogbank_start
}

teardown_file() {
    fogbank_stop
}

@test "a new account has a default VPC, three default subnets and a default group" {
    run awsfb ec2 describe-vpcs --filters Name=is-default,Values=true
    [ "$status" -eq 0 ]
    [ "$(jq -r '.Vpcs | length' <<<"$output")" -eq 1 ]
    [ "$(jq -r '.Vpcs[0].CidrBlock' <<<"$output")" = "172.31.0.0/16" ]
    [ "$(jq -r '.Vpcs[0].State' <<<"$output")" = "available" ]
    [ "$(jq -r '.Vpcs[0].OwnerId' <<<"$output")" = "123456789012" ]
    run awsfb ec2 describe-subnets --filters Name=default-for-az,Values=true
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.Subnets[].CidrBlock] | sort' <<<"$output")" = '["172.31.0.0/20","172.31.16.0/20","172.31.32.0/20"]' ]
    [ "$(jq -c '[.Subnets[].AvailabilityZone] | sort' <<<"$output")" = '["us-east-1a","us-east-1b","us-east-1c"]' ]
    [ "$(jq -r '[.Subnets[].MapPublicIpOnLaunch] | unique | .[0]' <<<"$output")" = "true" ]
    run awsfb ec2 describe-security-groups --group-names default
    [ "$status" -eq 0 ]
    [ "$(jq -r '.SecurityGroups[0].IpPermissionsEgress[0].IpProtocol' <<<"$output")" = "-1" ]
    [ "$(jq -r '.SecurityGroups[0].IpPermissionsEgress[0].IpRanges[0].CidrIp' <<<"$output")" = "0.0.0.0/0" ]
}

@test "create a VPC with tags, a subnet in a zone, and find them by filters" {
    run awsfb ec2 create-vpc --cidr-block 10.20.0.0/16 \
        --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=e2e}]'
    [ "$status" -eq 0 ]
    vpc=$(jq -r '.Vpc.VpcId' <<<"$output")
    [[ "$vpc" =~ ^vpc-[0-9a-f]{17}$ ]]
    [ "$(jq -r '.Vpc.Tags[0].Value' <<<"$output")" = "e2e" ]

    run awsfb ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.1.0/24 --availability-zone us-east-1b
    [ "$status" -eq 0 ]
    subnet=$(jq -r '.Subnet.SubnetId' <<<"$output")
    [ "$(jq -r '.Subnet.AvailableIpAddressCount' <<<"$output")" -eq 251 ]
    [ "$(jq -r '.Subnet.AvailabilityZoneId' <<<"$output")" = "use1-az2" ]

    run awsfb ec2 describe-vpcs --filters Name=tag:Name,Values=e2e
    [ "$(jq -r '.Vpcs[0].VpcId' <<<"$output")" = "$vpc" ]
    run awsfb ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" Name=availability-zone,Values=us-east-1b
    [ "$(jq -r '.Subnets | length' <<<"$output")" -eq 1 ]
    [ "$(jq -r '.Subnets[0].SubnetId' <<<"$output")" = "$subnet" ]
    run awsfb ec2 describe-subnets --filters Name=cidr-block,Values=10.20.*
    [ "$(jq -r '.Subnets | length' <<<"$output")" -eq 1 ]
}

@test "bad CIDRs and unknown ids are the AWS errors" {
    run awsfb ec2 create-vpc --cidr-block 10.0.0.0/8
    assert_aws_error InvalidVpc.Range CreateVpc
    [[ "$output" == *"The CIDR '10.0.0.0/8' is invalid."* ]]
    run awsfb ec2 create-vpc --cidr-block 10.30.0.0/16
    vpc=$(jq -r '.Vpc.VpcId' <<<"$output")
    run awsfb ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.30.0.0/24
    [ "$status" -eq 0 ]
    run awsfb ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.30.0.0/25
    assert_aws_error InvalidSubnet.Conflict CreateSubnet
    [[ "$output" == *"The CIDR '10.30.0.0/25' conflicts with another subnet"* ]]
    run awsfb ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.31.0.0/24
    assert_aws_error InvalidSubnet.Range CreateSubnet
    run awsfb ec2 describe-vpcs --vpc-ids vpc-0123456789abcdef0
    assert_aws_error InvalidVpcID.NotFound DescribeVpcs
    [[ "$output" == *"The vpc ID 'vpc-0123456789abcdef0' does not exist"* ]]
    run awsfb ec2 describe-subnets --subnet-ids subnet-0123456789abcdef0
    assert_aws_error InvalidSubnetID.NotFound DescribeSubnets
    run awsfb ec2 delete-vpc --vpc-id "$vpc"
    assert_aws_error DependencyViolation DeleteVpc
    [[ "$output" == *"The vpc '$vpc' has dependencies and cannot be deleted."* ]]
    run awsfb ec2 describe-vpcs --filters Name=colour,Values=blue
    assert_aws_error InvalidParameterValue DescribeVpcs
    assert_alive
}

@test "security group rules: authorize, describe, duplicate, revoke, delete" {
    vpc=$(awsfb ec2 create-vpc --cidr-block 10.40.0.0/16 | jq -r '.Vpc.VpcId')
    run awsfb ec2 create-security-group --group-name web --description "web tier" --vpc-id "$vpc"
    [ "$status" -eq 0 ]
    sg=$(jq -r '.GroupId' <<<"$output")
    [[ "$sg" =~ ^sg-[0-9a-f]{17}$ ]]
    run awsfb ec2 create-security-group --group-name web --description "again" --vpc-id "$vpc"
    assert_aws_error InvalidGroup.Duplicate CreateSecurityGroup
    [[ "$output" == *"The security group 'web' already exists for VPC '$vpc'"* ]]

    run awsfb ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 203.0.113.0/24
    [ "$status" -eq 0 ]
    [ "$(jq -r '.Return' <<<"$output")" = "true" ]
    [[ "$(jq -r '.SecurityGroupRules[0].SecurityGroupRuleId' <<<"$output")" == sgr-* ]]
    run awsfb ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 8000-8100 --source-group "$sg"
    [ "$status" -eq 0 ]

    run awsfb ec2 describe-security-groups --group-ids "$sg"
    [ "$(jq -r '.SecurityGroups[0].IpPermissions | length' <<<"$output")" -eq 2 ]
    [ "$(jq -r '.SecurityGroups[0].IpPermissions[0].FromPort' <<<"$output")" -eq 22 ]
    [ "$(jq -r '.SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp' <<<"$output")" = "203.0.113.0/24" ]
    [ "$(jq -r '.SecurityGroups[0].IpPermissions[1].UserIdGroupPairs[0].GroupId' <<<"$output")" = "$sg" ]
    run awsfb ec2 describe-security-groups --filters Name=ip-permission.from-port,Values=22 "Name=vpc-id,Values=$vpc"
    [ "$(jq -r '.SecurityGroups[0].GroupId' <<<"$output")" = "$sg" ]

    run awsfb ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 203.0.113.0/24
    assert_aws_error InvalidPermission.Duplicate AuthorizeSecurityGroupIngress
    [[ "$output" == *'the specified rule "peer: 203.0.113.0/24, TCP, from port: 22, to port: 22, ALLOW" already exists'* ]]

    run awsfb ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 203.0.113.0/24
    [ "$status" -eq 0 ]
    run awsfb ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 203.0.113.0/24
    assert_aws_error InvalidPermission.NotFound RevokeSecurityGroupIngress

    run awsfb ec2 authorize-security-group-egress --group-id "$sg" \
        --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]'
    [ "$status" -eq 0 ]
    [ "$(jq -r '.SecurityGroupRules[0].IsEgress' <<<"$output")" = "true" ]

    run awsfb ec2 delete-security-group --group-id "$sg"
    [ "$status" -eq 0 ]
    run awsfb ec2 describe-security-groups --group-ids "$sg"
    assert_aws_error InvalidGroup.NotFound DescribeSecurityGroups
    run awsfb ec2 describe-security-groups --group-ids not-a-group
    assert_aws_error InvalidGroupId.Malformed DescribeSecurityGroups
    [[ "$output" == *'Invalid id: "not-a-group" (expecting "sg-...")'* ]]
}

@test "the default group cannot be deleted, a referenced group neither" {
    dsg=$(awsfb ec2 describe-security-groups --group-names default | jq -r '.SecurityGroups[0].GroupId')
    run awsfb ec2 delete-security-group --group-id "$dsg"
    assert_aws_error CannotDelete DeleteSecurityGroup
    [[ "$output" == *"name: \"default\" cannot be deleted by a user"* ]]
    a=$(awsfb ec2 create-security-group --group-name ref-a --description a | jq -r '.GroupId')
    b=$(awsfb ec2 create-security-group --group-name ref-b --description b | jq -r '.GroupId')
    run awsfb ec2 authorize-security-group-ingress --group-id "$a" --protocol tcp --port 5432 --source-group "$b"
    [ "$status" -eq 0 ]
    run awsfb ec2 delete-security-group --group-id "$b"
    assert_aws_error DependencyViolation DeleteSecurityGroup
    [[ "$output" == *"resource $b has a dependent object"* ]]
    run awsfb ec2 delete-security-group --group-name ref-a
    [ "$status" -eq 0 ]
    run awsfb ec2 delete-security-group --group-id "$b"
    [ "$status" -eq 0 ]
}

@test "create-key-pair gives a private key whose fingerprint matches AWS's recipe" {
    key="$BATS_TEST_TMPDIR/rsa.pem"
    run awsfb ec2 create-key-pair --key-name e2e-rsa
    [ "$status" -eq 0 ]
    jq -r '.KeyMaterial' <<<"$output" >"$key"
    chmod 600 "$key"
    fp=$(jq -r '.KeyFingerprint' <<<"$output")
    head -n 1 "$key" | grep -q -- '-----BEGIN RSA PRIVATE KEY-----'
    # EC2 User Guide (verify-keys): the SHA-1 of the PKCS#8 DER private key.
    want=$(openssl pkcs8 -in "$key" -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c | sed 's/^.*= //')
    [ "$fp" = "$want" ]
    run awsfb ec2 describe-key-pairs --key-names e2e-rsa --include-public-key
    [ "$status" -eq 0 ]
    [ "$(jq -r '.KeyPairs[0].KeyType' <<<"$output")" = "rsa" ]
    pub=$(jq -r '.KeyPairs[0].PublicKey' <<<"$output" | cut -d' ' -f1-2)
    [ "$pub" = "$(ssh-keygen -y -f "$key" | cut -d' ' -f1-2)" ]

    ed="$BATS_TEST_TMPDIR/ed.pem"
    run awsfb ec2 create-key-pair --key-name e2e-ed --key-type ed25519
    [ "$status" -eq 0 ]
    jq -r '.KeyMaterial' <<<"$output" >"$ed"
    chmod 600 "$ed"
    fp=$(jq -r '.KeyFingerprint' <<<"$output")
    sshfp=$(ssh-keygen -l -f "$ed" | awk '{print $2}' | sed 's/^SHA256://')
    [ "${fp%=}" = "$sshfp" ]

    run awsfb ec2 create-key-pair --key-name e2e-ed
    assert_aws_error InvalidKeyPair.Duplicate CreateKeyPair
    [[ "$output" == *"The keypair 'e2e-ed' already exists."* ]]
}

@test "import-key-pair takes OpenSSH keys and rejects others" {
    rm -f "$BATS_TEST_TMPDIR/id"*
    ssh-keygen -q -t rsa -b 2048 -N '' -f "$BATS_TEST_TMPDIR/id_rsa" -C e2e@host
    run awsfb ec2 import-key-pair --key-name e2e-import --public-key-material "fileb://$BATS_TEST_TMPDIR/id_rsa.pub"
    [ "$status" -eq 0 ]
    # EC2 User Guide (verify-keys): the MD5 of the DER public key for imported RSA keys.
    want=$(ssh-keygen -e -f "$BATS_TEST_TMPDIR/id_rsa.pub" -m PEM | openssl rsa -RSAPublicKey_in -outform DER 2>/dev/null | openssl md5 -c | sed 's/^.*= //')
    [ "$(jq -r '.KeyFingerprint' <<<"$output")" = "$want" ]

    ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/id_ed"
    run awsfb ec2 import-key-pair --key-name e2e-import-ed --public-key-material "fileb://$BATS_TEST_TMPDIR/id_ed.pub"
    [ "$status" -eq 0 ]
    sshfp=$(ssh-keygen -l -f "$BATS_TEST_TMPDIR/id_ed.pub" | awk '{print $2}' | sed 's/^SHA256://')
    fp=$(jq -r '.KeyFingerprint' <<<"$output")
    [ "${fp%=}" = "$sshfp" ]

    echo "not a key" >"$BATS_TEST_TMPDIR/junk.pub"
    run awsfb ec2 import-key-pair --key-name e2e-junk --public-key-material "fileb://$BATS_TEST_TMPDIR/junk.pub"
    assert_aws_error InvalidKey.Format ImportKeyPair
    [[ "$output" == *"Key is not in valid OpenSSH public key format"* ]]

    run awsfb ec2 describe-key-pairs --filters Name=key-name,Values=e2e-import*
    [ "$(jq -r '.KeyPairs | length' <<<"$output")" -eq 2 ]
    run awsfb ec2 delete-key-pair --key-name e2e-import
    [ "$status" -eq 0 ]
    run awsfb ec2 describe-key-pairs --key-names e2e-import
    assert_aws_error InvalidKeyPair.NotFound DescribeKeyPairs
    [[ "$output" == *"The key pair 'e2e-import' does not exist"* ]]
}

@test "tags: create, describe with filters, delete" {
    vpc=$(awsfb ec2 create-vpc --cidr-block 10.50.0.0/16 | jq -r '.Vpc.VpcId')
    sg=$(awsfb ec2 create-security-group --group-name tagged --description t --vpc-id "$vpc" | jq -r '.GroupId')
    run awsfb ec2 create-tags --resources "$vpc" "$sg" --tags Key=env,Value=staging Key=owner,Value=ops
    [ "$status" -eq 0 ]
    run awsfb ec2 describe-tags --filters "Name=resource-id,Values=$vpc,$sg" Name=key,Values=env
    [ "$status" -eq 0 ]
    [ "$(jq -r '.Tags | length' <<<"$output")" -eq 2 ]
    [ "$(jq -c '[.Tags[].ResourceType] | sort' <<<"$output")" = '["security-group","vpc"]' ]
    run awsfb ec2 describe-security-groups --filters Name=tag:owner,Values=ops
    [ "$(jq -r '.SecurityGroups[0].GroupId' <<<"$output")" = "$sg" ]
    run awsfb ec2 delete-tags --resources "$vpc" --tags Key=env
    [ "$status" -eq 0 ]
    run awsfb ec2 describe-tags --filters "Name=resource-id,Values=$vpc"
    [ "$(jq -c '[.Tags[].Key]' <<<"$output")" = '["owner"]' ]

    run awsfb ec2 create-tags --resources not-an-id --tags Key=a,Value=b
    assert_aws_error InvalidID CreateTags
    [[ "$output" == *"The ID 'not-an-id' is not valid"* ]]
    run awsfb ec2 create-tags --resources vpc-0123456789abcdef0 --tags Key=a,Value=b
    assert_aws_error InvalidVpcID.NotFound CreateTags
}

@test "describe-vpcs pages through NextToken" {
    for i in 1 2 3 4 5 6; do
        awsfb ec2 create-vpc --cidr-block "10.6$i.0.0/16" >/dev/null
    done
    run awsfb ec2 describe-vpcs --page-size 5
    [ "$status" -eq 0 ]
    total=$(jq -r '.Vpcs | length' <<<"$output")
    [ "$total" -ge 7 ]
    run awsfb ec2 describe-vpcs --max-results 5 --no-paginate
    [ "$(jq -r '.Vpcs | length' <<<"$output")" -eq 5 ]
    [ -n "$(jq -r '.NextToken // empty' <<<"$output")" ]
    assert_alive
}

@test "dry runs answer DryRunOperation and create nothing" {
    before=$(awsfb ec2 describe-vpcs | jq -r '.Vpcs | length')
    run awsfb ec2 create-vpc --cidr-block 10.99.0.0/16 --dry-run
    assert_aws_error DryRunOperation CreateVpc
    [[ "$output" == *"Request would have succeeded, but DryRun flag is set."* ]]
    [ "$(awsfb ec2 describe-vpcs | jq -r '.Vpcs | length')" -eq "$before" ]
}
