"""Views exercising warden.django in the tests: function views with ``@require`` (sync and async,
API and pages), a template with ``{% allowed %}``, DRF views without viewset actions."""

from __future__ import annotations

from contactbook.models import Contact
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template import Context, Template
from rest_framework import generics, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView
from warden.django import require

from tests.django.plans.models import Item


def load_contact(request, pk):
    return Contact.objects.filter(pk=pk).first()


@require("read", "contact")
def contact_list(request):
    principal = request.principal  # None for an OPTIONS request, which passes unchecked
    return JsonResponse({"principal": principal and principal.id})


@require("update", resource=load_contact)
def contact_update(request, pk):
    return JsonResponse({"updated": request.warden_object.pk})


@require("update", resource=load_contact, scopes="contacts:write")
def contact_update_scoped(request, pk):
    return JsonResponse({"updated": pk})


@require("delete", resource=lambda request, pk: get_object_or_404(Contact, pk=pk), login=True)
def contact_delete_page(request, pk):
    return HttpResponse(f"deleted {pk}")


@require("update", resource=load_contact)
async def contact_update_async(request, pk):
    return JsonResponse({"updated": request.warden_object.pk, "async": True})


def whoami(request):
    principal = request.principal
    return JsonResponse({"principal": None if principal is None else principal.id})


TEMPLATE = Template(
    "{% load warden %}{% for c in contacts %}{% allowed 'update' c as ok %}{{ c.pk }}={{ ok }};{% endfor %}"
    "{% allowed 'create' kind='contact' as create %}create={{ create }}"
)


def decisions_page(request):
    return HttpResponse(TEMPLATE.render(Context({"request": request, "contacts": Contact.objects.all()})))


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "owner_id"]
        read_only_fields = ["owner_id"]


class ContactDetail(generics.RetrieveUpdateDestroyAPIView):
    """No viewset actions: the HTTP method names the action (GET read, PUT/PATCH update, DELETE delete)."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer


class ContactCollection(generics.ListCreateAPIView):
    """GET lists (the collection action "list", renamed to "read"), POST creates."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    warden_actions = {"GET": "read"}

    def perform_create(self, serializer):
        serializer.save(owner_id=self.request.principal.id)


class Archive(APIView):
    """A view fixing one action for every method, on a kind named by the view."""

    warden_kind = "contact"
    warden_action = "delete"

    def get(self, request):
        return Response({"archive": True, "user": request.user.username})


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "name", "owner"]


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Items listed by the plan of "own" (the retrieve action), without a decision on the collection."""

    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    warden_actions = {"list": None, "retrieve": "own"}
