"""QA scorecards per recording (PH-GREET, courtesy, resolution): a quality officer's draft, submitted once
and never changed again, acknowledged or disputed by the recording's agent, disputes resolved by team
leads, and the average score per agent per Riga week or month."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from agents.models import Person, Role
from contact_centre.services import interaction_record_call
from recordings.models import Recording, Scorecard, ScorecardAnswer, ScorecardItem, ScorecardTemplate
from recordings.services import recording_store
from tests.factories import PersonFactory, UserFactory, riga
from tests.recordings.wavs import tone, wav_write

pytestmark = pytest.mark.django_db

CALLED_AT = riga(2026, 4, 7, 10, 0)
# The seeded form, as the handbook describes it: item code → (weight, N of its 0..N answers).
FORM = {"institution-named": (1, 1), "own-name-given": (1, 1), "courtesy": (2, 4), "resolution": (2, 1)}
GOOD = {"institution-named": 1, "own-name-given": 1, "courtesy": 4, "resolution": 1}


def expected_score(values: dict[str, int], form: dict[str, tuple[int, int]] = FORM) -> float:
    """The handbook's arithmetic, done here by hand: weighted share of the best answers, in per cent."""
    earned = sum(weight * values[code] / top for code, (weight, top) in form.items())
    return round(100 * earned / sum(weight for weight, _ in form.values()), 1)


@pytest.fixture(autouse=True)
def store(settings: Settings, tmp_path: Path) -> Path:
    settings.CC_RECORDINGS_DIR = tmp_path / "store"
    return settings.CC_RECORDINGS_DIR


def _person(role: str, username: str) -> Person:
    return PersonFactory(user__username=username, user__roles=[role])


@pytest.fixture
def officer() -> Person:
    return _person(Role.QUALITY_OFFICER, "officer")


@pytest.fixture
def agent() -> Person:
    return _person(Role.PHONE_AGENT, "anna")


@pytest.fixture
def lead() -> Person:
    return _person(Role.TEAM_LEAD, "lead")


def _recorded(tmp_path: Path, call_id: str, agent: Person | None, at: datetime = CALLED_AT) -> Recording:
    interaction_record_call(sip_call_id=call_id, arrived_at=at, caller="+37120000000", in_office_hours=True)
    wav = wav_write(tmp_path / "spool" / f"{call_id}.wav", tone(440, 0.5))
    return recording_store(sip_call_id=call_id, wav_path=wav, started_at=at, agent=agent)


@pytest.fixture
def recording(tmp_path: Path, agent: Person) -> Recording:
    return _recorded(tmp_path, "call-1", agent)


