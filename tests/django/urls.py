from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tests.django import views

items = SimpleRouter()
items.register("t/api/items", views.ItemViewSet)

urlpatterns = [
    path("", include("contactbook.urls")),
    path("t/contacts", views.contact_list),
    path("t/contacts/<str:pk>/update", views.contact_update),
    path("t/contacts/<str:pk>/update-scoped", views.contact_update_scoped),
    path("t/contacts/<str:pk>/update-async", views.contact_update_async),
    path("t/contacts/<str:pk>/delete", views.contact_delete_page),
    path("t/whoami", views.whoami),
    path("t/decisions", views.decisions_page),
    path("t/api/contacts", views.ContactCollection.as_view()),
    path("t/api/contacts/<str:pk>", views.ContactDetail.as_view()),
    path("t/api/archive", views.Archive.as_view()),
    *items.urls,
]
