"""Row lists read back what an export wrote: a CSV cell keeps its text, not the export's quote."""

import pytest

from batches.row_lists import rows_from_text
from dashboard.bulk.csv_cells import csv_escape


@pytest.mark.parametrize("key", ["=SUM(A1)", "+1", "-x", "@cmd", "''=x", "plain", "it's"])
def test_a_csv_row_list_reads_an_exported_key_back(key):
    text = f"global_key\n{csv_escape(key)}\n"
    assert rows_from_text(text, fmt="csv", target="global_keys", limit=10) == [key.strip()]


def test_a_txt_row_list_takes_lines_as_they_are():
    assert rows_from_text("'=x\n", fmt="txt", target="global_keys", limit=10) == ["'=x"]
