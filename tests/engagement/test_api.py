# ruff: noqa: RUF001  (Persian digits and letters are meant)
"""The engagement API: a shop owner writes a Persian Yalda campaign for consenting members, members read it
in their inbox (live count, mark read); templates are checked before they are saved (coded errors, nothing
changed); previews use a real member; cultural events and contact rules are validated."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from crm.services.segments import segment_save
from engagement.models import (
    Campaign,
    CampaignStatus,
    Channel,
    CulturalEvent,
    EngagementEvent,
    EngagementKind,
    EventStatus,
    MessageTemplate,
)
from engagement.services.delivery import deliver, due_events
from engagement.services.jobs import campaigns_due
from engagement.services.planning import plan
from loyalty.services.adjustments import points_adjust
from loyalty.services.orders import order_event_process
from marketplace.models import Category, Product, StaffRole
from marketplace.services.orders import OrderLineInput, order_event_record
from rewards.models import Reward
from tests.api.graphql import gid, gql, login
from tests.engagement.helpers import member, tehran_shop
from tests.factories import order_input, staff

pytestmark = pytest.mark.django_db

YALDA_FA = {
    "language": "fa",
    "subject": "شب یلدا مبارک، {{ member_name }}",
    "body": "بلندترین شب سال را با {{ shop_name }} جشن بگیرید. امتیاز شما: {{ points_available }}",
}
YALDA_EN = {"language": "en", "subject": "Happy Yalda, {{ member_name }}", "body": "Celebrate with {{ shop_name }}."}
CREATE = """mutation($shop: ID!, $input: CampaignInput!) { campaignCreate(shopId: $shop, input: $input) {
  campaign { id name status channels sendAt segmentId texts { language subject } } errors { code field message } } }"""
INBOX = """{ viewer { accounts(first: 5) { edges { node { inboxUnreadCount inbox(first: 5) { edges { node {
  id subject body channel status readAt } } } } } } } }"""


def test_an_owner_sends_a_persian_yalda_campaign_that_members_read_once_in_their_inbox():
    shop = tehran_shop(name="Saffron House")
    owner = staff(shop, StaffRole.OWNER)
    fan = member(shop, locale="fa", consent_email=True, display_name="مریم")
    quiet = member(shop, locale="en", consent_email=False, display_name="Tom")
    segment = segment_save(
        user=owner, shop_id=shop.pk, name="E-mail fans", kind="dynamic", criteria={"consentEmail": True}
    )
    body = gql(
        login(owner),
        CREATE,
        {
            "shop": gid("Shop", shop.pk),
            "input": {
                "name": "Yalda 1405",
                "channels": ["INBOX", "EMAIL"],
                "segmentId": gid("Segment", segment.pk),
                "texts": [YALDA_EN, YALDA_FA],
            },
        },
    )["data"]["campaignCreate"]
    assert body["errors"] == []
    assert body["campaign"]["status"] == "SCHEDULED"
    # when the dispatcher runs (twice: a restart), the campaign's messages are planned once
    now = timezone.now()
    assert campaigns_due(now=now) == 1
    assert campaigns_due(now=now) == 0
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.planned) == (CampaignStatus.SENT, 2)
    events = EngagementEvent.objects.filter(campaign=campaign)
    assert set(events.values_list("account_id", "channel")) == {(fan.pk, Channel.INBOX), (fan.pk, Channel.EMAIL)}
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for event_id in due_events(now=now + dt.timedelta(hours=12)):  # after the quiet hours
            deliver(event_id, now=now + dt.timedelta(hours=12))
            deliver(event_id, now=now + dt.timedelta(hours=12))  # a duplicate delivery message
        assert [m.subject for m in mail.outbox] == ["شب یلدا مبارک، مریم"]
    # the member reads it in their inbox, in Persian, once
    client = login(fan.customer.user)
    account = gql(client, INBOX)["data"]["viewer"]["accounts"]["edges"][0]["node"]
    assert account["inboxUnreadCount"] == 1
    (message,) = [edge["node"] for edge in account["inbox"]["edges"]]
    assert message["subject"] == "شب یلدا مبارک، مریم"
    assert "Saffron House" in message["body"]
    read = gql(
        client, "mutation($id: ID!) { inboxMarkRead(ids: [$id]) { count errors { code } } }", {"id": message["id"]}
    )
    assert read["data"]["inboxMarkRead"] == {"count": 1, "errors": []}
    assert gql(client, INBOX)["data"]["viewer"]["accounts"]["edges"][0]["node"]["inboxUnreadCount"] == 0
    # another member cannot mark it (their ids only), and the quiet member got nothing
    other = login(quiet.customer.user)
    assert (
        gql(other, "mutation($id: ID!) { inboxMarkRead(ids: [$id]) { count } }", {"id": message["id"]})["data"][
            "inboxMarkRead"
        ]["count"]
        == 0
    )
    assert not EngagementEvent.objects.filter(account=quiet).exists()


@pytest.mark.parametrize(
    ("texts", "channels", "code", "field"),
    [
        ([{"language": "en", "subject": "Hi {{ password }}", "body": "x"}], ["INBOX"], "INVALID_TEMPLATE", "subject"),
        ([{"language": "en", "subject": "Hi", "body": "{% if %}"}], ["INBOX"], "INVALID_TEMPLATE", "body"),
        ([YALDA_FA], ["INBOX"], "INVALID_INPUT", "texts"),
        ([YALDA_EN], [], "INVALID_INPUT", "channels"),
        ([{"language": "de", "subject": "Hallo", "body": "x"}, YALDA_EN], ["INBOX"], "INVALID_INPUT", "texts"),
    ],
)
def test_a_bad_campaign_is_refused_with_a_code_and_nothing_is_saved(texts, channels, code, field):
    shop = tehran_shop()
    owner = staff(shop, StaffRole.OWNER)
    body = gql(
        login(owner),
        CREATE,
        {"shop": gid("Shop", shop.pk), "input": {"name": "Bad", "channels": channels, "texts": texts}},
    )["data"]["campaignCreate"]
    assert body["campaign"] is None
    assert [(e["code"], e["field"]) for e in body["errors"]] == [(code, field)]
    assert Campaign.objects.count() == 0


def test_templates_are_checked_saved_previewed_with_a_member_and_reset():
    shop = tehran_shop(name="Saffron House")
    owner = login(staff(shop, StaffRole.OWNER))
    fan = member(shop, locale="fa", display_name="مریم")
    save = """mutation($shop: ID!, $input: MessageTemplateInput!) { messageTemplateSave(shopId: $shop, input: $input)
      { template { kind language isDefault subject } errors { code field message } } }"""
    bad = {"kind": "BIRTHDAY", "language": "fa", "subject": "تولدت مبارک", "body": "{{ code }}"}
    refused = gql(owner, save, {"shop": gid("Shop", shop.pk), "input": bad})["data"]["messageTemplateSave"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_TEMPLATE", "body")]
    assert "Unknown variable 'code'" in refused["errors"][0]["message"]
    assert MessageTemplate.objects.count() == 0
    good = {**bad, "body": "{{ member_name }} عزیز، تولدتان مبارک! {{ bonus_points }}"}
    saved = gql(owner, save, {"shop": gid("Shop", shop.pk), "input": good})["data"]["messageTemplateSave"]
    assert saved["template"] == {"kind": "BIRTHDAY", "language": "fa", "isDefault": False, "subject": "تولدت مبارک"}
    listed = gql(
        owner,
        "query($slug: String!) { shop(slug: $slug) { messageTemplates { kind language isDefault variables } } }",
        {"slug": shop.slug},
    )["data"]["shop"]["messageTemplates"]
    assert len(listed) == len(EngagementKind.values) * 2
    birthday_fa = next(t for t in listed if (t["kind"], t["language"]) == ("BIRTHDAY", "fa"))
    assert birthday_fa["isDefault"] is False
    assert "member_name" in birthday_fa["variables"]
    preview = gql(
        owner,
        """mutation($shop: ID!, $input: MessageTemplateInput!, $account: ID!) { messagePreview(shopId: $shop,
          input: $input, accountId: $account) { preview { subject body } errors { code } } }""",
        {"shop": gid("Shop", shop.pk), "input": good, "account": gid("MemberAccount", fan.pk)},
    )["data"]["messagePreview"]
    assert preview["preview"]["body"] == "مریم عزیز، تولدتان مبارک! ۵۰۰"
    reset = gql(
        owner,
        'mutation($shop: ID!) { messageTemplateReset(shopId: $shop, kind: BIRTHDAY, language: "fa") '
        "{ template { isDefault subject } } }",
        {"shop": gid("Shop", shop.pk)},
    )["data"]["messageTemplateReset"]
    assert reset["template"] == {"isDefault": True, "subject": "{{ member_name }} عزیز، تولدتان مبارک!"}
    assert MessageTemplate.objects.count() == 0


def test_cultural_events_and_contact_rules_are_validated():
    shop = tehran_shop()
    owner = login(staff(shop, StaffRole.OWNER))
    save = """mutation($shop: ID!, $input: CulturalEventInput!) { culturalEventSave(shopId: $shop, input: $input)
      { event { name calendar month day bonusPoints } errors { code field } } }"""
    nowruz = {"name": "Nowruz", "nameFa": "نوروز", "calendar": "JALALI", "month": 1, "day": 1, "bonusPoints": 200}
    for wrong, field in (
        ({"day": 31, "month": 7}, "day"),
        ({"month": 13}, "month"),
        ({"bonusPoints": -1}, "bonusPoints"),
    ):
        body = gql(owner, save, {"shop": gid("Shop", shop.pk), "input": {**nowruz, **wrong}})["data"][
            "culturalEventSave"
        ]
        assert [(e["code"], e["field"]) for e in body["errors"]] == [("INVALID_INPUT", field)]
    assert CulturalEvent.objects.count() == 0
    body = gql(owner, save, {"shop": gid("Shop", shop.pk), "input": nowruz})["data"]["culturalEventSave"]
    assert body["event"] == {"name": "Nowruz", "calendar": "JALALI", "month": 1, "day": 1, "bonusPoints": 200}
    rules = """mutation($shop: ID!, $cap: Int!) { contactRulesSet(shopId: $shop, input: {quietStart: "22:00:00",
      quietEnd: "08:00:00", weeklyCap: $cap, winBackDays: 60, expiringDays: 7}) { rules { weeklyCap quietStart }
      errors { code field } } }"""
    refused = gql(owner, rules, {"shop": gid("Shop", shop.pk), "cap": 0})["data"]["contactRulesSet"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "weeklyCap")]
    done = gql(owner, rules, {"shop": gid("Shop", shop.pk), "cap": 2})["data"]["contactRulesSet"]
    assert done["rules"] == {"weeklyCap": 2, "quietStart": "22:00:00"}


def test_the_weekly_cap_skips_a_fourth_marketing_message(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop = tehran_shop()
    account = member(shop, consent_email=True)
    noon = dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC)
    statuses = []
    for day in range(4):
        at = noon + dt.timedelta(days=day)
        event = plan(
            account=account,
            kind="campaign",
            key=f"c{day}",
            channels=[Channel.EMAIL],
            texts={"en": {"subject": "News", "body": "x {{ unsubscribe_url }}"}},
            planned_at=at,
        ).events[0]
        statuses.append(deliver(event.pk, now=at).status)
    assert statuses == [EventStatus.SENT] * 3 + [EventStatus.SKIPPED_CAP]


def test_gift_suggestions_offer_what_the_points_buy_then_the_favourite_categorys_best_sellers():
    shop = tehran_shop()
    owner_user = staff(shop, StaffRole.OWNER)
    owner = login(owner_user)
    saffron = Category.objects.create(slug="saffron", name="Saffron")
    tea = Category.objects.create(slug="tea", name="Tea")
    fan, others = member(shop), [member(shop) for _ in range(2)]

    def buy(account, order_id: str, name: str, category: Category) -> None:
        data = order_input(shop, order_id, customer=account.customer)
        line = OrderLineInput(
            quantity=1, unit_price=Decimal("50.00"), category_slug=category.slug, product_external_id=name
        )
        recorded = order_event_record(
            data=replace(data, lines=(line,)), idempotency_key=order_id, actor=None, notify=False
        )
        order_event_process(event_id=recorded.event.pk, broadcast=False)

    buy(fan, "F1", "Saffron 5g", saffron)
    for n, other in enumerate(others):
        buy(other, f"O{n}", "Saffron 10g", saffron)
    buy(others[0], "O9", "Black tea", tea)
    Product.objects.filter(shop=shop).update(name=F("external_id"))  # names as the shop's catalogue gives them
    # earned points are still pending: 60 available from the owner
    points_adjust(user=owner_user, account_id=fan.pk, points=60, reason="Welcome gift", idempotency_key="gift-60")
    Reward.objects.create(program=shop.program, name="Tea glass", kind="gift", points_cost=40)
    Reward.objects.create(program=shop.program, name="Samovar", kind="gift", points_cost=5000)
    query = "query($slug: String!, $id: ID!) { shop(slug: $slug) { member(id: $id) { giftSuggestions } } }"
    got = gql(owner, query, {"slug": shop.slug, "id": gid("MemberAccount", fan.pk)})["data"]["shop"]["member"]
    # 60 points buy the tea glass, not the samovar; then the saffron others bought and they did not (not tea:
    # not one of their categories)
    assert got["giftSuggestions"] == ["Tea glass", "Saffron 10g"]
