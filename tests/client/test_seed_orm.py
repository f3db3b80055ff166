"""The Airtable ORM "Batch Operations" seed page's examples (tests/client/orm_seed_examples.py,
verbatim) through labelops_client, with only the connection changed: `User`, `Task` and
`Record` are datasets' `data_rows`, `@airtable_model` is `client.model` and `BaseModel`
`lo.BaseModel`. Flat records (`{"name", "email"}`: no row_data) are metadata-only data rows;
the ORM-style calls themselves are tested in test_records.py."""

import builtins
import json

import pytest

from .orm_seed_examples import EXAMPLES
from .seeds import run_example

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTION = """
import labelops_client as lo
client = lo.Client(url=URL, api_key=TOKEN)
User = client.create_dataset("users").data_rows
Task = client.create_dataset("tasks").data_rows
Record = client.create_dataset("records").data_rows
BaseModel = lo.BaseModel
airtable_model = client.model
"""

# These define a helper and never call it (the page shows no call); they run as written. The
# tqdm and pandas ones import those packages, which the client does not need.
DEFINE_ONLY = {"sync_from_external_source", "stop_on_error", "rate_limits", "memory_usage"}
NEEDS_PACKAGE = {"with_tqdm_progress_bar": "tqdm"}


# What each example should have done, checked after it ran (an example that "runs" while the
# server refused every row is not a pass).
CHECKS = {
    "basic_bulk_create": "len(User.all()) == 2 + 4 and len(users) == 4 and users[3].name == 'Dave'",
    "mixed_data": "len(User.all()) == 2 + 3",
    "batch_processing_pattern": "len(User.all()) == 2 + 100 and len(all_users) == 100",
    "import_from_csv": "len(User.all()) == 2 + 2",
    "import_from_json": "len(Task.all()) == 2",
    "with_default_values": "len(tasks) == 3 and sorted((t.title, t.status, t.priority) for t in "
    "Task.all()) == [('Task 1', 'pending', 1), ('Task 2', 'pending', 1), ('Task 3', 'pending', 1)]",
    "upsert_pattern": "User.first(email='alice@example.com').name == 'Alice Updated' and "
    "User.first(email='new@example.com')['name'] == 'New User' and len(User.all()) == 3",
    "with_progress_callback": "[u.name for u in users] == ['Alice'] and len(User.all()) == 3",
    "continue_on_error": "len(result['errors']) == 0",
    "export_to_csv": "count == 2 and 'alice@example.com' in open('users_export.csv').read()",
    "export_to_json": "sorted(u['name'] for u in json.load(open('users.json'))) == ['Alice','Bob']",
}

CASES = list(EXAMPLES)


@pytest.fixture
def namespace(live_server, token, client, tmp_path):
    (tmp_path / "users.csv").write_text(
        "name,email,age,is_active\nAlice,alice@example.com,28,true\nBob,bob@example.com,,false\n"
    )
    (tmp_path / "tasks.json").write_text(json.dumps([{"title": "Task 1"}, {"title": "Task 2"}]))
    namespace = {"URL": live_server.url, "TOKEN": token}
    # The examples read and write users.csv, tasks.json, … in the current directory: here a
    # temporary one (not by chdir: the live server's SQLite test database is a relative path).
    namespace["open"] = lambda path, *args, **kwargs: builtins.open(
        tmp_path / path, *args, **kwargs
    )
    run_example(CONNECTION, namespace)
    # Two users already in the table, stored as data rows (fields under metadata).
    namespace["User"].bulk_create(
        [
            {
                "global_key": key,
                "row_data": f"https://people/{key}",
                "metadata": {"name": name, "email": f"{key}@example.com"},
            }
            for key, name in (("alice", "Alice"), ("bob", "Bob"))
        ]
    )
    # An earlier example's data, as a reader following the page would have it.
    run_example(
        "users_data = " + repr([{"name": "Alice", "email": "alice@example.com"}]), namespace
    )
    return namespace


@pytest.mark.parametrize("name", CASES)
def test_orm_seed_example(namespace, name):
    if name in NEEDS_PACKAGE:
        pytest.importorskip(NEEDS_PACKAGE[name])
    run_example(EXAMPLES[name], namespace)
    if name in CHECKS:
        assert eval(CHECKS[name], namespace), CHECKS[name]  # noqa: S307
