"""A centre's own users change their sites and certifications on /centre/profile.

Each test reads the page as a browser would (every input, ticked box and chosen option of
the form), changes what a person would change, and posts the result. The lists go through
the same CentreUpdateSchema and editing service as PATCH /api/v1/centres/<slug>.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from marketplace.catalogue.models import CentreEditReview
from marketplace.extensions import db
from tests.catalogue.test_services_update import audit_events
from tests.date_inputs import date_error, highlighted, summary_links, visible
from tests.factories import CentreSiteFactory, CertificationFactory, ServiceLineFactory


class _Form(HTMLParser):
    """What the page's form would send: (name, value) pairs, in page order."""

    def __init__(self):
        super().__init__()
        self.pairs: list[list[str]] = []
        self._select: str | None = None
        self._chosen: list[str] | None = None
        self._first: str | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") != "submit":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append([a["name"], a.get("value", "")])
        elif tag == "select":
            self._select, self._chosen, self._first = a["name"], None, None
        elif tag == "option" and self._select is not None:
            if self._first is None:
                self._first = a.get("value", "")
            if "selected" in a:
                self._chosen = [a.get("value", "")]
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
            self.pairs.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            self.pairs.append([self._select, (self._chosen or [self._first or ""])[0]])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._textarea[1] = self._textarea[1].removeprefix("\n")
            self._textarea = None


def read_form(html: str) -> dict:
    """The form's fields; a name sent more than once (service_lines) as a list."""
    start = html.index('<form method="post" action="/centre/profile"')
    parser = _Form()
    parser.feed(html[start : html.index("</form>", start)])
    data: dict = {}
    for name, value in parser.pairs:
        if name in data:
            data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value]
        else:
            data[name] = value
    return data


def inline_error(html: str, input_id: str) -> str:
    """The error message shown next to an input, which the input is described by."""
    tag = re.search(rf'<(?:input|select)[^>]*\bid="{input_id}"[^>]*>', html, flags=re.S)
    assert tag, f"no input {input_id}"
    assert f"{input_id}-error" in tag.group(0), f"{input_id} is not described by its error"
    match = re.search(
        rf'<p id="{input_id}-error" class="govuk-error-message">(.*?)</p>', html, re.S
    )
    return visible(match.group(1)).removeprefix("Error:").strip()


def expiry(index: int, day: str, month: str, year: str) -> dict[str, str]:
    """What a person types in the Day, Month and Year boxes of a row's expiry date."""
    name = f"certifications-{index}-expires_on"
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def typed_expiry(data: dict, index: int) -> tuple[str, str, str]:
    name = f"certifications-{index}-expires_on"
    return (data[f"{name}-day"], data[f"{name}-month"], data[f"{name}-year"])


def label_for(html: str, input_id: str) -> str:
    match = re.search(
        rf'<label class="govuk-label[^"]*" for="{input_id}">(.*?)</label>', html, re.S
    )
    assert match, f"no label for {input_id}"
    return visible(match.group(1))


def sites(centre) -> list[tuple[str, str, str]]:
    db.session.expire(centre)
    return [(s.name, s.town, s.region) for s in centre.sites]


def certifications(centre) -> list[tuple[str, str, date]]:
    db.session.expire(centre)
    return sorted((c.scheme, c.reference, c.expires_on) for c in centre.certifications)


def reviews() -> list[CentreEditReview]:
    return list(db.session.execute(db.select(CentreEditReview)).scalars())


@pytest.fixture
def centre(personas):
    """Centre A, live in the catalogue, with two sites and one certification."""
    own = personas["centre"]
    ServiceLineFactory(code="finance")
    CentreSiteFactory(centre=own, name="Head office", town="Newport", region="Wales", position=0)
    CentreSiteFactory(centre=own, name="Annex", town="Cardiff", region="Wales", position=1)
    CertificationFactory(
        centre=own, scheme="iso27001", reference="IS-100", expires_on=date(2027, 6, 30)
    )
    db.session.flush()
    db.session.expire(own)
    return own


@pytest.fixture
def user(as_persona, centre):
    return as_persona("centre_user")


def page(client) -> str:
    response = client.get("/centre/profile")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def save(client, data: dict):
    return client.post("/centre/profile", data=data)


# --- what the page shows -------------------------------------------------------------------


