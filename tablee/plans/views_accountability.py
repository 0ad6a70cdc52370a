"""The public accountability page of a territory: « Vous avez dit, nous avons fait ».

No sign-in. It shows what was heard (needs aggregated per barrier category, counts of persons
masked under 11), the actions decided with their status and progress, and what was done. Never a
name, a testimony, a meeting note or an action's free text: need and action titles only, which the
association writes for publication. A territory without an action plan answers 404, as an unknown
one.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from tablee.plans.models import ActionPlan
from tablee.plans.selectors_accountability import actions_delivered, needs_heard
from tablee.territories.models import ProgrammeTerritory


def territory(request, pt):
    pt = get_object_or_404(
        ProgrammeTerritory.objects.select_related("programme", "territory", "action_plan"), pk=pt
    )
    try:
        plan = pt.action_plan
    except ActionPlan.DoesNotExist:
        raise Http404("Ce territoire n'a pas encore de plan d'action.") from None
    # Public: counts of persons are masked for everyone, the association included.
    heard = needs_heard(pt, masked=True)
    delivered = actions_delivered(plan)
    return render(
        request,
        "plans/accountability/territory.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "epci": pt.territory,
            "plan": plan,
            "heard": heard,
            "delivered": delivered,
        },
    )
