# ruff: noqa: E501 - the seed page's examples keep their own line lengths
"""The Labelbox "Batch" seed page's code examples, run through labelops_client with only the
import and the connection changed (`import labelbox as lb` → `import labelops_client as lb`;
`lb.Client(api_key=…)` → `lb.Client(url=…, api_key=…)`)."""

import labelops_client
import pytest

from .seeds import run_example

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTION = """
import labelops_client as lb
import labelops_client as labelbox
client = lb.Client(url=URL, api_key=TOKEN)
"""


@pytest.fixture
def seed(live_server, token, client):
    """A dataset of rows key1…key9 and a project; the namespace a seed script starts with."""
    dataset = client.create_dataset("seed-rows")
    rows = [{"global_key": f"key{i}", "row_data": f"https://img/{i}.jpg"} for i in range(1, 10)]
    assert dataset.data_rows.bulk_create(rows).created == 9
    project = client.create_project("seed-project")
    ids = {r.global_key: r.uid for r in dataset.data_rows.find_by()}
    namespace = {"URL": live_server.url, "TOKEN": token}
    run_example(CONNECTION, namespace)
    namespace["project"] = namespace["client"].get_project(project.uid)
    return namespace, dataset, project, ids


def test_create_a_batch(seed):
    namespace, dataset, project, ids = seed
    run_example(
        """
        project.create_batch(
          name="<unique_batch_name>",
          global_keys=["key1", "key2", "key3"],
          priority=5,
        )

        # if the project uses consensus, you can optionally supply a dictionary with consensus settings

        # if provided, the batch will use consensus with the specificed coverage and votes

        project.create_batch(
          name="<unique_batch_name>",
          data_rows=["<data_row_id>", "<data_row_id>"],
          priority=1,
          consensus_settings={"number_of_labels": 3, "coverage_percentage": 0.1}
        )
        """,
        namespace,
        unique_batch_name=["first", "second"],
        data_row_id=[ids["key4"], ids["key5"]],
    )
    batches = {b.name: b for b in project.batches()}
    assert batches["first"].size == 3 and batches["first"].priority == 5
    assert batches["second"].size == 2
    assert batches["second"].consensus_settings == {
        "number_of_labels": 3,
        "coverage_percentage": 0.1,
    }


def test_create_multiple_batches(seed, capsys):
    namespace, *_ = seed
    namespace["global_keys"] = [f"key{i}" for i in range(1, 10)]
    run_example(
        """
        task = project.create_batches(
          name_prefix="demo-create-batches-",
          global_keys=global_keys,
          priority=5
        )

        print("Errors: ", task.errors())
        print("Result: ", task.result())
        """,
        namespace,
    )
    out = capsys.readouterr().out
    assert "Errors:  []" in out and "demo-create-batches-0000" in out
    assert namespace["task"].status == "succeeded"


def test_create_batches_from_a_dataset(seed, capsys):
    namespace, dataset, project, _ = seed
    run_example(
        """
        dataset = client.get_dataset("<dataset_id>")

        task = project.create_batches_from_dataset(
            name_prefix="demo-dataset-",
            dataset_id=dataset.uid,
            priority=5
        )

        print("Errors: ", task.errors())
        print("Result: ", task.result())
        """,
        namespace,
        dataset_id=dataset.uid,
    )
    assert "Errors:  []" in capsys.readouterr().out
    assert [b.name for b in project.batches()] == ["demo-dataset-0000"]
    assert next(project.batches()).size == 9


def test_get_a_batch(seed, capsys):
    namespace, dataset, project, _ = seed
    for name in ("a", "b", "c"):
        project.create_batch(name, global_keys=[f"key{ord(name) - 96}"])
    run_example(
        """
        # get a project
        project = client.get_project("<project_id>")

        # get the batches (returns a paginated collection of Batch objects)
        batches = project.batches()

        # get one batch
        batch = next(batches)

        # inspect all batches
        for batch in batches:
          print(batch)

        # for ease of use, you can convert the paginated collection to a list
        list(batches)
        """,
        namespace,
        project_id=project.uid,
    )
    assert capsys.readouterr().out.count("<Batch ") == 2  # the first was taken by next()
    batch = next(project.batches())
    run_example(
        """
        project_id = "<project_id>"
        batch_id = "<batch_id>"

        batch = client.get_batch(project_id=project_id, batch_id=batch_id)
        """,
        namespace,
        project_id=project.uid,
        batch_id=batch.uid,
    )
    assert namespace["batch"].uid == batch.uid and namespace["batch"].name == batch.name


class LazyStream:
    """The page's last two lines read a `stream` it never defines: the export's stream."""

    def __init__(self, namespace):
        self.namespace = namespace

    def __iter__(self):
        return iter(self.namespace["export_task"].get_buffered_stream())


def test_export_the_data_rows(seed, capsys):
    namespace, dataset, project, ids = seed
    namespace["batch"] = project.create_batch("exported", global_keys=["key1", "key2"])
    namespace["stream"] = LazyStream(namespace)
    run_example(
        """
        # Define the parameters for the export
        export_params = {
            "attachments": True,
            "metadata_fields": True,
            "data_row_details": True,
            "batch_ids": [batch.uid]  # Include batch ID(s)
        }

        filters = {}

        export_task = project.export(params=export_params, filters=filters)
        export_task.wait_till_done()

        # Stream the export using a callback function
        def json_stream_handler(output: labelbox.BufferedJsonConverterOutput):
          print(output.json)

        export_task.get_buffered_stream(stream_type=labelbox.StreamType.RESULT).start(stream_handler=json_stream_handler)

        # Collect all exported data into a list
        export_json = [data_row.json for data_row in export_task.get_buffered_stream()]

        # (Optional) To export all the global keys
        global_keys = [data_row.json["data_row"]["global_key"] for data_row in stream]

        # (Optional) To export all the data row ids
        data_row_ids = [data_row.json["data_row"]["id"] for data_row in stream]
        """,
        namespace,
    )
    assert sorted(namespace["global_keys"]) == ["key1", "key2"]
    assert sorted(namespace["data_row_ids"]) == sorted([ids["key1"], ids["key2"]])
    assert len(namespace["export_json"]) == 2
    assert capsys.readouterr().out.count("'data_row'") == 2


def test_remove_queued_delete_labels_and_delete_a_batch(seed):
    namespace, dataset, project, _ = seed
    namespace["batch"] = project.create_batch("to-go", global_keys=["key1", "key2"])
    run_example("batch.remove_queued_data_rows()", namespace)
    assert namespace["client"].get_batch(project.uid, namespace["batch"].uid).size == 0
    run_example(
        """
        batch.delete_labels()

        # alternatively, you can re-queue the data with labels as templates

        batch.delete_labels(set_labels_as_template=True)
        """,
        namespace,
    )
    run_example("batch.delete()", namespace)
    assert list(project.batches()) == []


def test_batch_attributes(seed):
    namespace, dataset, project, _ = seed
    namespace["batch"] = project.create_batch("attrs", global_keys=["key1", "key2", "key3"])
    run_example(
        """
        # name (str)
        batch.name

        # created at (datetime)

        batch.created_at

        # updated at (datetime)

        batch.updated_at

        # size, the number of data rows in the batch (int)

        batch.size

        # project (relationship to Project object)

        project = batch.project()
        """,
        namespace,
    )
    batch = namespace["batch"]
    assert batch.name == "attrs" and batch.size == 3
    assert batch.created_at.tzinfo is not None and batch.updated_at >= batch.created_at
    assert isinstance(namespace["project"], labelops_client.Project)
    assert namespace["project"].uid == project.uid