def test_the_page_lists_saved_rows_with_remove_boxes_and_blank_rows_to_add(user):
    html = page(user)
    data = read_form(html)
    assert (data["sites-0-name"], data["sites-0-town"], data["sites-0-region"]) == (
        "Head office",
        "Newport",
        "Wales",
    )
    assert data["sites-1-name"] == "Annex"
    assert data["sites-2-name"] == data["sites-3-name"] == ""  # two blank rows to add sites
    assert "sites-4-name" not in data
    assert (data["sites-rows"], data["sites-saved"]) == ("4", "2")
    assert data["certifications-0-scheme"] == "iso27001"
    assert data["certifications-0-reference"] == "IS-100"
    assert typed_expiry(data, 0) == ("30", "6", "2027")
    assert data["certifications-1-scheme"] == data["certifications-2-scheme"] == ""
    assert "certifications-3-scheme" not in data

    # Every input has its own label, each row a fieldset with a legend, and only saved
    # rows can be removed.
    assert label_for(html, "sites-0-name") == "Name"
    assert label_for(html, "sites-3-region").startswith("Region")
    assert label_for(html, "sites-1-remove") == "Remove this site"
    assert label_for(html, "certifications-1-scheme") == "Certification"
    # The expiry date is a GOV.UK date input: a fieldset of Day, Month and Year boxes.
    for index in (0, 1, 2):
        name = f"certifications-{index}-expires_on"
        assert [label_for(html, f"{name}-{part}") for part in ("day", "month", "year")] == [
            "Day",
            "Month",
            "Year",
        ]
        assert re.search(
            rf'<div id="{name}-hint" class="govuk-hint">\s*For example, 31 3 2028', html
        )
    assert len(re.findall(r"<legend[^>]*>\s*Expiry date\s*</legend>", html)) == 3
    assert "YYYY-MM-DD" not in visible(html)
    assert label_for(html, "certifications-0-remove") == "Remove this certification"
    assert 'id="sites-2-remove"' not in html and 'id="certifications-1-remove"' not in html
    legends = re.findall(r'<legend class="govuk-fieldset__legend[^"]*">(.*?)</legend>', html)
    assert [text for text in legends if "site" in text.lower()] == [
        "Site 1",
        "Site 2",
        "New site 1",
        "New site 2",
    ]
    assert "Certification 1" in legends and "New certification 2" in legends
    options = re.findall(r'<option value="([^"]*)"', html)
    assert options[:6] == [
        "",
        "iso27001",
        "cyber_essentials_plus",
        "iso9001",
        "iso22301",
        "isae3402",
    ]
    assert "ISAE 3402 / SOC 1" in html
    assert "changed through the API" not in html


def test_no_blank_certification_rows_once_every_scheme_is_held(user, centre):
    for scheme in ("cyber_essentials_plus", "iso9001", "iso22301", "isae3402"):
        CertificationFactory(centre=centre, scheme=scheme)
    db.session.flush()
    data = read_form(page(user))
    assert (data["certifications-rows"], data["certifications-saved"]) == ("5", "5")


def test_saving_the_page_as_it_is_changes_nothing(user, centre):
    response = save(user, read_form(page(user)))
    assert response.status_code == 302
    assert "Nothing changed." in page(user)
    assert sites(centre) == [
        ("Head office", "Newport", "Wales"),
        ("Annex", "Cardiff", "Wales"),
    ]
    assert audit_events(centre) == [] and reviews() == []


# --- sites ---------------------------------------------------------------------------------


def test_add_a_site(user, centre, as_persona):
    data = read_form(page(user))
    data.update({"sites-3-name": "North", "sites-3-town": "Wrexham", "sites-3-region": "Wales"})
    response = save(user, data)
    assert response.status_code == 302
    assert "Your entry is updated and public now." in page(user)
    assert sites(centre) == [
        ("Head office", "Newport", "Wales"),
        ("Annex", "Cardiff", "Wales"),
        ("North", "Wrexham", "Wales"),
    ]
    assert "Wrexham" in as_persona("anonymous").get("/centres/centre-a").get_data(as_text=True)
    # The next visit shows it as a saved row, with two new blank rows after it.
    again = read_form(page(user))
    assert again["sites-2-name"] == "North" and again["sites-saved"] == "3"
    assert again["sites-4-name"] == "" and again["sites-rows"] == "5"


