"""The INSEE rule for counts of persons: primary masking under 11, secondary suppression."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tablee.core.disclosure import (
    MASKED_CELL,
    mask_count,
    single_masked_lines,
    suppress,
)


def test_counts_from_1_to_10_are_masked_and_zero_is_shown():
    assert mask_count(0) == 0
    assert mask_count(1) == "< 11"
    assert mask_count(10) == "< 11"
    assert mask_count(11) == 11
    assert mask_count(250) == 250


def test_the_threshold_can_be_changed():
    assert mask_count(4, threshold=5) == "< 5"
    assert mask_count(5, threshold=5) == 5


def test_a_table_without_small_counts_is_published_whole():
    table = suppress({"A": {"x": 20, "y": 30}, "B": {"x": 15, "y": 0}})

    assert not table.any_masked
    assert table.cells["A"]["x"].display == 20
    assert table.row_totals["A"].display == 50
    assert table.column_totals["x"].display == 35
    assert table.total.display == 65


def test_a_lone_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it():
    table = suppress(
        {
            "A": {"x": 5, "y": 40, "z": 30},
            "B": {"x": 25, "y": 50, "z": 60},
            "C": {"x": 35, "y": 45, "z": 70},
        }
    )

    masked = {(r, c) for r in table.rows for c in table.columns if table.cells[r][c].masked}
    # 5 is primary; its row's smallest other cell (30) and its column's (25) go with it, and then
    # the 30's column and the 25's row need a second cell: their smallest, the 60 at B/z.
    assert masked == {("A", "x"), ("A", "z"), ("B", "x"), ("B", "z")}
    assert table.cells["A"]["x"].display == MASKED_CELL
    assert table.row_totals["A"].display == 75  # the totals stay published
    assert single_masked_lines(table) == []


def test_a_single_column_table_masks_a_second_row():
    table = suppress({"a": {"n": 3}, "b": {"n": 40}, "c": {"n": 12}})

    assert table.cells["a"]["n"].masked
    assert table.cells["c"]["n"].masked  # the smallest other: 3 = total - 40 - 12 otherwise
    assert not table.cells["b"]["n"].masked
    assert table.total.display == 55


def test_a_small_total_is_masked_too():
    table = suppress({"a": {"n": 3}, "b": {"n": 0}})

    assert table.total.masked
    assert table.cells["b"]["n"].display == 0 or table.cells["b"]["n"].masked
    assert single_masked_lines(table) == []


def test_an_empty_table():
    table = suppress({})

    assert table.total.display == 0
    assert not table.any_masked


def _rebuildable(table) -> list:
    """Masked entries a reader can recompute from one line: its total minus its visible cells."""
    found = []
    for line in table.lines():
        hidden = [entry for entry in line if entry.masked]
        if len(hidden) == 1:
            found.append(hidden[0])
    return found


tables = st.dictionaries(
    keys=st.sampled_from("ABCDEF"),
    values=st.dictionaries(
        keys=st.sampled_from("xyzw"),
        values=st.one_of(st.integers(0, 12), st.integers(0, 500)),
        min_size=1,
        max_size=4,
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_masked_value_can_be_recomputed_from_the_totals(raw):
    table = suppress(raw)

    assert _rebuildable(table) == []
    # Every count from 1 to 10 is masked, wherever it is (cells and totals).
    assert all(entry.masked for entry in table.entries() if 0 < entry.value < 11)
    # The published values are the true ones: masking hides, it never alters.
    for row in table.rows:
        assert table.row_totals[row].value == sum(c.value for c in table.cells[row].values())
        for col, cell in table.cells[row].items():
            assert cell.value == raw[row].get(col, 0)
            assert cell.display == (MASKED_CELL if cell.masked else cell.value)
