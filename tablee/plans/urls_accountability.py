"""Public accountability page per territory: « Vous avez dit, nous avons fait »."""

from django.urls import path

from tablee.plans import views_accountability as views

app_name = "accountability"

urlpatterns = [
    path("<uuid:pt>/", views.territory, name="territory"),
]