def test_rename_a_site(user, centre):
    data = read_form(page(user))
    data.update({"sites-1-name": "Cardiff annex", "sites-1-region": "South Wales"})
    assert save(user, data).status_code == 302
    assert sites(centre) == [
        ("Head office", "Newport", "Wales"),
        ("Cardiff annex", "Cardiff", "South Wales"),
    ]
    [event] = audit_events(centre)
    assert event.actor_id is not None
    assert event.detail["changed"] == {
        "sites": {
            "before": [
                {"name": "Head office", "town": "Newport", "region": "Wales"},
                {"name": "Annex", "town": "Cardiff", "region": "Wales"},
            ],
            "after": [
                {"name": "Head office", "town": "Newport", "region": "Wales"},
                {"name": "Cardiff annex", "town": "Cardiff", "region": "South Wales"},
            ],
        }
    }


def test_remove_a_site(user, centre, as_persona):
    data = read_form(page(user))
    data["sites-0-remove"] = "yes"
    assert save(user, data).status_code == 302
    assert sites(centre) == [("Annex", "Cardiff", "Wales")]
    assert "Newport" not in visible(
        as_persona("anonymous").get("/centres/centre-a").get_data(as_text=True)
    )


def test_remove_every_site(user, centre):
    data = read_form(page(user))
    data.update({"sites-0-remove": "yes", "sites-1-remove": "yes"})
    assert save(user, data).status_code == 302
    assert sites(centre) == []
    assert read_form(page(user))["sites-rows"] == "2"


def test_a_missing_site_name_is_shown_at_that_row_and_nothing_changes(user, centre):
    data = read_form(page(user))
    # The first site is removed and the first new row left blank, so the nameless site is
    # the schema's 'sites.1'; the error must still reach the fourth row on the page.
    data.update({"sites-0-remove": "yes", "sites-3-town": "Wrexham", "summary": "Changed"})
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    api = user.patch(
        "/api/v1/centres/centre-a",
        json={
            "sites": [
                {"name": "Annex", "town": "Cardiff", "region": "Wales"},
                {"name": "", "town": "Wrexham", "region": ""},
            ]
        },
    )
    [api_error] = api.get_json()["errors"]
    assert api_error["field"] == "sites.1.name"
    message = api_error["message"]  # the same input gets the same answer
    assert summary_links(html) == [("#sites-3-name", message)]
    assert inline_error(html, "sites-3-name") == message
    assert html.startswith("<!DOCTYPE html>") and "<title>Error: " in html
    # What was typed is still there, the removal still ticked.
    again = read_form(html)
    assert again["sites-3-town"] == "Wrexham" and again["sites-0-remove"] == "yes"
    assert again["summary"] == "Changed"
    assert sites(centre) == [
        ("Head office", "Newport", "Wales"),
        ("Annex", "Cardiff", "Wales"),
    ]
    assert centre.summary != "Changed"
    assert audit_events(centre) == [] and reviews() == []


def test_clearing_a_saved_site_is_an_error_not_a_removal(user, centre):
    data = read_form(page(user))
    data.update({"sites-1-name": "", "sites-1-town": "", "sites-1-region": ""})
    response = save(user, data)
    assert response.status_code == 400
    [(href, _)] = summary_links(response.get_data(as_text=True))
    assert href == "#sites-1-name"
    assert len(sites(centre)) == 2


def test_two_sites_with_one_name_point_at_the_second(user, centre):
    data = read_form(page(user))
    data.update({"sites-2-name": "annex", "sites-2-town": "Bridgend"})
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert summary_links(html) == [("#sites-2-name", "Give each site a different name.")]
    assert inline_error(html, "sites-2-name") == "Give each site a different name."
    assert len(sites(centre)) == 2


# --- certifications ------------------------------------------------------------------------


def test_add_and_remove_a_certification(user, centre, as_persona):
    data = read_form(page(user))
    data.update(
        {
            "certifications-0-remove": "yes",
            "certifications-1-scheme": "cyber_essentials_plus",
            "certifications-1-reference": "CE-9",
            **expiry(1, " 31 ", "Mar", "2027"),  # a month may be written as a word
        }
    )
    assert save(user, data).status_code == 302
    assert certifications(centre) == [("cyber_essentials_plus", "CE-9", date(2027, 3, 31))]
    public = visible(as_persona("anonymous").get("/centres/centre-a").get_data(as_text=True))
    assert "Cyber Essentials Plus" in public and "ISO/IEC 27001" not in public
    again = read_form(page(user))
    assert again["certifications-0-scheme"] == "cyber_essentials_plus"
    assert typed_expiry(again, 0) == ("31", "3", "2027")


