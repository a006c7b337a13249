"""The service catalogue, seeded with the phone consultation topics of seed 000 (editable in the admin)."""

from django.db import migrations

SERVICES = (
    ("accounts", "Kontu atvēršana un slēgšana", "Opening and closing accounts"),
    ("signature-cards", "Parakstu paraugu kartītes un e-pakalpojumu pieteikumi",
     "Signature specimen cards and e-service applications"),
    ("e-services", "E-pakalpojumu lietošana", "Using e-services"),
    ("payments", "Maksājumi, pārgrāmatojumi un klasifikācijas kodu labojumi",
     "Payments, re-bookings and classification-code corrections"),
    ("other", "Citi Valsts kases jautājumi (budžeta izpilde, parāda vadība)",
     "Other Treasury matters (budget execution, debt management)"),
)


def seed_services(apps, schema_editor):
    Service = apps.get_model("contact_centre", "Service")
    for position, (code, name_lv, name_en) in enumerate(SERVICES, start=1):
        Service.objects.get_or_create(code=code, defaults={"name_lv": name_lv, "name_en": name_en, "position": position})


def seed_chain_head(apps, schema_editor):
    ChainHead = apps.get_model("contact_centre", "ChainHead")
    ChainHead.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("contact_centre", "0001_initial")]
    operations = [
        migrations.RunPython(seed_services, migrations.RunPython.noop),
        migrations.RunPython(seed_chain_head, migrations.RunPython.noop),
    ]
