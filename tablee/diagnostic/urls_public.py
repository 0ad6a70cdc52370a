from django.urls import path

from tablee.diagnostic import views_public as views

app_name = "questionnaire"
urlpatterns = [
    path("<str:token>/", views.answer, name="answer"),
    path("<str:token>/merci/", views.thanks, name="thanks"),
]
