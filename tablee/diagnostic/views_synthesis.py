"""The diagnostic synthesis of a territory: the page, its PDF, and two territories side by side."""

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action, can
from tablee.diagnostic.selectors import diagnostic_synthesis
from tablee.territories.models import ProgrammeTerritory


def get_synthesis_territory_for_user(request, pk) -> ProgrammeTerritory:
    """The programme territory if it is in the user's scope (else 404) and the user may read its
    synthesis (else 403)."""
    pt = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related(
            "programme", "territory__departement__region"
        ),
        pk=pk,
    )
    if not can(request.user, Action.VIEW_DIAGNOSTIC_SYNTHESIS, pt):
        raise PermissionDenied
    return pt


def _context(request, pt) -> dict:
    synthesis = diagnostic_synthesis(pt, user=request.user)
    return {
        "pt": pt,
        "programme": pt.programme,
        "epci": pt.territory,
        "s": synthesis,
        "indicator_rows": synthesis.indicator_rows,
        "links_to_records": can(request.user, Action.VIEW_DIAGNOSTIC, pt),
    }


@login_required
def synthesis_detail(request, pt):
    pt = get_synthesis_territory_for_user(request, pt)
    context = _context(request, pt)
    context["uncovered_points"] = [
        {"name": c.name, "code": c.code, "lat": c.latitude, "lon": c.longitude, "km": c.nearest_km}
        for c in context["s"].coverage.uncovered
    ]
    context["compare_choices"] = (
        ProgrammeTerritory.objects.for_user(request.user)
        .filter(programme=pt.programme)
        .exclude(pk=pt.pk)
        .select_related("territory")
    )
    return render(request, "diagnostic/synthesis/detail.html", context)


@login_required
def synthesis_pdf(request, pt):
    # Imported here: WeasyPrint is slow to import and logs as it loads its stylesheets.
    from tablee.core.pdf import render_pdf

    pt = get_synthesis_territory_for_user(request, pt)
    context = _context(request, pt)
    content = render_pdf("diagnostic/synthesis/pdf.html", context, request=request)
    s = context["s"]
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=f"synthèse du diagnostic {pt.pk}",
        format="pdf",
        needs=s.needs_total,
        pathways=len(s.pathways),
        testimonies=len(s.testimonies),
        meetings=s.meeting_count,
        answers=s.questionnaire.results.count,
    )
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"synthese-diagnostic-{slugify(pt.territory.name)}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def synthesis_compare(request, pt):
    left = get_synthesis_territory_for_user(request, pt)
    try:
        other = uuid.UUID(request.GET.get("avec", ""))
    except ValueError as exc:
        raise Http404("Territoire introuvable.") from exc
    # Outside the user's scope: 404, as for the first territory.
    right = get_synthesis_territory_for_user(request, other)
    if right.pk == left.pk:
        raise Http404("Choisissez un autre territoire.")
    syntheses = [diagnostic_synthesis(t, user=request.user) for t in (left, right)]
    counts = [dict(s.needs_by_category) for s in syntheses]
    labels = list(dict.fromkeys(label for s in syntheses for label, _ in s.needs_by_category))
    needs_rows = [(label, [c.get(label, 0) for c in counts]) for label in labels]
    return render(
        request,
        "diagnostic/synthesis/compare.html",
        {
            "pt": left,
            "programme": left.programme,
            "other": right,
            "syntheses": syntheses,
            "needs_rows": needs_rows,
        },
    )
