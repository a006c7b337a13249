"""Template kinds for the notices about matters handled by hand, and their seeded texts (Latvian first,
English second), which were fixed in intake/notices.py until now. Admins edit them afterwards.

The texts are written out here, not imported, so this migration stays as it was when it ran.
"""

from django.db import migrations, models

VISIT_SUBJECT = "Apmeklējuma apstiprinājums / Visit confirmed [{{ reference }}]"
VISIT_BODY = """Labdien!

Apstiprinām Jūsu apmeklējumu {{ visit_date_lv }} plkst. {{ visit_time }} Valsts kases Klientu apkalpošanas centrā, Smilšu ielā 1, Rīgā.
Pakalpojums: {{ service_lv }}
Lūdzam ņemt līdzi personu apliecinošu dokumentu. Ja nevarat ierasties, lūdzu, zvaniet +371 67094368.
Atsauce: {{ reference }}

Ar cieņu
{{ signature }}

--

Good day,

We confirm your visit on {{ visit_date }} at {{ visit_time }} at the State Treasury's client service centre, Smilšu iela 1, Riga.
Service: {{ service_en }}
Please bring an identity document. If you cannot come, please call +371 67094368.
Reference: {{ reference }}

Kind regards
{{ signature }}
"""

FORWARDED_SUBJECT = "Jūsu iesniegums pārsūtīts / Your submission was forwarded [{{ reference }}]"
FORWARDED_BODY = """Labdien!

Jūsu iesniegums{% if subject %} „{{ subject }}”{% endif %} nav Valsts kases kompetencē, tāpēc to pārsūtījām: {{ institution }}.
Turpmāk par to lūdzam sazināties ar minēto iestādi.
Atsauce: {{ reference }}

Ar cieņu
{{ signature }}

--

Good day,

Your submission{% if subject %} "{{ subject }}"{% endif %} is not within the State Treasury's competence, so we forwarded it to: {{ institution }}.
Please contact that institution about it from now on.
Reference: {{ reference }}

Kind regards
{{ signature }}
"""

EXTENDED_SUBJECT = "Atbildes termiņš pagarināts / Answer time extended [{{ reference }}]"
EXTENDED_BODY = """Labdien!

Jūsu iesnieguma{% if subject %} „{{ subject }}”{% endif %} izskatīšanai nepieciešams vairāk laika; atbildi sniegsim līdz {{ until_lv }}.
Atsauce: {{ reference }}

Ar cieņu
{{ signature }}

--

Good day,

We need more time to consider your submission{% if subject %} "{{ subject }}"{% endif %}; you will have our answer by {{ until }}.
Reference: {{ reference }}

Kind regards
{{ signature }}
"""

TEMPLATES = [
    (
        "visit-confirmation",
        "visit_confirmation",
        "Apmeklējuma apstiprinājums / Visit confirmation",
        VISIT_SUBJECT,
        VISIT_BODY,
    ),
    ("forwarded-notice", "forwarded", "Paziņojums par pārsūtīšanu / Forwarding notice", FORWARDED_SUBJECT, FORWARDED_BODY),
    (
        "extended-notice",
        "extended",
        "Paziņojums par termiņa pagarinājumu / Extension notice",
        EXTENDED_SUBJECT,
        EXTENDED_BODY,
    ),
]


def seed(apps, schema_editor):
    MailTemplate = apps.get_model("mail", "MailTemplate")
    for code, kind, name, subject, body in TEMPLATES:
        MailTemplate.objects.get_or_create(
            code=code, defaults={"kind": kind, "name": name, "subject": subject, "body": body}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0007_portal_rule_default'),
    ]

    operations = [
        migrations.AlterField(
            model_name='mailtemplate',
            name='kind',
            field=models.CharField(choices=[('acknowledgement', 'Apstiprinājums / Acknowledgement'), ('reply', 'Atbilde / Reply'), ('holding_reply', 'Starpatbilde / Holding reply'), ('out_of_office', 'Prombūtne / Out of office'), ('visit_confirmation', 'Apmeklējuma apstiprinājums / Visit confirmation'), ('forwarded', 'Paziņojums par pārsūtīšanu / Forwarding notice'), ('extended', 'Paziņojums par termiņa pagarinājumu / Extension notice')], max_length=20),
        ),
        migrations.AlterField(
            model_name='mailtemplate',
            name='body',
            field=models.TextField(help_text='Mainīgie / Variables: reference, subject, client_name, signature, feedback_url; acknowledgement: reply_due_on; reply: body, promised_on; out_of_office: person_name, period, substitute_name, substitute_email, substitute_phone; visit_confirmation: visit_date_lv, visit_date, visit_time, service_lv, service_en; forwarded: institution; extended: until_lv, until'),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
