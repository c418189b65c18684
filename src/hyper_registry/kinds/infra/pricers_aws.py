"""Pricers of AWS resources (Terraform, CloudFormation and Ansible names share them)."""

from __future__ import annotations

from hyper_registry.kinds.infra.model import Resource
from hyper_registry.kinds.infra.pricing import (
    Ctx,
    Line,
    Result,
    attr,
    gb_month,
    hourly,
)


def aws_volume(r: Resource, ctx: Ctx) -> Result:
    vtype = attr(r, "type", "VolumeType") or "gp2"
    size = attr(r, "size", "Size")
    table = ctx.prices["volumeGbMonth"]
    if vtype not in table:
        return f"no price for volume type {vtype!r}"
    gb = float(size) if isinstance(size, int | float) else ctx.num("storage_gb")
    note = f"{gb:g} GB" + ("" if isinstance(size, int | float) else " (usage assumption)")
    return [gb_month(f"Storage ({vtype})", ctx.price(table[vtype]), gb, note)]


def aws_instance(r: Resource, ctx: Ctx) -> Result:
    lines = hourly("Linux instance", "instanceHour", "instance_type", "InstanceType")(r, ctx)
    if isinstance(lines, str):
        return lines
    root = attr(r, "root_block_device.volume_size")
    if isinstance(root, int | float):
        vtype = attr(r, "root_block_device.volume_type") or "gp2"
        per = ctx.prices["volumeGbMonth"].get(vtype, ctx.prices["volumeGbMonth"]["gp2"])
        lines.append(
            gb_month(f"Root volume ({vtype})", ctx.price(per), float(root), f"{root:g} GB")
        )
    return lines


def aws_db(r: Resource, ctx: Ctx) -> Result:
    cls = attr(r, "instance_class", "DBInstanceClass")
    if not isinstance(cls, str):
        return "instance_class is not a literal value"
    prices = ctx.prices["dbInstanceHour"].get(cls)
    if prices is None:
        return f"no price for database instance class {cls!r}"
    engine = str(attr(r, "engine", "Engine") or "mysql").lower()
    family = "postgres" if "postgres" in engine else "mysql"
    hourly = prices.get(family, prices["mysql"])
    multi = bool(attr(r, "multi_az", "MultiAZ"))
    lines = [
        Line(
            f"Database instance ({cls}, {family}{', Multi-AZ' if multi else ''})",
            ctx.hours,
            "hours",
            ctx.price(hourly * (2 if multi else 1)),
            ctx.hours_note(),
        )
    ]
    storage = attr(r, "allocated_storage", "AllocatedStorage")
    if isinstance(storage, int | float):
        stype = attr(r, "storage_type", "StorageType") or "gp2"
        per = ctx.prices["dbStorageGbMonth"].get(stype, ctx.prices["dbStorageGbMonth"]["gp2"])
        lines.append(
            gb_month(
                f"Storage ({stype})",
                ctx.price(per * (2 if multi else 1)),
                float(storage),
                f"{storage:g} GB",
            )
        )
    return lines


def aws_s3(r: Resource, ctx: Ctx) -> Result:
    gb = ctx.num("storage_gb")
    return [
        gb_month(
            "Standard storage",
            ctx.price(ctx.prices["s3GbMonth"]),
            gb,
            f"{gb:g} GB stored (usage assumption)",
        )
    ]


def aws_lb(r: Resource, ctx: Ctx) -> Result:
    kind = str(attr(r, "load_balancer_type", "Type") or "application").lower()
    if r.type in ("aws_elb", "AWS::ElasticLoadBalancing::LoadBalancer"):
        kind = "classic"
    table = ctx.prices["loadBalancerHour"]
    if kind not in table:
        return f"no price for load balancer type {kind!r}"
    return [
        Line(
            f"Load balancer ({kind})", ctx.hours, "hours", ctx.price(table[kind]), ctx.hours_note()
        )
    ]


