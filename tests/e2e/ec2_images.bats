#!/usr/bin/env bats
# EC2 images and launch templates through the real aws CLI: the built-in images,
# register/deregister (from a host directory too), launch template versions, and the errors
# with their exit status and message.

load helpers

setup_file() {
    fogbank_start
}

teardown_file() {
    fogbank_stop
}

@test "describe-images shows the two public amazon images of every region" {
    run awsfb ec2 describe-images --owners amazon
    [ "$status" -eq 0 ]
    [ "$(jq '.Images | length' <<<"$output")" -eq 2 ]
    [ "$(jq -c '[.Images[].Name] | sort' <<<"$output")" = '["al2023-ami-fogbank-x86_64","ubuntu-jammy-22.04-amd64-server-fogbank"]' ]
    [ "$(jq -r '[.Images[].OwnerId] | unique | .[0]' <<<"$output")" = "137112412989" ]
    [ "$(jq -r '[.Images[].ImageOwnerAlias] | unique | .[0]' <<<"$output")" = "amazon" ]
    [ "$(jq -r '[.Images[].Public] | unique | .[0]' <<<"$output")" = "true" ]
    [ "$(jq -r '.Images[0].State' <<<"$output")" = "available" ]
    [ "$(jq -r '.Images[0].CreationDate' <<<"$output")" = "2025-01-01T00:00:00.000Z" ]
    [ "$(jq -r '.Images[0].RootDeviceType' <<<"$output")" = "ebs" ]
    [ "$(jq -r '.Images[0].BlockDeviceMappings[0].Ebs.VolumeSize' <<<"$output")" = "8" ]
    east=$(jq -r '[.Images[].ImageId] | sort | .[0]' <<<"$output")
    run awsfb --region eu-west-1 ec2 describe-images --owners amazon \
        --filters 'Name=name,Values=al2023-*'
    [ "$status" -eq 0 ]
    [ "$(jq '.Images | length' <<<"$output")" -eq 1 ]
    [ "$(jq -r '.Images[0].ImageId' <<<"$output")" != "$east" ]
}

@test "the built-in images come back after a reset with the same ids" {
    before=$(awsfb ec2 describe-images --owners amazon --query 'sort(Images[].ImageId)' --output text)
    curl -sf -X POST "$FB_URL/_fogbank/reset" >/dev/null
    after=$(awsfb ec2 describe-images --owners amazon --query 'sort(Images[].ImageId)' --output text)
    [ -n "$before" ]
    [ "$before" = "$after" ]
}

@test "register-image from a host directory, describe it, deregister it" {
    tree="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$tree/etc/fogbank" "$tree/srv"
    printf '#!/bin/sh\necho booted\n' >"$tree/etc/fogbank/boot"
    echo hello >"$tree/srv/index.html"
    run awsfb ec2 register-image --name web-image --description "web tier" \
        --image-location "$tree" \
        --tag-specifications 'ResourceType=image,Tags=[{Key=team,Value=web}]'
    [ "$status" -eq 0 ]
    id=$(jq -r .ImageId <<<"$output")
    [[ "$id" == ami-* ]]

    run awsfb ec2 describe-images --image-ids "$id"
    [ "$status" -eq 0 ]
    [ "$(jq -r '.Images[0].Name' <<<"$output")" = "web-image" ]
    [ "$(jq -r '.Images[0].Description' <<<"$output")" = "web tier" ]
    [ "$(jq -r '.Images[0].ImageLocation' <<<"$output")" = "$tree" ]
    [ "$(jq -r '.Images[0].OwnerId' <<<"$output")" = "123456789012" ]
    [ "$(jq -r '.Images[0].Public' <<<"$output")" = "false" ]
    [ "$(jq -r '.Images[0].Tags[0].Key' <<<"$output")" = "team" ]

    run awsfb ec2 describe-images --owners self --filters Name=tag:team,Values=web
    [ "$status" -eq 0 ]
    [ "$(jq -r '.Images[0].ImageId' <<<"$output")" = "$id" ]

    run awsfb ec2 deregister-image --image-id "$id"
    [ "$status" -eq 0 ]
    run awsfb ec2 describe-images --image-ids "$id"
    [ "$status" -eq 0 ]
    [ "$(jq '.Images | length' <<<"$output")" -eq 0 ]
    run awsfb ec2 deregister-image --image-id "$id"
    assert_aws_error InvalidAMIID.Unavailable DeregisterImage
    [[ "$output" == *"The image ID '$id' is no longer available"* ]]
    assert_alive
}

