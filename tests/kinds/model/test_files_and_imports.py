"""Model files (content-addressed, size-limited) and imports of MLmodel, ONNX and model cards."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from hyper_registry import Registry, Settings
from hyper_registry.core.errors import Invalid, TooLarge
from hyper_registry.kinds.model.aliases import alias_history, move_alias
from hyper_registry.kinds.model.files import blob_path, file_of, read_chunks, upload_file
from hyper_registry.kinds.model.imports import card_spec, import_file, mlflow_spec, onnx_spec

ML = Path(__file__).resolve().parents[2] / "fixtures" / "ml"
SQUEEZENET = ML / "onnx" / "light_squeezenet.onnx"


def model(reg: Registry, version: str = "1.0.0") -> None:
    reg.apply(
        {
            "kind": "model",
            "metadata": {"namespace": "ml", "name": "net", "version": version},
            "spec": {"framework": "onnx"},
        }
    )


def test_upload_is_content_addressed(sqlite_registry: Registry) -> None:
    model(sqlite_registry)
    model(sqlite_registry, "1.1.0")
    data = SQUEEZENET.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    out = upload_file(
        sqlite_registry, "model:ml/net@1.0.0", read_chunks(SQUEEZENET), name="net.onnx", actor="a"
    )
    assert out == {
        "ref": "model:ml/net@1.0.0",
        "name": "net.onnx",
        "sha256": f"sha256:{digest}",
        "size": len(data),
        "format": "onnx",
    }
    assert digest.startswith("770b0f3c8623e18b")  # the corpus checksum
    upload_file(sqlite_registry, "model:ml/net@1.1.0", [data], name="same.onnx", actor="a")
    path = blob_path(sqlite_registry, out["sha256"])
    assert path.read_bytes() == data
    assert len(list(path.parent.parent.glob("*/*"))) == 1  # stored once
    record, found = file_of(sqlite_registry, "model:ml/net@1.0.0", "net.onnx")
    assert found == path and record["size"] == len(data)
    entry = sqlite_registry.get("model:ml/net@1.0.0")
    assert entry.spec["files"] == [{k: v for k, v in out.items() if k != "ref"}]


def test_a_pickle_is_stored_never_loaded(sqlite_registry: Registry, tmp_path: Path) -> None:
    model(sqlite_registry)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Evil())
    out = upload_file(sqlite_registry, "model:ml/net@1.0.0", [payload], name="m.pkl", actor="a")
    assert out["format"] == "pickle"
    assert not marker.exists()


def test_upload_over_the_limit_keeps_nothing(tmp_path: Path) -> None:
    with Registry.open(Settings(data_dir=tmp_path, max_model_file_bytes=4096)) as reg:
        model(reg)
        with pytest.raises(TooLarge):
            upload_file(reg, "model:ml/net@1.0.0", read_chunks(SQUEEZENET), name="n", actor="a")
        assert "files" not in reg.get("model:ml/net@1.0.0").spec
        leftovers = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
        assert leftovers == []


@pytest.mark.parametrize("name", ["../etc/passwd", "", "a\x00b"])
def test_bad_file_names(sqlite_registry: Registry, name: str) -> None:
    model(sqlite_registry)
    if name == "../etc/passwd":  # the directory part is dropped, never followed
        out = upload_file(sqlite_registry, "model:ml/net@1.0.0", [b"x"], name=name, actor="a")
        assert out["name"] == "passwd"
        return
    with pytest.raises(Invalid):
        upload_file(sqlite_registry, "model:ml/net@1.0.0", [b"x"], name=name, actor="a")


def test_mlflow_mlmodel() -> None:
    spec = mlflow_spec((ML / "mlflow" / "MLmodel.with.metadata").read_bytes())
    assert spec["flavors"] == ["mleap"]
    assert spec["framework"] == "other"
    assert spec["run"] == {"id": "c228016dea284522882b657d91eeffa6"}
    assert len(spec["signature"]["inputs"]) == 11
    assert spec["signature"]["inputs"][0] == {"name": "fixed acidity", "type": "double"}
    assert spec["signature"]["outputs"] == [{"type": "double"}]
    assert spec["metrics"] == {"accuracy": 0.978}  # numeric metadata named like a metric
    plain = mlflow_spec((ML / "mlflow" / "MLmodel.mleap").read_bytes())
    assert plain == {"flavors": ["mleap"], "framework": "other"}
    with pytest.raises(Invalid) as err:
        mlflow_spec(b"flavors: [unclosed")
    assert "line 1" in err.value.message
    with pytest.raises(Invalid):
        mlflow_spec(b"run_id: x\n")


def test_onnx_signature_and_opsets() -> None:
    spec = onnx_spec(SQUEEZENET.read_bytes())
    assert spec == {
        "framework": "onnx",
        "signature": {
            "inputs": [{"name": "data_0", "type": "float", "shape": [1, 3, 224, 224]}],
            "outputs": [{"name": "softmaxout_1", "type": "float", "shape": [1, 1000, 1, 1]}],
        },
        "opsets": {"ai.onnx": 9},
    }
    conv = onnx_spec((ML / "onnx" / "pytorch-converted_test_Conv2d_model.onnx").read_bytes())
    assert conv["signature"]["inputs"] == [{"name": "0", "type": "float", "shape": [2, 3, 7, 5]}]
    assert conv["opsets"] == {"ai.onnx": 6}
    with pytest.raises(Invalid):
        onnx_spec(b"definitely not protobuf \xff\xff\xff")


def test_model_cards() -> None:
    spec = card_spec((ML / "cards" / "deepset-minilm-uncased-squad2.md").read_bytes(), "nlp")
    assert spec == {"trainingDatasets": ["dataset:nlp/squad_v2"]}
    with pytest.raises(Invalid) as err:
        card_spec((ML / "cards" / "openai-whisper.md").read_bytes(), "nlp")
    assert "no YAML front matter" in err.value.message
    card = (
        b"---\nlicense: apache-2.0\npipeline_tag: text-classification\nlibrary_name: transformers\n"
        b"model-index:\n- name: m\n  results:\n  - metrics:\n    - {type: accuracy, value: 0.91}\n"
        b"    - {type: f1, value: 79.5}\n---\n# card\n"
    )
    assert card_spec(card, "nlp") == {
        "license": "apache-2.0",
        "task": "text-classification",
        "framework": "huggingface",
        "metrics": {"accuracy": 0.91, "f1Pct": 79.5},
    }


def test_imports_merge_into_a_version(sqlite_registry: Registry) -> None:
    out = import_file(sqlite_registry, "model:ml/net@1.0.0", "onnx", SQUEEZENET, actor="a")
    assert out["ref"] == "model:ml/net@1.0.0"
    card = ML / "cards" / "deepset-minilm-uncased-squad2.md"
    import_file(sqlite_registry, "model:ml/net@1.0.0", "card", card, actor="a")
    spec = sqlite_registry.get("model:ml/net@1.0.0").spec
    assert spec["framework"] == "onnx" and spec["opsets"] == {"ai.onnx": 9}
    assert spec["trainingDatasets"] == ["dataset:ml/squad_v2"]
    rels = [(r.type, str(r.other)) for r in sqlite_registry.relations("model:ml/net@1.0.0")]
    assert ("trainedOn", "dataset:ml/squad_v2") in rels


def test_alias_moves_have_history(sqlite_registry: Registry) -> None:
    model(sqlite_registry, "1.0.0")
    model(sqlite_registry, "2.0.0")
    move_alias(sqlite_registry, "model:ml/net@1.0.0", "champion", actor="alice")
    move_alias(sqlite_registry, "model:ml/net@2.0.0", "champion", actor="bob")
    move_alias(sqlite_registry, "model:ml/net@1.0.0", "staging", actor="bob")
    assert sqlite_registry.get("model:ml/net@champion").metadata.version == "2.0.0"
    history = alias_history(sqlite_registry, "model:ml/net", "champion")
    assert [(h["actor"], h["from"], h["to"]) for h in history] == [
        ("alice", None, "1.0.0"),
        ("bob", "1.0.0", "2.0.0"),
    ]
    assert len(alias_history(sqlite_registry, "model:ml/net")) == 3
    with pytest.raises(Invalid):
        move_alias(sqlite_registry, "model:ml/net@1.0.0", "Bad Alias", actor="a")


def test_services_using_an_alias_follow_its_moves(sqlite_registry: Registry) -> None:
    model(sqlite_registry, "1.0.0")
    model(sqlite_registry, "2.0.0")
    move_alias(sqlite_registry, "model:ml/net@1.0.0", "champion", actor="a")
    sqlite_registry.apply(
        {
            "kind": "service",
            "metadata": {"namespace": "ml", "name": "api", "version": "1.0.0"},
            "spec": {},
            "relations": [{"type": "uses", "target": "model:ml/net@champion"}],
        }
    )

    def resolved() -> list[str]:
        rels = sqlite_registry.relations("service:ml/api@1.0.0")
        return [str(r.resolved) for r in rels if r.type == "uses"]

    assert resolved() == ["model:ml/net@1.0.0"]
    move_alias(sqlite_registry, "model:ml/net@2.0.0", "champion", actor="a")
    assert resolved() == ["model:ml/net@2.0.0"]
