"""Public proposal link (no account): people concerned propose."""

from django.urls import path

from tablee.plans import views_public as views

app_name = "proposals_public"

urlpatterns = [
    path("<str:token>/", views.propose, name="propose"),
    path("<str:token>/merci/", views.thanks, name="thanks"),
]
