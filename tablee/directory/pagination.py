"""Pages of a directory list that never count more results than a person would read.

Counting every match of a query over the whole country (the administration's directory, the
public directory) cost more than the page itself: SQLite has to test each of 100,000 structures,
where the page stops after its fifty rows. A list counts its results up to ``RESULTS_CAP``; beyond,
it says « plus de 1 000 » and offers the first ``RESULTS_CAP`` rows, in pages, and a search or a
filter to narrow them.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from tablee.core.pagination import PAGE_SIZE

RESULTS_CAP = 1000


class CappedPaginator(Paginator):
    """A Paginator of structures whose ``count`` stops at ``cap``; ``capped`` says whether there
    were more."""

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = RESULTS_CAP if cap is None else cap

    @cached_property
    def _found(self) -> int:
        # Without ORDER BY and with a LIMIT, the count stops at the (cap + 1)-th match.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._found, self.cap)

    @property
    def capped(self) -> bool:
        return self._found > self.cap


def paginate_results(request, queryset, per_page: int = PAGE_SIZE):
    """The requested page of ``queryset`` among its first ``RESULTS_CAP`` rows; a bad or too
    large page number gives the last page."""
    return CappedPaginator(queryset, per_page).get_page(request.GET.get("page"))
