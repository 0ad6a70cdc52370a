"""Public evaluation questionnaire of a session (phone, QR code)."""

from django.urls import path

from tablee.activities import views_evaluation_public as views

app_name = "evaluation_public"

urlpatterns = [
    path("<str:token>/", views.answer, name="answer"),
    path("<str:token>/merci/", views.thanks, name="thanks"),
]