def _client(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return dict(response.json())


def _refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _answers(values: dict[str, int], template: str = "ph-greet") -> list[dict[str, Any]]:
    items = dict(ScorecardItem.objects.filter(template__code=template).values_list("code", "pk"))
    return [{"item": items[code], "value": value, "note": ""} for code, value in values.items()]


def _scored(client: APIClient, recording: Recording, values: dict[str, int]) -> dict[str, Any]:
    """Open, answer and submit a scorecard through the API as the officer behind `client`."""
    card = _ok(client.post("/api/scorecards/", {"recording": recording.pk}, format="json"), 201)
    url = f"/api/scorecards/{card['id']}/"
    _ok(client.patch(url, {"answers": _answers(values)}, format="json"))
    return _ok(client.post(f"{url}submit/"))


def test_the_default_form_is_seeded_with_the_ph_greet_items_latvian_first(officer: Person) -> None:
    forms = _ok(_client(officer).get("/api/scorecard-templates/"))["results"]
    assert [(form["code"], form["name_lv"], form["version"]) for form in forms] == [
        ("ph-greet", "PH-GREET un pieklājība", 1)
    ]
    items = [(i["code"], i["rule_id"], i["kind"], i["scale_max"], i["weight"]) for i in forms[0]["items"]]
    assert items == [
        ("institution-named", "PH-GREET", "yes_no", 1, 1),
        ("own-name-given", "PH-GREET", "yes_no", 1, 1),
        ("courtesy", "", "scale", 4, 2),
        ("resolution", "", "yes_no", 1, 2),
    ]
    assert forms[0]["items"][0]["text_lv"].startswith("Nosaukta iestāde")


def test_a_draft_is_answered_then_submitted_with_its_weighted_score_and_never_changes_again(
    officer: Person, recording: Recording
) -> None:
    client = _client(officer)
    with time_machine.travel(riga(2026, 4, 8, 9), tick=False):
        card = _ok(client.post("/api/scorecards/", {"recording": recording.pk}, format="json"), 201)
    url = f"/api/scorecards/{card['id']}/"
    values = {"institution-named": 1, "own-name-given": 0, "courtesy": 3, "resolution": 1}
    draft = _ok(client.patch(url, {"answers": _answers(values), "comment": "Vārdu nenosauca"}, format="json"))
    with time_machine.travel(riga(2026, 4, 8, 9, 30), tick=False):
        submitted = _ok(client.post(f"{url}submit/"))
        again = _ok(client.post(f"{url}submit/"))
    late_change = client.patch(url, {"answers": _answers({"own-name-given": 1})}, format="json")

    assert (card["state"], card["score"], draft["score"], draft["comment"]) == (
        "draft",
        None,
        None,
        "Vārdu nenosauca",
    )
    # (1 + 0 + 2·3/4 + 2·1) / 6 = 75 %
    assert (submitted["state"], submitted["score"], submitted["template_version"]) == ("submitted", 75.0, 1)
    assert submitted["score"] == expected_score(values)
    assert submitted["submitted_at"] == "2026-04-08T09:30:00+03:00"
    assert again == submitted
    assert _refusal(late_change) == (409, "scorecard_submitted")
    assert [(row["code"], row["value"]) for row in _ok(client.get(url))["answers"]] == list(values.items())


def test_the_database_itself_refuses_to_change_a_submitted_scorecard_or_its_answers(
    officer: Person, recording: Recording
) -> None:
    card = _scored(_client(officer), recording, GOOD)
    with pytest.raises(DatabaseError, match="submitted"), transaction.atomic():
        Scorecard.objects.filter(pk=card["id"]).update(score=0)
    with pytest.raises(DatabaseError, match="submitted"), transaction.atomic():
        ScorecardAnswer.objects.filter(scorecard_id=card["id"]).update(value=0)
    with pytest.raises(DatabaseError, match="submitted"), transaction.atomic():
        ScorecardAnswer.objects.filter(scorecard_id=card["id"]).delete()
    assert Scorecard.objects.get(pk=card["id"]).score == 100


@pytest.mark.parametrize(
    ("values", "score"),
    [
        (GOOD, 100.0),
        ({"institution-named": 0, "own-name-given": 0, "courtesy": 0, "resolution": 0}, 0.0),
        ({"institution-named": 1, "own-name-given": 1, "courtesy": 0, "resolution": 0}, 33.3),
        ({"institution-named": 0, "own-name-given": 0, "courtesy": 4, "resolution": 1}, 66.7),
        ({"institution-named": 1, "own-name-given": 1, "courtesy": 1, "resolution": 0}, 41.7),
    ],
)
def test_the_score_weighs_each_item(
    officer: Person, recording: Recording, values: dict[str, int], score: float
) -> None:
    assert _scored(_client(officer), recording, values)["score"] == score == expected_score(values)


def test_a_draft_is_submitted_only_with_every_item_answered_within_its_scale(
    officer: Person, recording: Recording
) -> None:
    client = _client(officer)
    card = _ok(client.post("/api/scorecards/", {"recording": recording.pk}, format="json"), 201)
    url = f"/api/scorecards/{card['id']}/"
    _ok(client.patch(url, {"answers": _answers({"institution-named": 1, "courtesy": 2})}, format="json"))
    missing = client.post(f"{url}submit/")
    over_scale = client.patch(url, {"answers": _answers({"courtesy": 5})}, format="json")
    not_yes_no = client.patch(url, {"answers": _answers({"resolution": 2})}, format="json")
    foreign = client.patch(url, {"answers": [{"item": 0, "value": 1}]}, format="json")

    assert _refusal(missing) == (400, "answers_missing")
    assert "own-name-given, resolution" in missing.json()["error"]["message"]
    assert _refusal(over_scale) == (400, "value_out_of_range")
    assert _refusal(not_yes_no) == (400, "value_out_of_range")
    assert _refusal(foreign) == (400, "item_unknown")
    assert Scorecard.objects.get(pk=card["id"]).submitted_at is None


def test_only_the_recordings_agent_acknowledges_a_submitted_scorecard_once(
    officer: Person, agent: Person, lead: Person, recording: Recording
) -> None:
    officer_client, agent_client = _client(officer), _client(agent)
    colleague = _client(_person(Role.PHONE_AGENT, "colleague"))
    card = _ok(officer_client.post("/api/scorecards/", {"recording": recording.pk}, format="json"), 201)
    url = f"/api/scorecards/{card['id']}/"
    assert agent_client.get(url).status_code == 404  # a draft is the officer's business
    assert agent_client.post(f"{url}acknowledge/").status_code == 404
    officer_client.patch(url, {"answers": _answers(GOOD)}, format="json")
    officer_client.post(f"{url}submit/")

    assert colleague.get(url).status_code == 404
    assert colleague.post(f"{url}acknowledge/").status_code == 404
    assert _refusal(_client(lead).post(f"{url}acknowledge/")) == (403, "scorecard_not_your_call")
    assert _refusal(officer_client.post(f"{url}acknowledge/")) == (403, "scorecard_not_your_call")
    with time_machine.travel(riga(2026, 4, 9, 14), tick=False):
        seen = _ok(agent_client.post(f"{url}acknowledge/"))
    with time_machine.travel(riga(2026, 4, 10, 8), tick=False):
        seen_again = _ok(agent_client.post(f"{url}acknowledge/"))
    assert seen["state"] == "acknowledged"
    assert seen["acknowledgement"] == {"by": agent.user.pk, "at": "2026-04-09T14:00:00+03:00"}
    assert seen_again["acknowledgement"] == seen["acknowledgement"]


def test_an_upheld_dispute_opens_a_new_scorecard_that_supersedes_the_old_and_deletes_nothing(
    officer: Person, agent: Person, lead: Person, recording: Recording
) -> None:
    officer_client, agent_client, lead_client = _client(officer), _client(agent), _client(lead)
    first = _scored(officer_client, recording, {**GOOD, "own-name-given": 0})
    url = f"/api/scorecards/{first['id']}/"
    assert _refusal(agent_client.post(f"{url}dispute/", {"comment": "?"}, format="json")) == (
        400,
        "comment_required",
    )
    with time_machine.travel(riga(2026, 4, 9, 11), tick=False):
        disputed = _ok(
            agent_client.post(f"{url}dispute/", {"comment": "Es nosaucu vārdu, 0:03"}, format="json")
        )
    decision = {"upheld": True, "comment": "Ierakstā vārds ir dzirdams"}
    assert _refusal(agent_client.post(f"{url}resolve/", decision, format="json")) == (
        403,
        "dispute_leads_only",
    )
    assert _refusal(officer_client.post(f"{url}resolve/", decision, format="json")) == (
        403,
        "dispute_leads_only",
    )
    with time_machine.travel(riga(2026, 4, 10, 9), tick=False):
        upheld = _ok(lead_client.post(f"{url}resolve/", decision, format="json"))
    rejected_later = lead_client.post(f"{url}resolve/", {**decision, "upheld": False}, format="json")

    assert (disputed["state"], disputed["dispute"]["state"], disputed["dispute"]["comment"]) == (
        "disputed",
        "open",
        "Es nosaucu vārdu, 0:03",
    )
    assert (upheld["state"], upheld["score"], upheld["dispute"]["state"]) == ("superseded", 83.3, "upheld")
    assert (upheld["dispute"]["resolved_by"], upheld["dispute"]["resolution"]) == (
        lead.user.pk,
        decision["comment"],
    )
    assert _refusal(rejected_later) == (409, "dispute_resolved")
    successor = _ok(officer_client.get(f"/api/scorecards/{upheld['superseded_by']}/"))
    assert (successor["state"], successor["supersedes"], successor["officer"]) == (
        "draft",
        first["id"],
        officer.user.pk,
    )
    assert [(row["code"], row["value"]) for row in successor["answers"]] == [
        (row["code"], row["value"]) for row in first["answers"]
    ]
    successor_url = f"/api/scorecards/{successor['id']}/"
    officer_client.patch(successor_url, {"answers": _answers({"own-name-given": 1})}, format="json")
    corrected = _ok(officer_client.post(f"{successor_url}submit/"))
    assert corrected["score"] == 100.0
    assert _ok(agent_client.get(url))["answers"] == first["answers"]  # the old one, as it was
    assert Scorecard.objects.filter(recording=recording).count() == 2


def test_a_rejected_dispute_leaves_the_scorecard_standing_and_cannot_be_raised_again(
    officer: Person, agent: Person, lead: Person, recording: Recording
) -> None:
    card = _scored(_client(officer), recording, GOOD)
    url = f"/api/scorecards/{card['id']}/"
    agent_client = _client(agent)
    dispute = {"comment": "Nepiekrītu vērtējumam"}
    first = _ok(agent_client.post(f"{url}dispute/", dispute, format="json"))
    assert _ok(agent_client.post(f"{url}dispute/", dispute, format="json"))["dispute"] == first["dispute"]
    decision = {"upheld": False, "comment": "Vērtējums atbilst ierakstam"}
    rejected = _ok(_client(lead).post(f"{url}resolve/", decision, format="json"))
    assert _ok(_client(lead).post(f"{url}resolve/", decision, format="json")) == rejected
    again = agent_client.post(f"{url}dispute/", dispute, format="json")

    assert (rejected["state"], rejected["dispute"]["state"], rejected["superseded_by"]) == (
        "submitted",
        "rejected",
        None,
    )
    assert _refusal(again) == (409, "dispute_resolved")
    assert Scorecard.objects.count() == 1


def _admin_form(template: ScorecardTemplate, **changes: dict[str, Any]) -> dict[str, Any]:
    """The admin's change form for `template` as a browser would post it, with `changes` per item code."""
    items = list(template.items.all())
    data: dict[str, Any] = {
        "code": template.code,
        "name_lv": template.name_lv,
        "name_en": template.name_en,
        "active": "on",
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for index, item in enumerate(items):
        fields = {
            "id": item.pk,
            "template": template.pk,
            "position": item.position,
            "code": item.code,
            "text_lv": item.text_lv,
            "text_en": item.text_en,
            "rule_id": item.rule_id,
            "kind": item.kind,
            "scale_max": item.scale_max,
            "weight": item.weight,
        }
        data |= {
            f"items-{index}-{name}": value for name, value in (fields | changes.get(item.code, {})).items()
        }
    return data


def test_editing_the_form_in_the_admin_raises_its_version_and_leaves_submitted_scorecards_alone(
    officer: Person, agent: Person, tmp_path: Path, recording: Recording
) -> None:
    client = _client(officer)
    values = {"institution-named": 1, "own-name-given": 1, "courtesy": 2, "resolution": 0}
    before = _scored(client, recording, values)
    template = ScorecardTemplate.objects.get(code="ph-greet")
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    edit = {"courtesy": {"weight": 5, "text_lv": "Laipnība"}}
    saved = admin.post(
        f"/admin/recordings/scorecardtemplate/{template.pk}/change/", _admin_form(template, **edit)
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]

    after = _ok(client.get(f"/api/scorecards/{before['id']}/"))
    template.refresh_from_db()
    assert (template.version, template.items.get(code="courtesy").weight) == (2, 5)
    assert after == before
    assert (after["score"], after["template_version"]) == (expected_score(values), 1)
    new_form = FORM | {"courtesy": (5, 4)}
    later = _scored(client, _recorded(tmp_path, "call-2", agent), values)
    assert (later["score"], later["template_version"]) == (expected_score(values, new_form), 2)
    assert [row["text_lv"] for row in later["answers"] if row["code"] == "courtesy"] == ["Laipnība"]
    # An answered item cannot be deleted from the form.
    delete = _admin_form(template) | {"items-2-DELETE": "on"}
    refused = admin.post(f"/admin/recordings/scorecardtemplate/{template.pk}/change/", delete)
    assert refused.status_code == 200
    assert template.items.filter(code="courtesy").exists()


def test_scorecards_are_read_only_in_the_admin(officer: Person, recording: Recording) -> None:
    card = _scored(_client(officer), recording, GOOD)
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/recordings/scorecard/{card['id']}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert "Nosaukta iestāde" in page.content.decode()
    assert admin.get("/admin/recordings/scorecard/add/").status_code == 403


def test_who_may_open_answer_and_read_scorecards(
    officer: Person, agent: Person, lead: Person, recording: Recording, tmp_path: Path
) -> None:
    second_officer = _client(_person(Role.QUALITY_OFFICER, "officer2"))
    handler = _client(_person(Role.EMAIL_HANDLER, "handler"))
    body = {"recording": recording.pk}
    assert _refusal(_client(agent).post("/api/scorecards/", body, format="json")) == (
        403,
        "scorecard_officers_only",
    )
    assert _refusal(_client(lead).post("/api/scorecards/", body, format="json")) == (
        403,
        "scorecard_officers_only",
    )
    assert handler.get("/api/scorecards/").status_code == 403
    card = _ok(_client(officer).post("/api/scorecards/", body, format="json"), 201)
    again = _ok(_client(officer).post("/api/scorecards/", body, format="json"), 201)
    assert again["id"] == card["id"]
    assert _refusal(second_officer.post("/api/scorecards/", body, format="json")) == (409, "scorecard_exists")
    url = f"/api/scorecards/{card['id']}/"
    answers = {"answers": _answers(GOOD)}
    assert _refusal(second_officer.patch(url, answers, format="json")) == (403, "scorecard_not_yours")
    assert _refusal(second_officer.post(f"{url}submit/")) == (403, "scorecard_not_yours")
    assert _refusal(_client(lead).patch(url, answers, format="json")) == (403, "scorecard_officers_only")
    assert _ok(_client(lead).get(url))["state"] == "draft"  # team leads read drafts too

    colleague = _person(Role.PHONE_AGENT, "colleague")
    other = _scored(_client(officer), _recorded(tmp_path, "call-2", colleague), GOOD)
    own_view = [row["id"] for row in _ok(_client(agent).get("/api/scorecards/"))["results"]]
    lead_view = [row["id"] for row in _ok(_client(lead).get("/api/scorecards/"))["results"]]
    assert own_view == []  # their own is still a draft; the colleague's is not theirs
    assert sorted(lead_view) == sorted([card["id"], other["id"]])


def test_the_list_filters_by_recording_agent_and_state_within_a_query_budget(
    officer: Person, agent: Person, lead: Person, tmp_path: Path, django_assert_max_num_queries: Any
) -> None:
    colleague = _person(Role.PHONE_AGENT, "colleague")
    officer_client = _client(officer)
    cards = {
        name: _scored(officer_client, _recorded(tmp_path, name, person), GOOD)
        for name, person in [("a1", agent), ("a2", agent), ("c1", colleague), ("c2", colleague)]
    }
    _client(agent).post(f"/api/scorecards/{cards['a1']['id']}/acknowledge/")
    _client(colleague).post(
        f"/api/scorecards/{cards['c1']['id']}/dispute/", {"comment": "Nepiekrītu"}, format="json"
    )
    draft = _ok(
        officer_client.post("/api/scorecards/", {"recording": _recorded(tmp_path, "d", agent).pk}), 201
    )
    lead_client = _client(lead)

    def ids(**params: Any) -> set[int]:
        return {row["id"] for row in _ok(lead_client.get("/api/scorecards/", params))["results"]}

    assert ids(agent=agent.pk) == {cards["a1"]["id"], cards["a2"]["id"], draft["id"]}
    assert ids(recording=cards["c2"]["recording"]) == {cards["c2"]["id"]}
    assert ids(state="draft") == {draft["id"]}
    assert ids(state="acknowledged") == {cards["a1"]["id"]}
    assert ids(state="disputed") == {cards["c1"]["id"]}
    assert ids(state="submitted") == {cards["a2"]["id"], cards["c2"]["id"]}
    assert lead_client.get("/api/scorecards/", {"state": "lost"}).status_code == 400
    with django_assert_max_num_queries(6):
        assert len(_ok(lead_client.get("/api/scorecards/"))["results"]) == 5


def test_trends_average_each_agents_scores_per_riga_week_and_month(
    officer: Person, agent: Person, lead: Person, tmp_path: Path
) -> None:
    colleague = _person(Role.PHONE_AGENT, "colleague")
    officer_client = _client(officer)
    middling = {"institution-named": 1, "own-name-given": 0, "courtesy": 3, "resolution": 1}
    poor = {"institution-named": 0, "own-name-given": 1, "courtesy": 1, "resolution": 0}
    calls = [  # (call, agent, Riga time of the call, answers)
        ("a-mon", agent, riga(2026, 4, 6, 9), GOOD),
        ("a-wed", agent, riga(2026, 4, 8, 15), middling),
        # Sunday late evening in Riga: still that week, though 20:30 UTC.
        ("a-sun", agent, riga(2026, 4, 12, 23, 30), poor),
        # 00:30 on Monday in Riga is 21:30 on Sunday in UTC: the next week here.
        ("a-next", agent, riga(2026, 4, 13, 0, 30), middling),
        ("c-tue", colleague, riga(2026, 4, 7, 10), poor),
        ("c-may", colleague, riga(2026, 5, 4, 10), GOOD),
    ]
    cards = {
        call: _scored(officer_client, _recorded(tmp_path, call, person, at), v)
        for call, person, at, v in calls
    }
    # Left out: a draft, and a scorecard whose dispute was upheld (its successor is still a draft).
    officer_client.post(
        "/api/scorecards/", {"recording": _recorded(tmp_path, "draft", agent, riga(2026, 4, 7, 9)).pk}
    )
    disputed = _scored(officer_client, _recorded(tmp_path, "upheld", agent, riga(2026, 4, 7, 11)), GOOD)
    _client(agent).post(f"/api/scorecards/{disputed['id']}/dispute/", {"comment": "Nepareizi"}, format="json")
    _client(lead).post(
        f"/api/scorecards/{disputed['id']}/resolve/", {"upheld": True, "comment": "Jāpārvērtē"}, format="json"
    )

    def average(*names: str) -> float:
        scores = [expected_score(values) for call, _, _, values in calls if call in names]
        assert [cards[name]["score"] for name in names] == scores
        return round(sum(scores) / len(scores), 1)

    def trend(client: APIClient, **params: Any) -> list[tuple[int, list[tuple[str, int, float]]]]:
        report = _ok(
            client.get("/api/scorecards/trends/", {"from": "2026-04-01", "to": "2026-05-31", **params})
        )
        return [
            (row["agent"], [(p["period_start"], p["scorecards"], p["average_score"]) for p in row["points"]])
            for row in report["agents"]
        ]

    agent_weeks = [
        ("2026-04-06", 3, average("a-mon", "a-wed", "a-sun")),
        ("2026-04-13", 1, average("a-next")),
    ]
    colleague_weeks = [("2026-04-06", 1, average("c-tue")), ("2026-05-04", 1, average("c-may"))]
    assert sorted(trend(_client(lead))) == sorted([(agent.pk, agent_weeks), (colleague.pk, colleague_weeks)])
    assert trend(_client(officer), period="month", agent=agent.pk) == [
        (agent.pk, [("2026-04-01", 4, average("a-mon", "a-wed", "a-sun", "a-next"))])
    ]
    assert trend(_client(agent)) == [(agent.pk, agent_weeks)]  # an agent sees their own
    assert _refusal(
        _client(agent).get(
            "/api/scorecards/trends/", {"from": "2026-04-01", "to": "2026-04-30", "agent": colleague.pk}
        )
    ) == (403, "trend_not_yours")
    assert (
        _client(lead).get("/api/scorecards/trends/", {"from": "2026-04-30", "to": "2026-04-01"}).status_code
        == 400
    )