def test_change_a_certification_expiry(user, centre):
    data = read_form(page(user))
    data.update(expiry(0, "30", "June", "2029"))
    assert save(user, data).status_code == 302
    assert certifications(centre) == [("iso27001", "IS-100", date(2029, 6, 30))]


BAD_EXPIRY = "the expiry date of new certification 2"


@pytest.mark.parametrize(
    ("typed", "message", "wrong"),
    [
        (
            ("30", "2", "2027"),
            f"{BAD_EXPIRY} must be a real date: February 2027 has 28 days.",
            ["day"],
        ),
        (
            ("31", "4", "2027"),
            f"{BAD_EXPIRY} must be a real date: April 2027 has 30 days.",
            ["day"],
        ),
        (("", "", ""), f"Enter {BAD_EXPIRY}.", ["day", "month", "year"]),
        (("30", "", "2027"), f"{BAD_EXPIRY} must include a month.", ["month"]),
        (("", "", "2027"), f"{BAD_EXPIRY} must include a day and month.", ["day", "month"]),
        (("30", "6", "27"), f"{BAD_EXPIRY} must include a year of 4 numbers, like 2027.", ["year"]),
        (("30", "Juno", "2027"), f"{BAD_EXPIRY} must be a real date.", ["month"]),
        (("32", "13", "2027"), f"{BAD_EXPIRY} must be a real date.", ["day", "month"]),
    ],
    ids=[
        "30-february",
        "31-april",
        "blank",
        "no-month",
        "no-day-or-month",
        "short-year",
        "bad-month",
        "out-of-range",
    ],
)
def test_a_bad_expiry_date_is_shown_at_its_first_wrong_box_and_nothing_changes(
    user, centre, typed, message, wrong
):
    data = read_form(page(user))
    data.update(
        {
            "sites-2-name": "North",  # a valid change alongside is not saved either
            "certifications-2-scheme": "iso9001",
            **expiry(2, *typed),
        }
    )
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    message = message[0].upper() + message[1:]
    name = "certifications-2-expires_on"
    assert summary_links(html) == [(f"#{name}-{wrong[0]}", message)]
    assert date_error(html, name) == message
    assert highlighted(html, name) == wrong
    assert typed_expiry(read_form(html), 2) == typed  # what was typed is kept
    assert read_form(html)["sites-2-name"] == "North"
    assert len(sites(centre)) == 2
    assert certifications(centre) == [("iso27001", "IS-100", date(2027, 6, 30))]
    assert audit_events(centre) == [] and reviews() == []


def test_a_huge_number_in_a_date_box_is_refused_not_a_server_error(user, centre):
    data = read_form(page(user))
    data.update({"certifications-2-scheme": "iso9001", **expiry(2, "9" * 100_000, "6", "2027")})
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    name = "certifications-2-expires_on"
    assert date_error(html, name) == "The expiry date of new certification 2 must be a real date."
    assert typed_expiry(read_form(html), 2) == ("9" * 20, "6", "2027")  # echoed, but cut short


def test_a_certification_listed_twice_points_at_the_second(user, centre):
    data = read_form(page(user))
    data.update({"certifications-1-scheme": "iso27001", **expiry(1, "1", "1", "2028")})
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert summary_links(html) == [("#certifications-1-scheme", "List each certification once.")]
    assert inline_error(html, "certifications-1-scheme") == "List each certification once."


def test_a_new_certification_without_a_scheme_is_shown_at_its_select(user, centre):
    data = read_form(page(user))
    data.update(expiry(1, "1", "1", "2028"))
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    [(href, text)] = summary_links(html)
    assert href == "#certifications-1-scheme"
    assert text == "Choose the certification scheme."
    assert inline_error(html, "certifications-1-scheme") == text


# --- other fields, other people ------------------------------------------------------------


def test_a_form_without_rows_leaves_the_lists_alone(user, centre):
    data = {k: v for k, v in read_form(page(user)).items() if not k.startswith(("sites", "cert"))}
    data["platform"] = "Workday"
    assert save(user, data).status_code == 302
    assert centre.platform == "Workday"
    assert len(sites(centre)) == 2 and len(certifications(centre)) == 1


