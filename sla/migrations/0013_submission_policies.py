"""The Law on Submissions' clocks (issue 7) and which clocks each written channel opens on arrival."""

from django.db import migrations

LAW = "Iesniegumu likums (likumi.lv id 164501), grozījumi spēkā no 2026-03-01"
ANSWER_TEXT = (
    "Iesniegumu likums, 5. pants: iestāde atbildi pēc būtības sniedz saprātīgā termiņā, bet ne vēlāk kā "
    "10 darbdienu laikā pēc iesnieguma saņemšanas; ja atbildes sagatavošanai jāiegūst papildu informācija, "
    "jāsazinās ar citām iestādēm vai jāanalizē liela apjoma informācija, atbildi sniedz mēneša laikā, par "
    "to informējot iesniedzēju. / Law on Submissions, Section 5: the institution answers in substance "
    "within a reasonable time, but no later than 10 working days after receipt; where it needs further "
    "information, other institutions or a large amount of analysis, it answers within a month and tells "
    "the applicant so. (Numbers are data: edit them here when the law changes.)"
)
FORWARD_TEXT = (
    "Iesniegumu likums, 4. pants: iesniegumu, kas nav iestādes kompetencē, iestāde piecu darba dienu laikā "
    "pārsūta kompetentajai iestādei, par to informējot iesniedzēju. / Law on Submissions, Section 4: a "
    "submission outside the institution's competence is forwarded to the competent institution within "
    "five working days, and the applicant is told."
)
PORTAL_TEXT = (
    "MK 2017. gada 4. jūlija noteikumi Nr. 400 «Valsts pārvaldes pakalpojumu sniegšanas kārtība»: "
    "portālā uzdotu jautājumu pārsūta iestādei vienas darbdienas laikā; iestāde atbild sešu darbdienu "
    "laikā (septiņas darbdienas kopā). / Cabinet Regulation No. 400: a question asked through the portal "
    "is passed on within 1 working day and answered by the institution within 6 (7 overall)."
)

POLICIES = (
    ("SUBM-ANS", 10, 1, "Atbilde uz iesniegumu pēc būtības", "Submission answered in substance", ANSWER_TEXT),
    ("SUBM-FWD", 5, 0, "Iesniegums pārsūtīts kompetentajai iestādei", "Submission forwarded", FORWARD_TEXT),
)

CHANNEL_RULES = (
    ("portal", ["PORTAL-ANS"], "MK noteikumi Nr. 400"),
    ("post", ["SUBM-ANS"], "Iesniegumu likums: rakstveida iesniegums"),
    ("e_address", ["SUBM-ANS"], "Iesniegumu likums: e-adrese (elektroniski parakstīts)"),
)


def seed(apps, schema_editor):
    Policy = apps.get_model("sla", "Policy")
    ChannelPolicy = apps.get_model("sla", "ChannelPolicy")
    for rule_id, amount, extension_months, title_lv, title_en, text in POLICIES:
        Policy.objects.get_or_create(
            rule_id=rule_id,
            defaults={
                "kind": "working_days",
                "amount": amount,
                "extension_months": extension_months,
                "title_lv": title_lv,
                "title_en": title_en,
                "source": LAW,
                "description": text,
            },
        )
    Policy.objects.filter(rule_id__in=["PORTAL-FWD", "PORTAL-ANS"], description="").update(description=PORTAL_TEXT)
    for channel, rule_ids, note in CHANNEL_RULES:
        ChannelPolicy.objects.get_or_create(channel=channel, defaults={"rule_ids": rule_ids, "note": note})


class Migration(migrations.Migration):
    dependencies = [("sla", "0012_channels")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
