"""The public directory: no sign-in, publishable structures only, and nothing private.

Professional contacts are never read here, nor the contact person of a service; a structure that
is not publishable answers 404 exactly like one that does not exist.
"""

from django.db.models import Exists, OuterRef
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from tablee.directory.filters import DirectoryFilterForm, category_rows
from tablee.directory.models import Structure
from tablee.directory.pagination import paginate_results
from tablee.directory.views import is_to_check, map_payload, structure_services
from tablee.territories.models import Territory


def public_structures():
    return Structure.objects.publishable()


def public_filter_form(request) -> DirectoryFilterForm:
    """Filters of the public directory: the EPCI that have publishable structures (two queries:
    those EPCI, every Category row)."""
    # A correlated EXISTS per EPCI stops at its first publishable structure, where an IN
    # (subquery) would list the communes of every structure of the country first.
    territories = list(
        Territory.objects.filter(
            Exists(public_structures().filter(commune__territory_id=OuterRef("pk")))
        )
        .order_by("name")
        .values_list("siren", "name")
    )
    return DirectoryFilterForm(request.GET, territories=territories, categories=category_rows())


def structure_list(request):
    form = public_filter_form(request)
    page = paginate_results(request, form.apply(public_structures()).select_related("commune"))
    context = {
        "form": form,
        "page": page,
        "querystring": form.querystring(),
        "detail_url_name": "public_directory:detail",
    }
    template = (
        "public_directory/includes/structure_results.html"
        if request.htmx
        else "public_directory/structure_list.html"
    )
    response = render(request, template, context)
    if request.htmx:
        # The address bar shows the filters in use only, not every empty field of the form.
        query = context["querystring"]
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
    return response


def structure_map(request):
    form = public_filter_form(request)
    return render(
        request,
        "public_directory/structure_map.html",
        {
            "form": form,
            "querystring": form.querystring(),
            "data_url": reverse("public_directory:map_data"),
        },
    )


def map_data(request):
    form = public_filter_form(request)
    return JsonResponse(map_payload(form.apply(public_structures()), "public_directory:detail"))


def structure_detail(request, pk):
    structure = get_object_or_404(
        public_structures().select_related("commune__territory", "finess_category"), pk=pk
    )
    return render(
        request,
        "public_directory/structure_detail.html",
        {
            "structure": structure,
            "networks": list(structure.networks.all()),
            "services": structure_services(structure),
            "to_check": is_to_check(structure.data_updated_on),
        },
    )