def test_an_error_elsewhere_keeps_the_rows_as_typed(user, centre):
    data = read_form(page(user))
    data.update({"ownership-employee": "50", "sites-2-name": "North", "sites-1-remove": "yes"})
    response = save(user, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert summary_links(html)[0][0] == "#ownership-employee"
    again = read_form(html)
    assert again["sites-2-name"] == "North" and again["sites-1-remove"] == "yes"
    assert (again["sites-rows"], again["sites-saved"]) == ("4", "2")
    assert len(sites(centre)) == 2


def test_another_centres_user_changes_only_their_own_entry(as_persona, personas, centre):
    other = personas["other_centre"]
    client = as_persona("other_centre_user")
    html = page(client)
    assert "Head office" not in html and "Centre B Services" in html
    data = read_form(html)
    # Rows crafted to look like centre A's, with its site names, still land on centre B.
    data.update(
        {
            "sites-rows": "3",
            "sites-saved": "1",
            "sites-0-name": "Head office",
            "sites-0-remove": "yes",
            "sites-1-name": "Takeover",
            "certifications-0-scheme": "iso27001",
            **expiry(0, "1", "1", "2030"),
        }
    )
    assert save(client, data).status_code == 302
    assert sites(other) == [("Takeover", "", "")]
    assert sites(centre) == [
        ("Head office", "Newport", "Wales"),
        ("Annex", "Cardiff", "Wales"),
    ]
    assert certifications(centre) == [("iso27001", "IS-100", date(2027, 6, 30))]
    assert audit_events(centre) == []
    assert {review.centre_id for review in reviews()} == {other.id}


def test_buyers_cannot_post_rows(as_persona, centre):
    response = as_persona("buyer").post(
        "/centre/profile", data={"sites-rows": "1", "sites-saved": "0", "sites-0-name": "X"}
    )
    assert response.status_code == 403
    assert len(sites(centre)) == 2


def test_a_change_to_a_live_entry_is_queued_with_before_and_after(user, centre, as_persona):
    data = read_form(page(user))
    data.update(
        {
            "sites-1-remove": "yes",
            "sites-2-name": "North",
            "sites-2-town": "Wrexham",
            "certifications-1-scheme": "iso9001",
            "certifications-1-reference": "Q-7",
            **expiry(1, "29", "2", "2028"),
        }
    )
    response = save(user, data)
    assert response.status_code == 302
    [review] = reviews()
    assert review.status == "pending" and review.highlighted == []
    assert set(review.changes) == {"sites", "certifications"}
    [event] = audit_events(centre)
    assert review.audit_event_id == event.id

    admin = as_persona("admin")
    assert "Centre A Services" in admin.get("/admin/reviews").get_data(as_text=True)
    diff = visible(admin.get(f"/admin/reviews/{review.public_id}").get_data(as_text=True))
    assert "Head office, Newport, Wales; Annex, Cardiff, Wales" in diff  # before
    assert "Head office, Newport, Wales; North, Wrexham" in diff  # after
    # Dates as every page writes them, not ISO.
    assert "ISO/IEC 27001 IS-100, expires 30 June 2027" in diff
    after = "ISO/IEC 27001 IS-100, expires 30 June 2027; ISO 9001 Q-7, expires 29 February 2028"
    assert after in diff
    assert "2027-06-30" not in diff


def test_email_date_and_ownership_errors_are_shown_at_once(user, centre):
    """Issue 14: the ownership sum was reported only after the e-mail and dates were fixed."""
    data = read_form(page(user))
    data.update(
        {
            "contact-email": "not an address",
            "certifications-2-scheme": "iso9001",
            **expiry(2, "31", "", "2027"),
            "ownership-employee": "50",
            "ownership-government": "40",
            "ownership-private_partner": "25",
        }
    )
    response = save(user, data)
    assert response.status_code == 400
    messages = [message for _href, message in summary_links(response.get_data(as_text=True))]
    assert "The expiry date of new certification 2 must include a month." in messages
    assert any("e-mail" in m.lower() or "email" in m.lower() for m in messages), messages
    assert "Ownership shares must add up to 100%. These add up to 115%." in messages
    assert audit_events(centre) == [] and reviews() == []
