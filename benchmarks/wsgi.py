"""The application as gunicorn serves it in the load test, plus the floor view of
``benchmarks.urls``: the same server measures the floor and the pages, minutes apart."""

import os

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
# Before the first request: URL resolution reads the setting on each request.
settings.ROOT_URLCONF = "benchmarks.urls"
application = get_wsgi_application()
