from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api, views

router = DefaultRouter()
router.register("contacts", api.ContactViewSet)

urlpatterns = [
    path("", views.sign_in, name="sign-in"),
    path("contacts/", views.contacts, name="contacts"),
    path("logout", views.sign_out, name="sign-out"),
    path("api/", include(router.urls)),
]
