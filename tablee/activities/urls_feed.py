"""iCal feeds per territory (secret address, no login)."""

from django.urls import path

from tablee.activities import views_feed

app_name = "calendar_feed"

urlpatterns = [
    path("<slug:token>.ics", views_feed.territory_feed, name="territory"),
]
