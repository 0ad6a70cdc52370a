"""Public registration, cancellation and self check-in links."""

from django.urls import path

from tablee.activities import views_registration_public as views

app_name = "registration_public"

# The fixed prefixes come first: a token never equals "annuler" or "emargement", but the order
# keeps the two-segment addresses unambiguous.
urlpatterns = [
    path("annuler/<str:token>/", views.cancel, name="cancel"),
    path("emargement/<str:token>/", views.checkin, name="checkin"),
    path("<str:token>/", views.register, name="register"),
    path("<str:token>/envoyee/", views.sent, name="sent"),
]