def nat_gateway(r: Resource, ctx: Ctx) -> Result:
    gb = ctx.num("monthly_data_processed_gb")
    return [
        Line(
            "NAT gateway",
            ctx.hours,
            "hours",
            ctx.price(ctx.prices["natGatewayHour"]),
            ctx.hours_note(),
        ),
        Line(
            "Data processed",
            gb,
            "GB",
            ctx.price(ctx.prices["natGatewayGb"]),
            f"{gb:g} GB/month (usage assumption)",
        ),
    ]


def aws_lambda(r: Resource, ctx: Ctx) -> Result:
    mem = attr(r, "memory_size", "MemorySize")
    mem_mb = float(mem) if isinstance(mem, int | float) else 128.0
    requests = ctx.num("monthly_requests")
    seconds = requests * ctx.num("request_duration_ms") / 1000
    gb_s = seconds * mem_mb / 1024
    return [
        Line(
            "Requests",
            requests / 1e6,
            "1M requests",
            ctx.price(ctx.prices["lambdaRequestsPerMillion"]),
            f"{requests:g} requests/month (usage assumption)",
        ),
        Line(
            f"Duration ({mem_mb:g} MB)",
            gb_s,
            "GB-seconds",
            ctx.price(ctx.prices["lambdaGbSecond"]),
            f"{ctx.num('request_duration_ms'):g} ms per request (usage assumption)",
        ),
    ]


def aws_dynamodb(r: Resource, ctx: Ctx) -> Result:
    d = ctx.prices["dynamodb"]
    mode = str(attr(r, "billing_mode", "BillingMode") or "PROVISIONED").upper()
    gb = ctx.num("storage_gb")
    lines = [
        gb_month("Storage", ctx.price(d["storageGbMonth"]), gb, f"{gb:g} GB (usage assumption)")
    ]
    if mode == "PAY_PER_REQUEST":
        n = ctx.num("monthly_requests") / 1e6
        lines.append(
            Line(
                "Read request units",
                n,
                "1M requests",
                ctx.price(d["readRequestsPerMillion"]),
                f"{n:g}M reads/month (usage assumption)",
            )
        )
        lines.append(
            Line(
                "Write request units",
                n,
                "1M requests",
                ctx.price(d["writeRequestsPerMillion"]),
                f"{n:g}M writes/month (usage assumption)",
            )
        )
        return lines
    rcu = attr(r, "read_capacity", "ProvisionedThroughput.ReadCapacityUnits")
    wcu = attr(r, "write_capacity", "ProvisionedThroughput.WriteCapacityUnits")
    if not isinstance(rcu, int | float) or not isinstance(wcu, int | float):
        return "provisioned capacity is not a literal value"
    lines.append(
        Line(
            f"Read capacity ({rcu:g} RCU)",
            rcu * ctx.hours,
            "RCU-hours",
            ctx.price(d["rcuHour"]),
            ctx.hours_note(),
        )
    )
    lines.append(
        Line(
            f"Write capacity ({wcu:g} WCU)",
            wcu * ctx.hours,
            "WCU-hours",
            ctx.price(d["wcuHour"]),
            ctx.hours_note(),
        )
    )
    return lines


def aws_cache(r: Resource, ctx: Ctx) -> Result:
    lines = hourly("Cache node", "cacheNodeHour", "node_type", "CacheNodeType")(r, ctx)
    if isinstance(lines, str):
        return lines
    nodes = attr(r, "num_cache_nodes", "NumCacheNodes")
    if isinstance(nodes, int) and nodes > 1:
        lines[0].quantity *= nodes
        lines[0].assumption += f" x {nodes} nodes"
    return lines


def aws_logs(r: Resource, ctx: Ctx) -> Result:
    gb = ctx.num("monthly_log_gb")
    return [
        Line(
            "Log ingestion",
            gb,
            "GB",
            ctx.price(ctx.prices["logIngestGb"]),
            f"{gb:g} GB/month (usage assumption)",
        )
    ]
