"""Pricers of Google Cloud, Azure and Kubernetes resources."""

from __future__ import annotations

import re

from hyper_registry.kinds.infra.model import Resource
from hyper_registry.kinds.infra.pricing import (
    Ctx,
    Line,
    Result,
    attr,
    gb_month,
    hourly,
)


def gcp_sql(r: Resource, ctx: Ctx) -> Result:
    tier = attr(r, "settings.tier", "tier")
    if not isinstance(tier, str):
        return "settings.tier is not a literal value"
    m = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    if m:
        hourly = (
            int(m.group(1)) * ctx.prices["sqlVcpuHour"]
            + int(m.group(2)) / 1024 * ctx.prices["sqlGbHour"]
        )
    elif tier in ctx.prices["sqlTierHour"]:
        hourly = ctx.prices["sqlTierHour"][tier]
    else:
        return f"no price for Cloud SQL tier {tier!r}"
    lines = [
        Line(
            f"Cloud SQL instance ({tier})", ctx.hours, "hours", ctx.price(hourly), ctx.hours_note()
        )
    ]
    size = attr(r, "settings.disk_size")
    gb = float(size) if isinstance(size, int | float) else 10.0
    dtype = attr(r, "settings.disk_type") or "PD_SSD"
    per = ctx.prices["sqlStorageGbMonth"].get(dtype, ctx.prices["sqlStorageGbMonth"]["PD_SSD"])
    lines.append(gb_month(f"Storage ({dtype})", ctx.price(per), gb, f"{gb:g} GB"))
    return lines


def gcp_disk(r: Resource, ctx: Ctx) -> Result:
    dtype = attr(r, "type") or "pd-standard"
    table = ctx.prices["diskGbMonth"]
    if dtype not in table:
        return f"no price for disk type {dtype!r}"
    size = attr(r, "size")
    gb = float(size) if isinstance(size, int | float) else 10.0
    return [gb_month(f"Persistent disk ({dtype})", ctx.price(table[dtype]), gb, f"{gb:g} GB")]


def gcp_bucket(r: Resource, ctx: Ctx) -> Result:
    cls = str(attr(r, "storage_class") or "STANDARD").upper()
    table = ctx.prices["storageGbMonth"]
    if cls not in table:
        return f"no price for storage class {cls!r}"
    gb = ctx.num("storage_gb")
    return [
        gb_month(
            f"Storage ({cls})", ctx.price(table[cls]), gb, f"{gb:g} GB stored (usage assumption)"
        )
    ]


def azure_disk(r: Resource, ctx: Ctx) -> Result:
    sku = attr(r, "storage_account_type") or "Standard_LRS"
    size = attr(r, "disk_size_gb", "os_disk.disk_size_gb")
    tiers = ctx.prices["diskTiersMonth"].get(sku)
    if tiers is None:
        return f"no price for disk type {sku!r}"
    gb = float(size) if isinstance(size, int | float) else 32.0
    for cap, monthly in tiers:
        if gb <= cap:
            return [
                Line(
                    f"Managed disk ({sku}, {cap} GB tier)",
                    1,
                    "months",
                    ctx.price(monthly),
                    f"{gb:g} GB",
                )
            ]
    return f"disk of {gb:g} GB is over the catalogue's largest tier"


def azure_vm(r: Resource, ctx: Ctx) -> Result:
    lines = hourly("Linux virtual machine", "vmHour", "size", "vm_size")(r, ctx)
    if isinstance(lines, str):
        return lines
    os_disk = attr(r, "os_disk.storage_account_type")
    if isinstance(os_disk, str):
        disk = azure_disk(
            Resource(
                address="",
                type="",
                name="",
                provider="azurerm",
                attributes={
                    "storage_account_type": os_disk,
                    "disk_size_gb": attr(r, "os_disk.disk_size_gb") or 32,
                },
            ),
            ctx,
        )
        if not isinstance(disk, str):
            disk[0].name = "OS " + disk[0].name.lower()
            lines.extend(disk)
    return lines


def azure_lb(r: Resource, ctx: Ctx) -> Result:
    sku = str(attr(r, "sku") or "Basic")
    table = ctx.prices["loadBalancerHour"]
    if sku not in table:
        return f"no price for load balancer SKU {sku!r}"
    return [
        Line(
            f"Load balancer ({sku}, up to 5 rules)",
            ctx.hours,
            "hours",
            ctx.price(table[sku]),
            ctx.hours_note(),
        )
    ]


def azure_sqldb(r: Resource, ctx: Ctx) -> Result:
    sku = attr(r, "sku_name")
    table = ctx.prices["sqlDatabaseMonth"]
    if not isinstance(sku, str) or sku not in table:
        return f"no price for SQL database SKU {sku!r}"
    return [Line(f"SQL database ({sku})", 1, "months", ctx.price(table[sku]), "1 per month")]


def azure_pg(r: Resource, ctx: Ctx) -> Result:
    lines = hourly("PostgreSQL flexible server", "postgresFlexibleHour", "sku_name")(r, ctx)
    if isinstance(lines, str):
        return lines
    mb = attr(r, "storage_mb")
    gb = float(mb) / 1024 if isinstance(mb, int | float) else 32.0
    lines.append(gb_month("Storage", ctx.price(ctx.prices["dbStorageGbMonth"]), gb, f"{gb:g} GB"))
    return lines


def azure_aks(r: Resource, ctx: Ctx) -> Result:
    tier = str(attr(r, "sku_tier") or "Free")
    table = ctx.prices["aksClusterHour"]
    if tier not in table:
        return f"no price for AKS tier {tier!r}"
    return [
        Line(
            f"AKS control plane ({tier})",
            ctx.hours,
            "hours",
            ctx.price(table[tier]),
            ctx.hours_note(),
        )
    ]


def azure_blob(r: Resource, ctx: Ctx) -> Result:
    gb = ctx.num("storage_gb")
    return [
        gb_month(
            "Blob storage (hot, LRS)",
            ctx.price(ctx.prices["blobGbMonth"]),
            gb,
            f"{gb:g} GB stored (usage assumption)",
        )
    ]


def k8s_workload(r: Resource, ctx: Ctx) -> Result:
    cpu = attr(r, "requests.cpu")
    mem = attr(r, "requests.memoryGB")
    if cpu is None and mem is None:
        return "no CPU or memory requests found in the template or values"
    k = ctx.kubernetes
    lines = []
    if isinstance(cpu, int | float):
        lines.append(
            Line(
                f"Requested CPU ({cpu:g} vCPU)",
                cpu * ctx.hours,
                "vCPU-hours",
                k["vcpuHour"],
                ctx.hours_note(),
            )
        )
    if isinstance(mem, int | float):
        lines.append(
            Line(
                f"Requested memory ({mem:g} GB)",
                mem * ctx.hours,
                "GB-hours",
                k["gbHour"],
                ctx.hours_note(),
            )
        )
    return lines


def k8s_pvc(r: Resource, ctx: Ctx) -> Result:
    size = attr(r, "storageGB")
    if not isinstance(size, int | float):
        return "storage size not found in the template or values"
    return [
        gb_month("Persistent volume", ctx.kubernetes["storageGbMonth"], float(size), f"{size:g} GB")
    ]
