"""Clocks of the phone line (issue 4): the recording of an answered call (PH-REC), a message taken for
an absent colleague (PH-ABSENT) and a callback the caller asked for (PH-CALLBACK)."""

import django.core.validators
from django.db import migrations, models

POLICIES = (
    ("PH-REC", "minutes", 10, "Atbildēts zvans ir ierakstīts", "An answered call has its recording",
     "Klientu apkalpošanas standarts, TĀLRUNIS (seed 001): zvani tiek ierakstīti kvalitātes kontrolei"),
    ("PH-ABSENT", "working_days", 1, "Prombūtnē esošam kolēģim pieņemta ziņa nodota",
     "A message taken for an absent colleague is dealt with",
     "Klientu apkalpošanas standarts, TĀLRUNIS (seed 001)"),
    ("PH-CALLBACK", "working_days", 1, "Zvanītājam atzvanīts", "The caller who asked is called back",
     "Līnijas iestatījums: atzvanīšana, ja neviens konsultants neatbildēja (issue 4)"),
)


def seed(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    for rule_id, kind, amount, title_lv, title_en, source in POLICIES:
        Policy.objects.get_or_create(
            rule_id=rule_id,
            defaults={"kind": kind, "amount": amount, "title_lv": title_lv, "title_en": title_en, "source": source},
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_handbook_defaults")]

    operations = [
        migrations.AlterField(
            model_name="policy",
            name="kind",
            field=models.CharField(
                choices=[
                    ("working_days", "Darbdienas / Working days"),
                    ("rings", "Zvana signāli / Rings"),
                    ("days_ahead", "Darbdienas iepriekš / Working days ahead"),
                    ("minutes", "Minūtes / Minutes"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="policy",
            name="amount",
            field=models.PositiveIntegerField(
                help_text="Working days, rings, working days ahead, or minutes",
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
