"""Disclosure control: counts of persons shown to the funder or the public (INSEE rule).

The rule, as the INSEE applies it to data on persons:

- Primary suppression: a count of persons from 1 to 10 is masked. Zero is shown: "nobody" reveals
  nothing about a person, and hiding zeros would make every empty table look secret.
- Secondary suppression (``suppress``): a table is published with its row totals, column totals and
  grand total. Each row and each column, totals included, is a line whose cells add up to its
  total; a line holding exactly one masked entry would let a reader rebuild it by subtraction. So
  while such a line exists, a second entry of that line is masked too: the smallest unmasked cell
  (a positive one first, then a zero), and the line's total only when no cell is left. Masking only
  grows, so the loop ends; at the end no line holds exactly one masked entry.

Masked table entries are displayed "s" (secret statistique, as in INSEE tables), whatever their
value: writing "< 11" on a secondary cell would be false and would tell which cells are primary.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

THRESHOLD = 11
MASKED_COUNT = "< 11"
MASKED_CELL = "s"


def is_masked(n: int, *, threshold: int = THRESHOLD) -> bool:
    """Whether a count of persons falls under the primary rule (1 to threshold - 1)."""
    return 0 < n < threshold


def mask_count(n: int, *, threshold: int = THRESHOLD) -> int | str:
    """The count to display: the number, or "< 11" when 1 ≤ n < threshold (zero is shown)."""
    if is_masked(n, threshold=threshold):
        return f"< {threshold}"
    return n


@dataclass
class Cell:
    value: int
    masked: bool = False

    @property
    def display(self) -> int | str:
        return MASKED_CELL if self.masked else self.value


@dataclass
class SuppressedTable:
    """A table of counts with its totals, after primary and secondary suppression.

    ``cells[row][col]``, ``row_totals[row]``, ``column_totals[col]`` and ``total`` are Cells;
    templates show ``cell.display``. ``values`` keep the true numbers for code that must not
    publish them (tests, the coordinator's view).
    """

    rows: list
    columns: list
    cells: dict = field(default_factory=dict)
    row_totals: dict = field(default_factory=dict)
    column_totals: dict = field(default_factory=dict)
    total: Cell = field(default_factory=lambda: Cell(0))

    @property
    def any_masked(self) -> bool:
        return any(cell.masked for cell in self.entries())

    def entries(self):
        for row in self.rows:
            yield from self.cells[row].values()
        yield from self.row_totals.values()
        yield from self.column_totals.values()
        yield self.total

    def lines(self) -> list[list[Cell]]:
        """Every row and column, totals included: the entries of a line add up to its last one."""
        lines = [
            [self.cells[row][col] for col in self.columns] + [self.row_totals[row]]
            for row in self.rows
        ]
        lines += [
            [self.cells[row][col] for row in self.rows] + [self.column_totals[col]]
            for col in self.columns
        ]
        lines.append([self.column_totals[col] for col in self.columns] + [self.total])
        lines.append([self.row_totals[row] for row in self.rows] + [self.total])
        return lines


def suppress(
    table: Mapping[Hashable, Mapping[Hashable, int]], *, threshold: int = THRESHOLD
) -> SuppressedTable:
    """Mask the counts 1 to threshold - 1 of ``table[row][col]`` and enough others that none of
    them can be rebuilt from the published row and column totals (see the module docstring).

    Missing cells count as zero. Rows keep the order of ``table``; columns their first appearance.
    """
    rows = list(table)
    columns: list = []
    for row in rows:
        for col in table[row]:
            if col not in columns:
                columns.append(col)
    result = SuppressedTable(rows=rows, columns=columns)
    for row in rows:
        result.cells[row] = {col: Cell(int(table[row].get(col, 0))) for col in columns}
        result.row_totals[row] = Cell(sum(c.value for c in result.cells[row].values()))
    for col in columns:
        result.column_totals[col] = Cell(sum(result.cells[row][col].value for row in rows))
    result.total = Cell(sum(c.value for c in result.row_totals.values()))

    for entry in result.entries():
        entry.masked = is_masked(entry.value, threshold=threshold)

    lines = result.lines()
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for entry in line if entry.masked) != 1:
                continue
            *cells, line_total = line
            candidates = [cell for cell in cells if not cell.masked]
            if candidates:
                # Smallest positive first: a zero masked beside it hides little.
                choice = min(candidates, key=lambda cell: (cell.value == 0, cell.value))
            else:
                choice = line_total
            if choice.masked:  # a line of one entry: nothing else to mask
                continue
            choice.masked = True
            changed = True
    return result


def single_masked_lines(table: SuppressedTable) -> list[list[Cell]]:
    """The lines from which one masked entry could be rebuilt by subtraction (none, after suppress)."""
    return [line for line in table.lines() if sum(1 for e in line if e.masked) == 1]
