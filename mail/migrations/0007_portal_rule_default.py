"""A default portal rule: questions routed through the national portal come from latvija.lv (edit or
switch it off in the admin when the coordinating body writes from elsewhere)."""

from django.db import migrations


def seed(apps, schema_editor):
    PortalRule = apps.get_model("mail", "PortalRule")
    PortalRule.objects.get_or_create(
        name="Latvija.lv portāla jautājumi / Questions from the national portal",
        defaults={"sender": "latvija.lv", "active": True, "position": 0},
    )


class Migration(migrations.Migration):
    dependencies = [("mail", "0006_portal_rules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