@test "image errors: not found, malformed, duplicate name, someone else's image" {
    run awsfb ec2 describe-images --image-ids ami-0123456789abcdef0
    assert_aws_error InvalidAMIID.NotFound DescribeImages
    [[ "$output" == *"The image id '[ami-0123456789abcdef0]' does not exist"* ]]

    run awsfb ec2 deregister-image --image-id nonsense
    assert_aws_error InvalidAMIID.Malformed DeregisterImage
    [[ "$output" == *'Invalid id: "nonsense" (expecting "ami-...")'* ]]

    run awsfb ec2 register-image --name dup-name
    [ "$status" -eq 0 ]
    first=$(jq -r .ImageId <<<"$output")
    run awsfb ec2 register-image --name dup-name
    assert_aws_error InvalidAMIName.Duplicate RegisterImage
    [[ "$output" == *"AMI name dup-name is already in use by AMI $first"* ]]

    run awsfb ec2 register-image --name 'bad*name'
    assert_aws_error InvalidAMIName.Malformed RegisterImage

    amazon=$(awsfb ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
    run awsfb ec2 deregister-image --image-id "$amazon"
    assert_aws_error AuthFailure DeregisterImage

    run awsfb ec2 describe-images --filters Name=colour,Values=red
    assert_aws_error InvalidParameterValue DescribeImages
    assert_alive
}

@test "launch templates: create, versions from a source, default, delete" {
    run awsfb ec2 create-launch-template --launch-template-name web-lt \
        --version-description first \
        --launch-template-data '{"ImageId":"ami-0123456789abcdef0","InstanceType":"t3.micro","KeyName":"deploy"}'
    [ "$status" -eq 0 ]
    lt=$(jq -r .LaunchTemplate.LaunchTemplateId <<<"$output")
    [[ "$lt" == lt-* ]]
    [ "$(jq -r .LaunchTemplate.DefaultVersionNumber <<<"$output")" = "1" ]
    [ "$(jq -r .LaunchTemplate.LatestVersionNumber <<<"$output")" = "1" ]
    [ "$(jq -r .LaunchTemplate.CreatedBy <<<"$output")" = "arn:aws:iam::123456789012:root" ]

    run awsfb ec2 create-launch-template-version --launch-template-id "$lt" --source-version 1 \
        --launch-template-data '{"InstanceType":"t3.large"}'
    [ "$status" -eq 0 ]
    [ "$(jq -r .LaunchTemplateVersion.VersionNumber <<<"$output")" = "2" ]
    [ "$(jq -r .LaunchTemplateVersion.LaunchTemplateData.InstanceType <<<"$output")" = "t3.large" ]
    [ "$(jq -r .LaunchTemplateVersion.LaunchTemplateData.KeyName <<<"$output")" = "deploy" ]

    run awsfb ec2 describe-launch-template-versions --launch-template-name web-lt \
        --versions '$Latest' '$Default'
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.LaunchTemplateVersions[].VersionNumber]' <<<"$output")" = '[2,1]' ]
    [ "$(jq -r '.LaunchTemplateVersions[] | select(.VersionNumber == 1) | .DefaultVersion' <<<"$output")" = "true" ]

    run awsfb ec2 modify-launch-template --launch-template-id "$lt" --default-version 2
    [ "$status" -eq 0 ]
    [ "$(jq -r .LaunchTemplate.DefaultVersionNumber <<<"$output")" = "2" ]

    run awsfb ec2 describe-launch-templates --launch-template-names web-lt
    [ "$status" -eq 0 ]
    [ "$(jq -r '.LaunchTemplates[0].LaunchTemplateId' <<<"$output")" = "$lt" ]
    [ "$(jq -r '.LaunchTemplates[0].LatestVersionNumber' <<<"$output")" = "2" ]

    run awsfb ec2 delete-launch-template-versions --launch-template-id "$lt" --versions 1 2
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.SuccessfullyDeletedLaunchTemplateVersions[].VersionNumber]' <<<"$output")" = '[1]' ]
    [ "$(jq -r '.UnsuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber' <<<"$output")" = "2" ]

    run awsfb ec2 delete-launch-template --launch-template-name web-lt
    [ "$status" -eq 0 ]
    [ "$(jq -r .LaunchTemplate.LaunchTemplateId <<<"$output")" = "$lt" ]
    run awsfb ec2 describe-launch-templates --launch-template-ids "$lt"
    assert_aws_error InvalidLaunchTemplateId.NotFound DescribeLaunchTemplates
}

@test "launch template errors" {
    run awsfb ec2 create-launch-template --launch-template-name twice \
        --launch-template-data '{"InstanceType":"t3.micro"}'
    [ "$status" -eq 0 ]
    run awsfb ec2 create-launch-template --launch-template-name twice \
        --launch-template-data '{"InstanceType":"t3.micro"}'
    assert_aws_error InvalidLaunchTemplateName.AlreadyExistsException CreateLaunchTemplate
    [[ "$output" == *"Launch template name already in use."* ]]

    run awsfb ec2 describe-launch-templates --launch-template-names nope
    assert_aws_error InvalidLaunchTemplateName.NotFoundException DescribeLaunchTemplates
    [[ "$output" == *"At least one of the launch templates specified in the request does not exist."* ]]

    run awsfb ec2 describe-launch-template-versions --launch-template-name twice --versions 7
    assert_aws_error InvalidLaunchTemplateId.VersionNotFound DescribeLaunchTemplateVersions
    [[ "$output" == *"Could not find the specified version 7"* ]]

    run awsfb ec2 describe-launch-template-versions --launch-template-id not-an-id
    assert_aws_error InvalidLaunchTemplateId.Malformed DescribeLaunchTemplateVersions

    run awsfb ec2 delete-launch-template --launch-template-id lt-0123456789abcdef0
    assert_aws_error InvalidLaunchTemplateId.NotFound DeleteLaunchTemplate
    [[ "$output" == *"The specified launch template, with template ID lt-0123456789abcdef0, does not exist."* ]]
    assert_alive
}
