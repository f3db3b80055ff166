"""What leaves the project once labels are reviewed: publishing writes only the labels of
done rows (none awaiting review) that were not rejected; exports show each label's status."""

import json

import pytest

from batches.selectors import labels_to_publish
from batches.services import label_accept, label_reject

from .conftest import url

pytestmark = pytest.mark.django_db


def test_only_reviewed_done_rows_and_unrejected_labels_are_published(project, labelled, reviewer):
    dataset_id = labelled[0].data_row.dataset_id
    assert list(labels_to_publish(project=project, dataset_id=dataset_id)) == []
    label_accept(project=project, label_id=labelled[0].pk, user=reviewer)
    label_reject(project=project, label_id=labelled[1].pk, user=reviewer, reason="no")
    published = labels_to_publish(project=project, dataset_id=dataset_id)
    assert [label.pk for label in published] == [labelled[0].pk]


def test_the_export_stream_shows_label_statuses(manager_api, project, labelled, reviewer):
    label_accept(project=project, label_id=labelled[0].pk, user=reviewer)
    response = manager_api.get(url(project, "export/stream/?labels=true"))
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    statuses = {line["data_row"]["id"]: line["labels"][0]["status"] for line in lines}
    assert statuses[labelled[0].data_row_id] == "accepted"
    assert statuses[labelled[1].data_row_id] == "pending_review"
