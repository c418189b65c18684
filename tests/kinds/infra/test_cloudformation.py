"""CloudFormation: the AWS sample templates (hand-counted), short tags, structural checks."""

from __future__ import annotations

import pytest

from hyper_registry.kinds.infra import cloudformation
from hyper_registry.kinds.infra.model import Parsed

from .conftest import FIXTURES

# Resources per template, counted by hand in each file's Resources section.
COUNTS = {
    "DynamoDB_Table.json": 1,
    "EC2InstanceWithSecurityGroupSample.yaml": 2,
    "LambdaSample.json": 2,
    "S3_LambdaTrigger.yaml": 4,
    "VPC_With_Managed_NAT_And_Private_Subnet.yaml": 26,
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_samples_parse_with_the_hand_count(name: str) -> None:
    p = cloudformation.parse({name: (FIXTURES / "cloudformation" / name).read_text()}, {})
    assert p.errors == []
    assert len(p.resources) == COUNTS[name]
    assert p.providers == ["aws"]


def test_vpc_sample_details() -> None:
    name = "VPC_With_Managed_NAT_And_Private_Subnet.yaml"
    p = cloudformation.parse({name: (FIXTURES / "cloudformation" / name).read_text()}, {})
    kinds = [r.type for r in p.resources]
    assert kinds.count("AWS::EC2::NatGateway") == 2 and kinds.count("AWS::EC2::Subnet") == 4
    assert "VPCId" in p.outputs


def parse(text: str) -> Parsed:
    return cloudformation.parse({"t.yaml": text}, {})


def test_structural_errors() -> None:
    p = parse(
        "Parameters:\n  Size: {Type: Number}\nFoo: 1\nResources:\n"
        "  A:\n    Type: AWS::S3::Bucket\n    Properties:\n      Name: !Ref Missing\n"
        "    DependsOn: Nope\n  B:\n    Type: bucket\n"
        "Outputs:\n  O:\n    Value: !GetAtt Ghost.Arn\n"
    )
    messages = sorted(n.message for n in p.errors)
    assert messages == [
        "Foo: not a CloudFormation template section",
        "Outputs.O.Value.Fn::GetAtt: 'Ghost' is not a resource of this template",
        "Resources.A.DependsOn: 'Nope' is not a resource of this template",
        "Resources.A.Properties.Name.Ref: Ref 'Missing' names no parameter, resource or pseudo parameter",
        "Resources.B.Type: 'bucket' is not a resource type (Vendor::Service::Resource)",
    ]


def test_language_tags_and_bad_yaml_refused_with_line() -> None:
    p = parse("Resources:\n  A:\n    Type: !!python/name:os.system\n")
    assert (p.errors[0].line, p.errors[0].code) == (3, "tag")
    j = cloudformation.parse({"t.json": '{\n "Resources": {\n  "A": \n}'}, {})
    assert j.errors[0].file == "t.json" and j.errors[0].line == 4


def test_no_resources_is_an_error_and_pseudo_parameters_resolve() -> None:
    assert parse("Description: x\n").errors[0].code == "no-resources"
    ok = parse(
        "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: !Sub '${AWS::StackName}-t'\n      Region: !Ref AWS::Region\n"
    )
    assert ok.errors == [] and ok.resources[0].provider == "aws"
