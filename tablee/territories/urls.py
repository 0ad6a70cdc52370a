from django.urls import path

from tablee.territories import views

app_name = "territories"
urlpatterns = [
    path("", views.programme_list, name="programme_list"),
]
