"""Message bodies: plain text, markdown, keyboards only when approved, reply fields."""

from __future__ import annotations

from adapters.qq.encode import message_body
from bot.actions import Button

BUTTONS = ((Button("Coffee", data="poll:1:0"), Button("Tea", data="poll:1:1")), (Button("Site", url="https://x.cn"),))


def test_plain_text_reply_carries_msg_id_and_seq() -> None:
    body = message_body("hi *you*", (), markdown=False, use_keyboard=False, reply=("msg_id", "M1", 2))
    assert body == {"msg_type": 0, "content": "hi *you*", "msg_id": "M1", "msg_seq": 2}


def test_event_id_replies_and_proactive_messages() -> None:
    assert message_body("x", (), markdown=False, use_keyboard=False, reply=("event_id", "E1", 1))["event_id"] == "E1"
    assert "msg_seq" not in message_body("x", (), markdown=False, use_keyboard=False, reply=None)


def test_buttons_without_keyboard_approval_are_written_out() -> None:
    body = message_body("Pick one", BUTTONS, markdown=False, use_keyboard=False, reply=None)
    assert body == {"msg_type": 0, "content": "Pick one\n[Coffee]\n[Tea]\nSite: https://x.cn"}


def test_keyboard_only_when_approved_and_markdown_is_escaped() -> None:
    body = message_body("Pick *one*", BUTTONS, markdown=False, use_keyboard=True, reply=None)
    assert body["msg_type"] == 2 and body["markdown"] == {"content": "Pick \\*one\\*"}
    rows = body["keyboard"]["content"]["rows"]
    assert [[b["render_data"]["label"] for b in r["buttons"]] for r in rows] == [["Coffee", "Tea"], ["Site"]]
    assert rows[0]["buttons"][0]["action"] == {
        "type": 1,
        "data": "poll:1:0",
        "permission": {"type": 2},
        "unsupport_tips": "Coffee",
    }
    assert rows[1]["buttons"][0]["action"]["type"] == 0 and rows[1]["buttons"][0]["action"]["data"] == "https://x.cn"


def test_at_most_five_rows_of_five() -> None:
    many = tuple(tuple(Button(f"{r}{c}", data=f"{r}{c}") for c in range(7)) for r in range(7))
    rows = message_body("q", many, markdown=True, use_keyboard=True, reply=None)["keyboard"]["content"]["rows"]
    assert len(rows) == 5 and all(len(r["buttons"]) == 5 for r in rows)
