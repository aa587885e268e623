"""The Bot API emulator, exercised through a real PTB Bot as the school bot uses it."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes, Defaults, ExtBot
from telegram.request import HTTPXRequest

from emulator import BotApiEmulator, FaultPlan, default_api_spec, parse_html

HEAD = 111
PARENT = 555
GROUP = -1001234567890


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(api_spec=default_api_spec())
    await emulator.start()
    emulator.add_user(HEAD, "Helen", "Head", username="head")
    yield emulator
    await emulator.stop()


def make_bot(emu: BotApiEmulator, read_timeout: float = 5.0) -> Bot:
    return Bot(
        emu.token,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=HTTPXRequest(read_timeout=read_timeout),
    )


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with make_bot(emu) as the_bot:
        yield the_bot


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_head_receives_html_message_and_reads_plain_text(emu, bot):
    pupil = 'Tom <"Tommy"> & Jerry'
    sent = await bot.send_message(HEAD, f"<b>Consent</b> for {html.escape(pupil)} ✅", parse_mode=ParseMode.HTML)
    assert sent.text == f"Consent for {pupil} ✅"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 7
    record = emu.last_to(HEAD)
    assert record.plain == sent.text
    assert record.text.startswith("<b>Consent</b>")
    assert emu.unexpected_refusals() == []


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("Score < 3", 'unsupported start tag "" at byte offset 6'),
        ("<3 pupils", 'unsupported start tag "3" at byte offset 0'),
        ("Tom & Jerry", "unsupported html entity at byte offset 4"),
        ("<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("é<foo>x</foo>", 'unsupported start tag "foo" at byte offset 2'),
        ('<span class="x">s</span>', 'tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_unescaped_html_is_refused_like_telegram(emu, bot, text, wording):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as refused:
        await bot.send_message(HEAD, text, parse_mode=ParseMode.HTML)
    assert wording in str(refused.value).lower()
    assert [r.method for r in emu.unexpected_refusals()] == ["sendMessage"]
    assert emu.messages_to(HEAD) == []


def test_every_supported_tag_parses_into_entities():
    plain, entities = parse_html(
        '<a href="https://x.example/?a=1&amp;b=2">link</a> <tg-spoiler>s</tg-spoiler> '
        '<pre><code class="language-python">print()</code></pre> '
        "<blockquote expandable>q</blockquote> &#x1F600;&#65;"
    )
    assert plain == "link s print() q 😀A"
    kinds = {e["type"]: e for e in entities}
    assert kinds["text_link"]["url"] == "https://x.example/?a=1&b=2"
    assert kinds["pre"]["language"] == "python"
    assert {"spoiler", "expandable_blockquote"} <= kinds.keys()


async def test_text_length_is_measured_after_entities_in_utf16(emu, bot):
    await bot.send_message(HEAD, "<b>" + "&lt;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(HEAD, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(HEAD, "😀" * 2049)  # 2049 characters, 4098 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(HEAD, "<b> </b>", parse_mode=ParseMode.HTML)
    await bot.send_photo(HEAD, b"jpeg", caption="<i>" + "c" * 1024 + "</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(HEAD, b"jpeg", caption="c" * 1025)
    assert len(emu.messages_to(HEAD)) == 2


async def test_callback_data_is_limited_to_64_bytes(emu, bot):
    await bot.send_message(HEAD, "ok", reply_markup=keyboard(("Yes", "é" * 32)))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(HEAD, "too long", reply_markup=keyboard(("Yes", "é" * 33)))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(HEAD, "too long", reply_markup=keyboard(("Yes", "x" * 65)))
    assert emu.last_to(HEAD).buttons == [("Yes", "é" * 32)]


async def test_edits_behave_like_telegram(emu, bot):
    markup = keyboard(("Acknowledge", "inc:ack:1"))
    alert = await bot.send_message(HEAD, "<b>INC-0001</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>INC-0001</b>", HEAD, alert.message_id, parse_mode="HTML", reply_markup=markup)
    await bot.edit_message_text("INC-0001 acknowledged", HEAD, alert.message_id)
    record = emu.last_to(HEAD)
    assert record.plain == "INC-0001 acknowledged"
    assert record.buttons == []  # an edit without reply_markup drops the keyboard
    assert [old.plain for old in record.history] == ["INC-0001"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(HEAD, alert.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", HEAD, 999)
    photo = await bot.send_photo(HEAD, b"jpeg", caption="evidence")
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", HEAD, photo.message_id)
    await bot.edit_message_caption(HEAD, photo.message_id, caption="evidence (logged)")
    assert emu.last_to(HEAD).caption == "evidence (logged)"
    assert await bot.delete_message(HEAD, alert.message_id)
    assert emu.messages_to(HEAD)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("again", HEAD, alert.message_id)


async def test_users_who_never_started_or_blocked_the_bot_are_refused(emu, bot):
    emu.add_user(PARENT, "Pat", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(PARENT, "hello")
    emu.block(HEAD)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(HEAD, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-100999, "hello")
    assert [r.error_code for r in emu.refusals] == [403, 403, 400]
    assert [r.description for r in emu.unexpected_refusals()] == ["Bad Request: chat not found"]
    emu.send_text(HEAD, "/start")  # writing to the bot again unblocks it
    await bot.send_message(HEAD, "welcome back")


async def test_long_polling_delivers_what_users_do(emu, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    emu.send_text(HEAD, "/consent@school_assistant_bot Tom Smith")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message.text.startswith("/consent")
    assert updates[0].message.entities[0].type == "bot_command"
    assert updates[0].message.chat.type == "private" and updates[0].message.chat.id == HEAD

    emu.send_photo(
        PARENT, b"screenshot", caption="rude comment", forward_origin={"type": "hidden_user", "sender_user_name": "Mum of X"}
    )
    emu.add_group(GROUP, "Parents' group")
    emu.join_request(PARENT, GROUP)
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    photo_update, join_update = updates
    assert photo_update.message.photo[-1].file_size == len(b"screenshot")
    assert photo_update.message.forward_origin.sender_user_name == "Mum of X"
    assert join_update.chat_join_request.user_chat_id == PARENT
    await emu.wait_fetched(timeout=1)
    with pytest.raises(TimeoutError):  # fetched, but no later poll has confirmed them yet
        await emu.wait_confirmed(timeout=0.05)
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    await emu.wait_confirmed(timeout=0.05)


async def test_button_press_reaches_the_bot_and_is_answered_once(emu, bot):
    await bot.send_message(HEAD, "Approve Pat?", reply_markup=keyboard(("Approve", "app:ok:7"), ("Reject", "app:no:7")))
    query_id = emu.press(HEAD, emu.last_to(HEAD), "Reject")
    (update,) = await bot.get_updates(timeout=1)
    assert update.callback_query.data == "app:no:7"
    assert update.callback_query.message.text == "Approve Pat?"
    await update.callback_query.answer("Rejected", show_alert=True)
    assert emu.callback_answer(query_id)["text"] == "Rejected"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    forged = emu.press(PARENT, emu.last_to(HEAD), data="app:ok:7")
    assert emu.callback_answer(forged) is None


async def test_files_upload_and_download(emu, bot):
    sent = await bot.send_photo(HEAD, b"\xff\xd8evidence", caption="INC-0002")
    assert emu.files[emu.last_to(HEAD).photo] == b"\xff\xd8evidence"
    again = await bot.send_photo(HEAD, sent.photo[-1].file_id)
    assert again.photo[-1].file_id != sent.photo[-1].file_id
    doc = await bot.send_document(HEAD, b"pupil_id,first_name\n", filename="register.csv")
    assert doc.document.file_name == "register.csv"
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type document as photo"):
        await bot.send_photo(HEAD, doc.document.file_id)

    incoming = emu.send_document(HEAD, b"a,b\n1,2\n", "consent.csv", "text/csv")
    telegram_file = await bot.get_file(incoming["document"]["file_id"])
    assert bytes(await telegram_file.download_as_bytearray()) == b"a,b\n1,2\n"
    assert emu.downloaded == [incoming["document"]["file_id"]]


async def test_chat_lookups_and_typing(emu, bot):
    emu.add_group(GROUP, "Parents' group")
    await bot.send_chat_action(HEAD, "typing")
    assert (await bot.get_chat(HEAD)).first_name == "Helen"
    assert (await bot.get_chat(GROUP)).type == "supergroup"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(-42)


async def test_a_wrong_token_is_unauthorized(emu):
    with pytest.raises(InvalidToken):
        async with Bot("42:wrong", base_url=emu.base_url):
            pass


async def test_join_requests_are_decided_once(emu, bot):
    emu.add_group(GROUP, "Parents' group")
    emu.join_request(PARENT, GROUP)
    await bot.approve_chat_join_request(GROUP, PARENT)
    assert emu.join_requests[(GROUP, PARENT)] == "approved"
    with pytest.raises(BadRequest, match=r"(?i)hide_requester_missing"):
        await bot.decline_chat_join_request(GROUP, PARENT)
    member = await bot.get_chat_member(GROUP, PARENT)
    assert member.status == "member"
    assert (await bot.get_chat_member(GROUP, bot.id)).status == "administrator"
    assert ("approveChatJoinRequest", {"chat_id": GROUP, "user_id": PARENT}) in emu.calls


async def test_commands_are_kept_per_scope(emu, bot):
    await bot.set_my_commands([BotCommand("consent", "Check photo consent")])
    await bot.set_my_commands(
        [BotCommand("audit", "Audit log"), BotCommand("consent", "Check photo consent")],
        scope=BotCommandScopeChat(HEAD),
    )
    assert [c["command"] for c in emu.commands_for(HEAD)] == ["audit", "consent"]
    assert [c["command"] for c in emu.commands_for(PARENT)] == ["consent"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(HEAD))
    assert [c.command for c in await bot.get_my_commands()] == ["consent"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Consent", "capitalised")])


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_faults_raise_what_ptb_raises_on_a_bad_network(emu, bot):
    emu.faults = FaultPlan(rate=1.0, kinds=("429",), seed=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(HEAD, "a")
    emu.faults = FaultPlan(rate=1.0, kinds=("500",))
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(HEAD, "b")
    emu.faults = FaultPlan(rate=1.0, kinds=("drop",), drop_after_action=True)
    with pytest.raises(NetworkError):
        await bot.send_message(HEAD, "sent but never confirmed")
    emu.faults = FaultPlan(rate=1.0, kinds=("drop",), drop_after_action=False)
    with pytest.raises(NetworkError):
        await bot.send_message(HEAD, "never sent")
    emu.faults = None
    assert [m.plain for m in emu.messages_to(HEAD)] == ["sent but never confirmed"]
    assert [f.kind for f in emu.injected] == ["429", "500", "drop", "drop"]
    assert emu.refusals == []

    emu.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden):
        await bot.send_message(HEAD, "c")
    await bot.send_message(HEAD, "d")


async def test_a_slow_answer_times_the_bot_out(emu):
    emu.faults = FaultPlan(rate=1.0, kinds=("slow",), slow_seconds=0.5, methods={"sendMessage"})
    async with make_bot(emu, read_timeout=0.1) as impatient:
        with pytest.raises(TimedOut):
            await impatient.send_message(HEAD, "slow")
        await asyncio.sleep(0.6)
    assert emu.messages_to(HEAD) == []  # the client hung up before Telegram acted


@pytest.mark.filterwarnings("ignore:Please use:telegram.warnings.PTBUserWarning")
async def test_api_json_refuses_unknown_and_missing_parameters(emu, bot):
    if default_api_spec() is None:
        pytest.skip("../shared/telegram-bot-api/api.json is not in this checkout")
    with pytest.raises(BadRequest, match=r'(?i)unknown parameter "colour"'):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": HEAD, "text": "x", "colour": "red"})
    with pytest.raises(BadRequest, match=r'(?i)parameter "text" is required'):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": HEAD})
    assert len(emu.unexpected_refusals()) == 2


async def test_a_real_application_answers_a_command_and_goes_quiet(emu):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"Hello, <b>{html.escape('A & B')}</b>")

    app = Application.builder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    assert app.updater is not None
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        emu.send_text(PARENT, "/start")
        await emu.wait_confirmed()
        await emu.wait_quiet(ms=50, timeout=5)
        assert emu.last_to(PARENT).plain == "Hello, A & B"
        await app.updater.stop()
        await app.stop()
    assert emu.unexpected_refusals() == []


async def test_a_default_parse_mode_on_a_call_without_one_is_ignored_as_telegram_does(emu):
    """PTB's Defaults add parse_mode even to editMessageReplyMarkup; Telegram ignores it, so must the emulator."""
    if default_api_spec() is None:
        pytest.skip("../shared/telegram-bot-api/api.json is not in this checkout")
    async with ExtBot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, defaults=Defaults(parse_mode=ParseMode.HTML)
    ) as with_defaults:
        sent = await with_defaults.send_message(HEAD, "pick", reply_markup=keyboard(("A", "a")))
        await with_defaults.edit_message_reply_markup(chat_id=HEAD, message_id=sent.message_id)
    assert emu.messages_to(HEAD)[-1].buttons == [] and emu.unexpected_refusals() == []
