"""The JSON API: ``/api/contacts/`` (list, create), ``/api/contacts/<id>/`` (read, update, delete),
``/api/contacts/editable/`` (the contacts the caller may update).

Authentication, permissions and list filtering are the project's REST_FRAMEWORK defaults
(``warden.django.rest_framework``): a bearer token, the policy deciding each action on the
collection or on the contact, and lists narrowed by the query plan in the database.
"""

from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from warden.django import authorized

from .models import Contact


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "email", "owner_id"]
        read_only_fields = ["owner_id"]


class ContactViewSet(viewsets.ModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    # the policy names no "list" action: listing needs "read" on the collection, and shows the
    # contacts the caller may read (WardenFilterBackend)
    warden_actions = {"list": "read", "editable": "read"}

    def perform_create(self, serializer):
        serializer.save(owner_id=self.request.principal.id)

    @action(detail=False)
    def editable(self, request):
        """The contacts the caller may update: the plan for "update", as a filter in the database."""
        contacts = authorized(self.get_queryset(), request.principal, "update")
        return Response(self.get_serializer(contacts, many=True).data)
