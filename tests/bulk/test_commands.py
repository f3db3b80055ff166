"""`import_rows` and `export_rows`: same options as the API, a progress bar and a summary."""

import json

import pytest
from django.core.management import CommandError, call_command

from .conftest import ENCODERS, rows, state_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_then_export_round_trip(tmp_path, capsys):
    from versions.services import dataset_create

    dataset = dataset_create(name="cli")[0]
    source = tmp_path / "rows.csv"
    source.write_bytes(ENCODERS["csv"](rows(5) + [{"global_key": "bad", "id": "bad id!"}]))
    call_command("import_rows", str(source), "--dataset", dataset.pk, "--mode", "create")
    out = capsys.readouterr().out
    assert "5/6" not in out or "#" in out
    assert "succeeded: created 5" in out
    assert "record 5 bad:" in out and "id: " in out
    # A command is a door like the others: its changes write their events (the system's).
    from dashboard.models import Event

    recorded = list(Event.objects.order_by("id").values_list("type", "dataset", "data"))
    assert [(t, d, data.get("kind")) for t, d, data in recorded] == [
        ("dataset.created", dataset.pk, None),
        ("version.created", dataset.pk, None),  # the import's draft
        ("job.succeeded", dataset.pk, "import"),
    ]
    target = tmp_path / "out.ndjson"
    call_command("export_rows", "--dataset", dataset.pk, "-o", str(target))
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(r["global_key"] for r in lines) == [f"gk-{i}" for i in range(5)]
    call_command("import_rows", str(target), "--dataset", dataset.pk, "--mode", "sync")
    assert "unchanged 5" in capsys.readouterr().out


def test_bad_options_are_command_errors(tmp_path):
    from versions.services import dataset_create, version_create

    dataset = dataset_create(name="cli")[0]
    version = version_create(dataset=dataset, name="d")[0]
    empty = tmp_path / "e.ndjson"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_rows", str(empty), "--version-id", version.pk)
    with pytest.raises(CommandError):
        call_command("import_rows", str(tmp_path / "missing.csv"), "--version-id", version.pk)
    assert state_of(version) == {}
