"""COMPLAINT: the outcome of a complaint is given by the close of the next working day (issue 5 default)."""

from django.db import migrations


def seed(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    Policy.objects.get_or_create(
        rule_id="COMPLAINT",
        defaults={
            "kind": "working_days",
            "amount": 1,
            "title_lv": "Sūdzība izskatīta un klientam paziņots iznākums",
            "title_en": "Complaint reviewed and its outcome given to the client",
            "source": "Klientu apkalpošanas standarts (seed 000): negatīvas atsauksmes izskata nekavējoties",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0006_breach_review")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
