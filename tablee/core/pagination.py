"""Pagination and sorting shared by every list page."""

from django.core.paginator import Paginator

PAGE_SIZE = 50


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """Return the requested page of ``queryset``; a bad or too large page number gives the last."""
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def sort_param(request, allowed: dict[str, str], default: str) -> tuple[str, str]:
    """Read ``?tri=`` among ``allowed`` (key shown in URLs -> ORM ordering), with ``-`` for descending.

    Returns (key as given, ORM ordering). Unknown keys fall back to ``default``.
    """
    raw = request.GET.get("tri") or default
    key = raw.lstrip("-")
    if key not in allowed:
        raw, key = default, default.lstrip("-")
    field = allowed[key]
    return raw, f"-{field}" if raw.startswith("-") else field
