"""The demo's contacts: one for each user to own."""

from django.db import migrations

DEMO = [
    ("abc123", "Ada Lovelace", "ada@example.com", "bob"),
    ("def456", "Grace Hopper", "grace@example.com", "carol"),
    ("ghi789", "Alan Turing", "alan@example.com", "alice"),
]


def add(apps, schema_editor):
    Contact = apps.get_model("contactbook", "Contact")
    for id_, name, email, owner in DEMO:
        Contact.objects.using(schema_editor.connection.alias).get_or_create(
            id=id_, defaults={"name": name, "email": email, "owner_id": owner}
        )


def remove(apps, schema_editor):
    apps.get_model("contactbook", "Contact").objects.using(schema_editor.connection.alias).filter(
        id__in=[d[0] for d in DEMO]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("contactbook", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
