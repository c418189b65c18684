"""Ansible: the ansible-for-devops playbooks (hand-counted), cloud tasks, missing files."""

from __future__ import annotations

from hyper_registry.kinds.infra import ansible

from .conftest import files_of


def test_lamp_provisioner() -> None:
    p = ansible.parse(files_of("ansible/lamp-infrastructure"), {})
    assert p.errors == []
    plays = p.details["plays"]
    assert [(pl["hosts"], pl["tasks"]) for pl in plays] == [("localhost", 3), ("aws", 1)]
    # ec2 with_items "{{ instances }}" (6 items in vars), ec2_group over 3 security groups
    got = {r.type: (r.count, r.provider) for r in p.resources}
    assert got == {"ec2_group": (3, "aws"), "ec2": (6, "aws")}
    ec2 = next(r for r in p.resources if r.type == "ec2")
    assert ec2.attributes["instance_type"] == "t2.micro"  # default('t2.micro')
    assert ec2.attributes["region"] == "us-east-1"


def test_drupal_playbook() -> None:
    p = ansible.parse(files_of("ansible/drupal"), {})
    assert p.errors == [] and p.notes == []  # vars.yml is found beside the playbook
    (play,) = p.details["plays"]
    assert play["become"] is True and play["hosts"] == "all"
    assert play["tasks"] == 22  # pre_tasks 1 + handlers 1 + tasks 20
    assert p.details["modules"]["apt"] == 3
    assert p.resources == []


def test_first_playbook_and_missing_files() -> None:
    p = ansible.parse(files_of("ansible/first-ansible-playbook"), {})
    assert [pl["tasks"] for pl in p.details["plays"]] == [2, 2]
    assert p.details["modules"] == {"dnf": 2, "service": 2}
    missing = ansible.parse(
        {
            "site.yml": "- hosts: all\n  vars_files: [gone.yml]\n  roles: [web]\n  tasks:\n"
            "    - import_tasks: more.yml\n"
        },
        {},
    )
    assert missing.errors == []
    assert sorted(n.code for n in missing.notes) == ["missing-file", "missing-file", "role-missing"]


def test_not_a_playbook() -> None:
    p = ansible.parse({"x.yml": "a: 1\n"}, {})
    assert [n.code for n in p.errors] == ["no-playbook"]
