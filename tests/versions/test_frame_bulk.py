"""The bulk context (the seed's BulkContext): flushes every flush_threshold operations."""

import pytest

from dashboard.errors import Conflict, Invalid
from versions.copy_on_write import iter_frame_contents
from versions.services import frames_bulk

pytestmark = pytest.mark.django_db


def test_bulk_context_flushes_on_threshold_and_exit_in_order(draft, django_assert_max_num_queries):
    with frames_bulk(version=draft, flush_threshold=3) as bulk:
        bulk.add_frame({"id": "n1", "sources": [{"uri": "s3://n/1"}]})
        bulk.add_frame({"id": "n2", "sources": [{"uri": "s3://n/2"}]})
        bulk.delete_frame("f0")
        assert bulk.written == 3  # flushed at the threshold
        bulk.update_frame({"id": "n1", "meta": {"seen": True}})
        bulk.add_frame({"sources": []})  # a failure, collected
    contents = dict(iter_frame_contents(draft))
    assert "f0" not in contents and contents["n1"]["meta"] == {"seen": True}
    assert len(bulk.failed) == 1 and bulk.failed[0]["error_type"] == "validation"


def test_bulk_context_refuses_published_versions_and_bad_thresholds(published, draft):
    with pytest.raises(Conflict):
        with frames_bulk(version=published):
            pass
    with pytest.raises(Invalid):
        with frames_bulk(version=draft, flush_threshold=0):
            pass
