"""The project's URLs plus the framework floor: a trivial view rendering a small template.

The runner sets ROOT_URLCONF to this module. The floor goes through the same middleware, the same
template engine and context processors, and the same test client as the pages, so a page's
"rapport" (its time divided by the floor's) tells what the page itself costs, whatever the
machine's speed that minute.
"""

from functools import cache

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from config import urls as project_urls

FLOOR_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
<ul>{% for item in items %}<li>{{ item.label }} : {{ item.value }}</li>{% endfor %}</ul>
{% if user.is_authenticated %}<p>Connecté·e</p>{% endif %}
</main></body></html>
"""
FLOOR_PATH = "__banc__/plancher/"


@cache
def floor_template():
    # Compiled once, as the cached loader does for the project's templates.
    return engines["django"].from_string(FLOOR_TEMPLATE)


def floor(request):
    template = floor_template()
    items = [{"label": f"Élément {n}", "value": n * 7} for n in range(10)]
    return HttpResponse(template.render({"title": "Plancher", "items": items}, request))


urlpatterns = [path(FLOOR_PATH, floor, name="bench_floor"), *project_urls.urlpatterns]
handler403 = project_urls.handler403
handler404 = project_urls.handler404
