"""Seed the four announcements with their default texts (Latvian, then English).

Frozen copy of telephony.prompts.PROMPT_DEFAULTS as it was when this migration was written: a migration
must seed the same rows whenever it runs (a test keeps the two equal). Placeholders the line fills in when
it speaks a text: {hours_lv}/{hours_en} (office hours, sla OfficeHours) and {email_lv}/{email_en}
(CC_MAIL_FROM), both spelt out in words for espeak-ng. An existing row (an admin's text) is left alone.
"""

from django.db import migrations

PROMPTS = {
    "recording_notice": (
        "Jūsu saruna tiks ierakstīta kvalitātes kontrolei.",
        "Your call will be recorded for quality control.",
    ),
    "closed": (
        "Valsts kase. Pašlaik klientu apkalpošana nestrādā. "
        "Zvaniet {hours_lv}, vai rakstiet uz e-pastu {email_lv}. Paldies!",
        "State Treasury. We are closed now. Please call {hours_en}, or write to {email_en}. Thank you.",
    ),
    "all_busy": (
        "Pašlaik visi konsultanti ir aizņemti. Jautājumu varat rakstīt uz e-pastu {email_lv}. "
        "Lai mēs jums atzvanītu, nospiediet taustiņu viens.",
        "All our consultants are busy. You can write to {email_en}. To be called back, press 1.",
    ),
    "callback_confirmed": (
        "Paldies! Mēs jums atzvanīsim, tiklīdz būs iespējams. Uz dzirdēšanos!",
        "Thank you. We will call you back as soon as possible. Goodbye.",
    ),
}


def seed(apps, schema_editor):
    Prompt = apps.get_model("telephony", "Prompt")
    for code, (text_lv, text_en) in PROMPTS.items():
        Prompt.objects.get_or_create(code=code, defaults={"text_lv": text_lv, "text_en": text_en})


class Migration(migrations.Migration):

    dependencies = [
        ("telephony", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
