"""Parse and price a generated 200-resource Terraform module: p50 ms against a 500 ms target.

Measures ``parse_bounded`` (the parse in a forked, time-limited child: what registration
does) followed by ``cost.estimate``, and the same with the parse in process, and (with
``--register``) a whole ``Registry.apply`` of the template on SQLite (rule parse, commit,
status and resource rows). Prints one JSON line.

    .venv/bin/python bench/infra_cost.py [--resources 200] [--repeat 15] [--register]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, load, log, machine, median, percentile, timed
from hyper_registry.kinds.infra import cost
from hyper_registry.kinds.infra.parse import parse_bounded, parse_source

TARGET_MS = 500.0

SHAPES = (
    'resource "aws_instance" "app_{i}" {{\n  ami           = "ami-0abcdef1234567890"\n'
    "  instance_type = var.instance_type\n  root_block_device {{\n    volume_size = 50\n"
    '    volume_type = "gp3"\n  }}\n  tags = {{ Name = "app-{i}", Tier = "web" }}\n}}\n',
    'resource "aws_db_instance" "db_{i}" {{\n  engine            = "postgres"\n'
    '  instance_class    = "db.m5.large"\n  allocated_storage = 200\n  multi_az          = true\n}}\n',
    'resource "aws_ebs_volume" "data_{i}" {{\n  availability_zone = "us-east-1a"\n'
    '  size = 500\n  type = "gp3"\n}}\n',
    'resource "aws_s3_bucket" "logs_{i}" {{\n  bucket = "logs-{i}"\n}}\n',
    'resource "aws_lb" "edge_{i}" {{\n  name = "edge-{i}"\n  load_balancer_type = "network"\n}}\n',
    'resource "aws_nat_gateway" "nat_{i}" {{\n  allocation_id = aws_eip.nat_{i}.id\n'
    '  subnet_id = "subnet-{i}"\n}}\n',
    'resource "aws_eip" "nat_{i}" {{\n  domain = "vpc"\n}}\n',
    'resource "aws_security_group" "sg_{i}" {{\n  name = "sg-{i}"\n  ingress {{\n'
    '    from_port = 443\n    to_port = 443\n    protocol = "tcp"\n'
    '    cidr_blocks = ["0.0.0.0/0"]\n  }}\n}}\n',
    'resource "acme_widget" "w_{i}" {{\n  size = {i}\n}}\n',
    'resource "aws_instance" "worker_{i}" {{\n  count = 2\n  instance_type = "c6i.large"\n}}\n',
)


def module(resources: int) -> str:
    head = (
        'terraform {\n  required_version = ">= 1.5"\n  required_providers {\n'
        '    aws = { source = "hashicorp/aws", version = "~> 5.0" }\n  }\n}\n'
        'variable "instance_type" {\n  default = "m5.large"\n}\n'
    )
    return head + "".join(SHAPES[i % len(SHAPES)].format(i=i) for i in range(resources))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--resources", type=int, default=200)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--register", action="store_true", help="also time Registry.apply (SQLite)")
    args = p.parse_args()
    source = module(args.resources)
    params = {"region": "us-east-1"}

    def bounded() -> dict[str, object]:
        parsed = parse_bounded("terraform", source, params)
        assert not parsed.errors, parsed.errors
        return cost.estimate(parsed, parameters=params)

    def in_process() -> dict[str, object]:
        return cost.estimate(parse_source("terraform", source, params), parameters=params)

    report = bounded()  # warm: imports, the HCL grammar, the catalogue
    in_process()
    found = len(report["resources"]) + len(report["unpriced"])  # type: ignore[arg-type]
    assert found == args.resources, found
    times = {"bounded": [], "in_process": []}  # type: dict[str, list[float]]
    for _ in range(args.repeat):
        times["bounded"].append(timed(bounded)[0] * 1000)
        times["in_process"].append(timed(in_process)[0] * 1000)
    figures: dict[str, object] = {
        "bench": "infra_cost",
        "resources": args.resources,
        "repeat": args.repeat,
        "source_bytes": len(source.encode()),
        "p50_ms": round(median(times["bounded"]), 1),
        "p90_ms": round(percentile(times["bounded"], 90), 1),
        "in_process_p50_ms": round(median(times["in_process"]), 1),
        "target_ms": TARGET_MS,
        "ratio_to_target": round(median(times["bounded"]) / TARGET_MS, 3),
        "total_usd": report["total"],
        "unpriced": len(report["unpriced"]),  # type: ignore[arg-type]
    }
    if args.register:
        from hyper_registry import Registry, Settings

        with (
            tempfile.TemporaryDirectory() as tmp,
            Registry.open(Settings(data_dir=Path(tmp))) as reg,
        ):
            regs = []
            for i in range(args.repeat):
                doc = {
                    "kind": "infra",
                    "metadata": {"namespace": "bench", "name": "mod", "version": f"1.0.{i}"},
                    # a distinct source each time: nothing is reused from an earlier parse
                    "spec": {
                        "templateType": "terraform",
                        "source": f"{source}# {i}\n",
                        "parameters": params,
                    },
                }
                regs.append(timed(lambda d=doc: reg.apply(d))[0] * 1000)  # type: ignore[misc]
            figures["register_p50_ms"] = round(median(regs), 1)
    figures["machine"] = machine()
    figures["load"] = load()
    log(f"parse+price p50 {figures['p50_ms']} ms (target {TARGET_MS} ms)")
    emit(figures)


if __name__ == "__main__":
    main()
