"""The relation vocabulary: the design's eight pairs, each with the way a problem travels."""

from __future__ import annotations

import pytest

from hyper_registry.core import relations as vocab

# name, inverse, does a problem in the source reach the target? (the design's table)
DESIGN = [
    ("dependsOn", "dependencyOf", False),
    ("calls", "calledBy", False),
    ("uses", "usedBy", False),
    ("trainedOn", "trainingDataOf", False),
    ("derivedFrom", "derivationOf", False),
    ("deployedBy", "deploys", False),
    ("describes", "describedBy", True),
    ("affects", "affectedBy", True),
]


def test_the_vocabulary_is_the_designs() -> None:
    assert [(t.name, t.inverse) for t in vocab.RELATION_TYPES] == [(n, i) for n, i, _ in DESIGN]
    assert sorted(vocab.RELATION_NAMES) == sorted(n for pair in DESIGN for n in pair[:2])


@pytest.mark.parametrize(("name", "inverse", "forward"), DESIGN)
def test_each_pair(name: str, inverse: str, forward: bool) -> None:
    canonical = vocab.lookup(name)
    derived = vocab.lookup(inverse)
    assert canonical is not None and derived is not None
    assert canonical == (derived[0], True)
    assert derived[1] is False
    assert vocab.inverse_name(name) == inverse
    assert vocab.inverse_name(inverse) == name
    assert vocab.impact_flows_to_target(name) is forward
    assert vocab.impact_flows_to_target(inverse) is not forward


def test_unknown_names() -> None:
    assert vocab.lookup("likes") is None
    assert vocab.lookup("DependsOn") is None
    with pytest.raises(KeyError):
        vocab.inverse_name("likes")
