"""The home page keeps the name ``core:home`` that every template uses; its view reads every stage
of the cycle, so it lives in the last app (reports) and is wired here, at the project level."""

from django.urls import path

from tablee.reports.views_home import home

app_name = "core"
urlpatterns = [
    path("", home, name="home"),
]
