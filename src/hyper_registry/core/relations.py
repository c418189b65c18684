"""The relation vocabulary: typed relations named in pairs.

A relation is declared once, by either of its two names, on the entry that holds it.
One direction is canonical (the first name of each pair); the other name is its
inverse and is derived, never stored twice.

``impact`` says which way a problem travels along the canonical direction:

* ``inverse``: a problem in the target reaches the source (``A dependsOn B``: a
  vulnerable B makes A vulnerable);
* ``forward``: a problem in the source reaches the target (``V affects S``: the
  vulnerability reaches the SBOM; ``S describes A``: what is in the SBOM is in A).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["forward", "inverse"]


@dataclass(frozen=True)
class RelationType:
    name: str
    inverse: str
    impact: Direction
    description: str


RELATION_TYPES: tuple[RelationType, ...] = (
    RelationType("dependsOn", "dependencyOf", "inverse", "the source needs the target to work"),
    RelationType("calls", "calledBy", "inverse", "service to service call"),
    RelationType("uses", "usedBy", "inverse", "a service uses a model or a plugin"),
    RelationType("trainedOn", "trainingDataOf", "inverse", "a model was trained on a dataset"),
    RelationType(
        "derivedFrom",
        "derivationOf",
        "inverse",
        "a model fine-tuned or distilled from a parent, or a dataset transformed from another",
    ),
    RelationType("deployedBy", "deploys", "inverse", "a service deployed by an IaC template"),
    RelationType("describes", "describedBy", "forward", "an SBOM describes an artifact"),
    RelationType("affects", "affectedBy", "forward", "a vulnerability affects an SBOM or artifact"),
)

_BY_NAME: dict[str, tuple[RelationType, bool]] = {}
for _rt in RELATION_TYPES:
    _BY_NAME[_rt.name] = (_rt, True)
    _BY_NAME[_rt.inverse] = (_rt, False)

RELATION_NAMES: tuple[str, ...] = tuple(_BY_NAME)


def lookup(name: str) -> tuple[RelationType, bool] | None:
    """The relation type a name belongs to, and whether the name is the canonical one."""
    return _BY_NAME.get(name)


def inverse_name(name: str) -> str:
    rt, canonical = _BY_NAME[name]
    return rt.inverse if canonical else rt.name


def impact_flows_to_target(name: str) -> bool:
    """Whether a problem in the declaring entry reaches the relation's target."""
    rt, canonical = _BY_NAME[name]
    forward = rt.impact == "forward"
    return forward if canonical else not forward
