from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Contact",
            fields=[
                ("id", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("email", models.CharField(blank=True, default="", max_length=200)),
                ("owner_id", models.CharField(max_length=200)),
            ],
            options={"ordering": ["id"]},
        ),
    ]
