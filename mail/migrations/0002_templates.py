"""Seed the client-facing templates (Latvian first, English second). Admins edit them afterwards.

The texts are written out here, not imported, so this migration stays as it was when it ran.
"""

from django.db import migrations

ACK_SUBJECT = "Jūsu vēstule saņemta / Your message was received [{{ reference }}]"
ACK_BODY = """Labdien!

Valsts kase ir saņēmusi Jūsu e-pasta vēstuli „{{ subject }}”.
Tās reģistrācijas numurs ir {{ reference }}; lūdzam to norādīt turpmākajā sarakstē.
Atbildi sniegsim ne vēlāk kā {{ reply_due_on }}.

Šī ir automātiska vēstule; uz to nav jāatbild.

Ar cieņu
{{ signature }}

Aicinām izteikt viedokli par mūsu darbu: {{ feedback_url }}

--

Good day,

The State Treasury has received your e-mail "{{ subject }}".
Its reference number is {{ reference }}; please quote it in further correspondence.
We will answer by {{ reply_due_on }} at the latest.

This message was sent automatically; there is no need to reply to it.

Kind regards
{{ signature }}

Please tell us what you think of our service: {{ feedback_url }}
"""

REPLY_SUBJECT = "Re: {{ subject }} [{{ reference }}]"
REPLY_BODY = """{{ body }}

Ar cieņu / Kind regards
{{ signature }}

Aicinām izteikt viedokli par mūsu darbu / Please tell us what you think of our service:
{{ feedback_url }}
"""

HOLDING_SUBJECT = "Re: {{ subject }} [{{ reference }}]"
HOLDING_BODY = """Labdien!

Paldies par Jūsu vēstuli ({{ reference }}). Objektīvu iemeslu dēļ nevaram atbildēt divu darba dienu
laikā; atbildi sniegsim līdz {{ promised_on }}.
{% if body %}
{{ body }}
{% endif %}
--

Good day,

Thank you for your message ({{ reference }}). For objective reasons we cannot answer within two working
days; we will answer by {{ promised_on }}.

Ar cieņu / Kind regards
{{ signature }}

Aicinām izteikt viedokli par mūsu darbu / Please tell us what you think of our service:
{{ feedback_url }}
"""

OOO_SUBJECT = "Prombūtnē / Out of office: {{ person_name }} [{{ reference }}]"
OOO_BODY = """Labdien!

{{ person_name }} ir prombūtnē {{ period }}.
{% if substitute_name %}Jūsu vēstuli ({{ reference }}) izskatīs {{ substitute_name }}, e-pasts {{ substitute_email }}{% if substitute_phone %}, tālr. {{ substitute_phone }}{% endif %}.{% else %}Jūsu vēstuli ({{ reference }}) izskatīs kolēģi: e-pasts {{ substitute_email }}{% if substitute_phone %}, tālr. {{ substitute_phone }}{% endif %}.{% endif %}

--

Good day,

{{ person_name }} is away {{ period }}.
{% if substitute_name %}Your message ({{ reference }}) will be handled by {{ substitute_name }}, e-mail {{ substitute_email }}{% if substitute_phone %}, phone {{ substitute_phone }}{% endif %}.{% else %}Your message ({{ reference }}) will be handled by colleagues: e-mail {{ substitute_email }}{% if substitute_phone %}, phone {{ substitute_phone }}{% endif %}.{% endif %}

Ar cieņu / Kind regards
{{ signature }}

Aicinām izteikt viedokli par mūsu darbu / Please tell us what you think of our service:
{{ feedback_url }}
"""

TEMPLATES = [
    ("apstiprinajums", "acknowledgement", "Apstiprinājums (EM-ACK) / Acknowledgement", ACK_SUBJECT, ACK_BODY),
    ("atbilde", "reply", "Atbilde / Reply", REPLY_SUBJECT, REPLY_BODY),
    ("starpatbilde", "holding_reply", "Starpatbilde / Holding reply", HOLDING_SUBJECT, HOLDING_BODY),
    ("prombutne", "out_of_office", "Prombūtne (EM-OOO) / Out of office", OOO_SUBJECT, OOO_BODY),
]


def seed(apps, schema_editor):
    MailTemplate = apps.get_model("mail", "MailTemplate")
    for code, kind, name, subject, body in TEMPLATES:
        MailTemplate.objects.get_or_create(
            code=code, defaults={"kind": kind, "name": name, "subject": subject, "body": body}
        )


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
