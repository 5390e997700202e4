"""Which messages are meant for the bot: everything in a private chat; in groups a mention or a reply."""

from __future__ import annotations

from telegram.constants import ChatType

from telegram import Message


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """True when the message is a reply to one of the bot's own messages."""
    original = message.reply_to_message
    return original is not None and original.from_user is not None and original.from_user.id == bot_id


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in a message (or a photo's caption), or None when a group message is not meant for the bot."""
    text = message.text or message.caption or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{bot_username}".lower()
    if mention in text.lower():
        start = text.lower().index(mention)
        return (text[:start] + text[start + len(mention) :]).strip()
    return text if replies_to_bot(message, bot_id) else None


def command_for_me(message: Message, bot_username: str) -> bool:
    """True for a command in a private chat, or addressed to this bot (/cmd@this_bot) anywhere."""
    _, _, target = (message.text or "").split(maxsplit=1)[0].partition("@")
    return target.lower() == bot_username.lower() if target else message.chat.type == ChatType.PRIVATE
