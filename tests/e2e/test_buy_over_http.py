"""Buying in the chat, over HTTP end to end: the order, the signed payment, the buyer told.

The real app serves the demo data on SQLite with the payment webhook on. Ana Silva, Northwind's
global administrator, buys a support-incident pack in her Teams chat; the payment provider's
signed notification pays it; the app posts "Payment received" to her conversation at a
connector stand-in; she activates the benefit, twice, and it is activated once. In English and
in Chinese, in the catalog-only language mode: nothing she reads is in the other language.
"""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.payments import PAYMENTS_PATH, signature
from services import db
from services.clock import SystemClock
from services.demo_data import load_demo
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.support.chat import card_parts
from tests.support.connector import connector_stand_in
from tests.support.teams import teams_user, texts

SECRET = "whsec-test-buy-2c7e"

pytestmark = pytest.mark.usefixtures("catalog_only_language")


@pytest.fixture
async def base_url(sqlite_url, serve_app):
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), SystemClock())
    await engine.dispose()
    return await serve_app(
        make_settings(sqlite_url, payment_webhook_secret=SECRET, reminders_enabled=False)
    )


async def test_a_bought_offer_is_paid_by_the_webhook_the_buyer_is_told_and_activates_once(
    base_url,
):
    async with aiohttp.ClientSession() as http, connector_stand_in() as connector:
        ana = teams_user(http, base_url, connector)
        hub = await ana.send("Buy and activate benefits")
        offers = await ana.click_in(hub, "Buy offers")
        question = await ana.click_in(offers, "Product support incidents (5-pack)")
        placed = await ana.click_in(question, "Place the order")
        order_id = texts(placed).split("Order ", 1)[1].split(" ", 1)[0]

        body = json.dumps({"order_id": order_id, "reference": "pi_77", "status": "paid"}).encode()
        headers = {"Content-Type": "application/json", "X-Signature": signature(SECRET, body)}
        async with http.post(base_url + PAYMENTS_PATH, data=body, headers=headers) as response:
            paid = response.status, await response.json()
        [notice] = await connector.wait_for(1)

        listed = await ana.click(
            notice["attachments"][0]["content"], "Activate and manage benefits"
        )
        activated = await ana.click_in(listed, "Activate: Product support incidents")
        again = await ana.click_in(listed, "Activate: Product support incidents")  # older card
        status = await ana.send("Membership status")

    assert "Order Product support incidents (5-pack) for HKD 19,500?" in texts(question)
    assert f"Order {order_id} is placed: HKD 19,500, waiting for payment." in texts(placed)
    assert paid == (200, {"order_id": order_id, "status": "paid", "newly_paid": True})
    assert notice["_conversation"] == ana.conversation["id"]
    notice_texts = card_parts(notice["attachments"][0]["content"])[0]
    assert notice_texts[:2] == [
        "Payment received",
        f"Order {order_id} (HKD 19,500) is paid. Your benefits are ready:",
    ]
    assert "• 5 × Product support incidents" in notice_texts
    assert "Product support incidents is active: activated by Ana Silva" in texts(activated)
    assert "Product support incidents was already activated, by Ana Silva" in texts(again)
    assert "✅ Product support incidents: 0 of 5 incidents used" in texts(status)


async def test_a_chinese_buyer_is_told_of_the_payment_in_chinese_and_activates_in_it(base_url):
    async with aiohttp.ClientSession() as http, connector_stand_in() as connector:
        ana = teams_user(http, base_url, connector, locale="zh-TW")
        hub = await ana.send("購買及啟用權益")
        offers = await ana.click_in(hub, "購買方案")
        question = await ana.click_in(offers, "產品支援事件 (5 件組)")
        placed = await ana.click_in(question, "下訂單")
        order_id = texts(placed).split("已下訂單 ", 1)[1].split("：", 1)[0]

        body = json.dumps({"order_id": order_id, "reference": "pi_78", "status": "paid"}).encode()
        headers = {"Content-Type": "application/json", "X-Signature": signature(SECRET, body)}
        async with http.post(base_url + PAYMENTS_PATH, data=body, headers=headers) as response:
            assert response.status == 200
        [notice] = await connector.wait_for(1)
        listed = await ana.click(notice["attachments"][0]["content"], "啟用及管理權益")
        activated = await ana.click_in(listed, "啟用：產品支援事件")

    notice_texts = card_parts(notice["attachments"][0]["content"])[0]
    assert notice_texts[:2] == [
        "已收到付款",
        f"訂單 {order_id}（HKD 19,500）已付款。您的權益已就緒：",
    ]
    assert "• 5 × 產品支援事件" in notice_texts
    assert "產品支援事件 已啟用：由 Ana Silva" in texts(activated)
