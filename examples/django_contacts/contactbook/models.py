"""A contact: the ``contact`` resource of the policy (examples/contacts/policies/contact.yaml)."""

from django.db import models


class Contact(models.Model):
    """Its resource id is ``id``; the policy reads ``owner_id`` (the principal who may change it)."""

    id = models.CharField(primary_key=True, max_length=32)
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200, blank=True, default="")
    owner_id = models.CharField(max_length=200)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
