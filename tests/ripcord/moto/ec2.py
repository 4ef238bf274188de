"""Builds the EC2 state a ripcord platform test reads, through moto's API (boto3).

Usage: ec2.py ENDPOINT both|root-only|forbidden-user

Prints one JSON object: the GHES primary's instance id, its root and data volumes, and the
snapshots taken; or, for forbidden-user, the access key of an IAM user with no EC2 permission
(moto enforces IAM when started with INITIAL_NO_AUTH_ACTION_COUNT).
"""

import json
import sys

import boto3

endpoint, mode = sys.argv[1], sys.argv[2]
KEYS = dict(
    region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)

if mode == "forbidden-user":
    iam = boto3.client("iam", endpoint_url=endpoint, **KEYS)
    iam.create_user(UserName="ripcord-no-ec2")
    key = iam.create_access_key(UserName="ripcord-no-ec2")["AccessKey"]
    print(json.dumps({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}))
    sys.exit(0)

ec2 = boto3.client("ec2", endpoint_url=endpoint, **KEYS)
image = ec2.describe_images()["Images"][0]["ImageId"]
instance = ec2.run_instances(
    ImageId=image, MinCount=1, MaxCount=1, InstanceType="r5.xlarge",
    Placement={"AvailabilityZone": "us-east-1a"},
)["Instances"][0]["InstanceId"]
# GHES on AWS: the root volume from the AMI, and an EBS data volume attached as /dev/xvdf.
data = ec2.create_volume(Size=150, AvailabilityZone="us-east-1a", VolumeType="gp3")["VolumeId"]
ec2.attach_volume(VolumeId=data, InstanceId=instance, Device="/dev/xvdf")
described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
root = next(
    m["Ebs"]["VolumeId"]
    for m in described["BlockDeviceMappings"]
    if m["DeviceName"] == described["RootDeviceName"]
)
out = {"instance": instance, "root_volume": root, "data_volume": data}
out["root_snapshot"] = ec2.create_snapshot(VolumeId=root, Description="ghes pre-upgrade root")["SnapshotId"]
if mode == "both":
    out["data_snapshot"] = ec2.create_snapshot(VolumeId=data, Description="ghes pre-upgrade data")["SnapshotId"]
print(json.dumps(out))
