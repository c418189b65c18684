"""The pricing toolkit: cost lines, the pricing context and helpers shared by the pricers.

A pricer gets the resource and a :class:`Ctx` (the provider's catalogue section, the
region multiplier and the resource's usage) and returns its cost lines, or a reason
string when it cannot price it (an unknown instance size, a missing attribute). Types
listed as free cost nothing by themselves (VPCs, subnets, IAM, Kubernetes Services...).
Terraform, CloudFormation and Ansible names of the same cloud resource share a pricer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyper_registry.kinds.infra.model import Resource


@dataclass
class Line:
    name: str
    quantity: float
    unit: str
    unitPrice: float
    assumption: str

    @property
    def monthly(self) -> float:
        return self.quantity * self.unitPrice

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "quantity": round(self.quantity, 4),
            "unit": self.unit,
            "unitPrice": self.unitPrice,
            "monthly": round(self.monthly, 2),
            "assumption": self.assumption,
        }


@dataclass
class Ctx:
    prices: dict[str, Any]
    kubernetes: dict[str, Any]
    region: str
    multiplier: float
    usage: dict[str, Any] = field(default_factory=dict)

    def num(self, key: str) -> float:
        value = self.usage.get(key)
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
        )

    @property
    def hours(self) -> float:
        return self.num("monthly_hours")

    def hours_note(self) -> str:
        return f"{self.hours:g} h/month"

    def price(self, value: float) -> float:
        return round(value * self.multiplier, 6)


Result = list[Line] | str
Pricer = Callable[[Resource, Ctx], Result]


def attr(r: Resource, *names: str) -> Any:
    """The first of ``names`` the resource has; numeric strings ("20") read as numbers."""
    for name in names:
        if name in r.attributes:
            value = r.attributes[name]
            if isinstance(value, str) and re.fullmatch(r"\d+(?:\.\d+)?", value):
                return float(value) if "." in value else int(value)
            return value
    return None


def hourly(what: str, table_key: str, *names: str, unit: str = "hours") -> Pricer:
    def price(r: Resource, ctx: Ctx) -> Result:
        size = attr(r, *names)
        if not isinstance(size, str):
            return f"{names[0]} is not a literal value"
        table = ctx.prices.get(table_key, {})
        if size not in table:
            return f"no price for {what} {size!r} in the catalogue"
        return [
            Line(
                f"{what} ({size}, on-demand)",
                ctx.hours,
                unit,
                ctx.price(table[size]),
                ctx.hours_note(),
            )
        ]

    return price


def flat_hour(what: str, key: str) -> Pricer:
    def price(r: Resource, ctx: Ctx) -> Result:
        return [Line(what, ctx.hours, "hours", ctx.price(float(ctx.prices[key])), ctx.hours_note())]

    return price


def flat_month(what: str, key: str) -> Pricer:
    def price(r: Resource, ctx: Ctx) -> Result:
        return [Line(what, 1, "months", ctx.price(float(ctx.prices[key])), "1 per month")]

    return price


def gb_month(what: str, per_gb: float, gb: float, note: str) -> Line:
    return Line(what, gb, "GB-months", per_gb, note)
