from django.urls import path

from tablee.territories import views_referential as views

app_name = "referential"
urlpatterns = [
    path("", views.index, name="index"),
]
