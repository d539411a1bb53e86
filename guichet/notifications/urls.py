from django.urls import path

from guichet.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.failed_deliveries, name="failed"),
]
