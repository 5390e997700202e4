"""Builds the python-telegram-bot Application and runs the live index watcher beside it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from urllib.parse import urlparse

from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.following.push import push_job
from bot.replies.buttons import ARTICLE_PATTERN, FOLLOW_PATTERN, ISSUE_PATTERN, PAGE_PATTERN, VOTE_PATTERN
from bot.running import clear_running, mark_running
from bot.settings import Settings
from bot.telegram import admin, follow_handlers, handlers
from bot.telegram.flood_gate import limited
from bot.telegram.services import Services
from index.types import BulletinError
from telegram import Bot, Update

logger = logging.getLogger(__name__)


def redact(text: str, token: str, *keys: str) -> str:
    """`text` without the bot token or its secret part (after the colon), nor any of the other keys."""
    for secret in (token, token.partition(":")[2]):
        if secret:
            text = text.replace(secret, "<token>")
    for key in keys:
        if key:
            text = text.replace(key, "<key>")
    return text


class RedactToken(logging.Filter):
    """Removes the bot token (and the LLM API key) from every log record, tracebacks included (httpx logs
    request URLs, python-telegram-bot puts the token into the message of InvalidToken)."""

    def __init__(self, token: str, *keys: str) -> None:
        super().__init__()
        self.token = token
        self.keys = keys

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.token, *self.keys), ()
        if record.exc_info and not record.exc_text:  # formatted here, so the handler uses the redacted text
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token, *self.keys)
        return True


def protect_token_in_logs(token: str, *keys: str) -> None:
    """Install the redacting filter on all root handlers and quiet httpx's per-request lines."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token, *keys))
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def tell_admins(application: Application, text: str) -> None:
    """Send a notice to every admin; one who cannot be reached does not stop the others."""
    for admin_id in application.bot_data["services"].settings.admin_ids:
        try:
            await application.bot.send_message(admin_id, text)
        except Exception:  # an admin who never started the bot cannot be messaged
            logger.warning("could not notify an admin")


def _pointer(s: Services) -> str:
    """What CURRENT says, for messages; never raises."""
    try:
        return s.engine.store.pointer_text() or "(none)"
    except Exception:
        return "(unreadable)"


async def watch_index(application: Application) -> None:
    """Switch to a new index version when staff add one; on failure keep serving and tell admins.

    Any error is caught, not only BulletinError: if this task ended, the bot would serve the old
    version until restarted and nobody would know."""
    s: Services = application.bot_data["services"]
    reported: str | None = s.engine.fallback.wanted if s.engine.fallback else None  # told at start-up
    while True:
        await asyncio.sleep(s.settings.reload_interval)
        try:
            if await asyncio.to_thread(s.engine.reload_index):
                reported = None
        except Exception as exc:
            pointer = _pointer(s)
            reason = str(exc) if isinstance(exc, BulletinError) else f"{type(exc).__name__}: {exc}"
            if pointer == reported:  # already logged and told: once per failing version
                logger.debug("index version %s still not loaded: %s", pointer, reason)
                continue
            reported = pointer
            logger.error(
                "index version %s not loaded, still serving %s: %s",
                pointer,
                s.engine.serving,
                reason,
                exc_info=not isinstance(exc, BulletinError),
            )
            await tell_admins(application, f"⚠️ 新索引版本 {pointer} 加载失败，继续使用 {s.engine.serving}：{reason}")


async def _post_init(application: Application) -> None:
    s: Services = application.bot_data["services"]
    await asyncio.to_thread(s.engine.warm_up)
    if s.engine.fallback:
        f = s.engine.fallback
        await tell_admins(application, f"⚠️ 当前索引版本 {f.wanted} 无法加载，已改用 {f.serving}：{f.reason}")
    for notice in s.notices:
        await tell_admins(application, notice)
    loop = asyncio.get_running_loop()  # the question log's writer thread may set its file aside later
    s.log.on_set_aside = lambda text: asyncio.run_coroutine_threadsafe(tell_admins(application, text), loop)
    s.log.prune()
    mark_running(s.settings.data_dir, s.started_at)
    application.bot_data["watcher"] = asyncio.create_task(watch_index(application))
    if application.job_queue is None:
        raise BulletinError("python-telegram-bot's job queue is missing: install python-telegram-bot[job-queue]")
    application.job_queue.run_once(push_job, 0, name="push")  # sends what a killed process left planned


async def _post_shutdown(application: Application) -> None:
    watcher = application.bot_data.pop("watcher", None)
    if watcher is not None:
        watcher.cancel()
    clear_running(application.bot_data["services"].settings.data_dir)
    judges = application.bot_data["services"].engine.judges
    if judges.selector is not None:
        judges.selector.close()
    if judges.reader is not None:
        judges.reader.stop()  # its worker process ends with the bot


def bot_token(settings: Settings) -> str:
    """The bot token from Settings; BulletinError when none is set."""
    if settings.telegram_token is None:
        raise BulletinError("no bot token: set BULLETIN_TELEGRAM_TOKEN (environment or .env); see the README")
    return settings.telegram_token.get_secret_value()


def build_application(services: Services) -> Application:
    """One Application with every handler; the token and API URL come from Settings only."""
    settings = services.settings
    token = bot_token(settings)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["services"] = services
    new = filters.UpdateType.MESSAGE  # not edited messages: an edit must not answer or run a command twice
    for name, callback in (
        ("start", handlers.start),
        ("help", handlers.help_command),
        ("reload", admin.reload_command),
        ("status", admin.status_command),
        ("unanswered", admin.unanswered_command),
        ("preview", admin.preview_command),
        ("latest", follow_handlers.latest_command),
        ("issues", follow_handlers.issues_command),
        ("follow", follow_handlers.follow_command),
        ("following", follow_handlers.following_command),
        ("unfollow", follow_handlers.unfollow_command),
        ("digest", follow_handlers.digest_command),
    ):
        application.add_handler(CommandHandler(name, limited(callback), filters=new))  # one budget per user
    application.add_handler(MessageHandler(new & filters.COMMAND, handlers.unknown_command))  # after the known
    asked = filters.TEXT | filters.CAPTION  # a photo's caption is a question too
    application.add_handler(MessageHandler(new & asked & ~filters.COMMAND, handlers.question))
    application.add_handler(
        MessageHandler(new & ~asked & ~filters.COMMAND & ~filters.StatusUpdate.ALL, handlers.non_text)
    )
    for pattern, callback in (
        (ARTICLE_PATTERN, handlers.article_button),
        (PAGE_PATTERN, handlers.page_button),
        (VOTE_PATTERN, handlers.vote_button),
        (ISSUE_PATTERN, follow_handlers.issue_button),
        (FOLLOW_PATTERN, follow_handlers.follow_button),
    ):
        application.add_handler(CallbackQueryHandler(limited(callback), pattern=pattern))
    application.add_handler(CallbackQueryHandler(limited(handlers.other_button)))  # after the known kinds
    application.add_error_handler(handlers.error_handler)
    return application


def webhook_secret_source(settings) -> str:
    """Which secret token the webhook checks (never the token itself), for start-up and `check`."""
    return "from BULLETIN_WEBHOOK_SECRET" if settings.webhook_secret else "generated at start-up (random, 256 bits)"


def webhook_options(settings) -> dict:
    """Arguments for python-telegram-bot's webhook server: listen locally on the URL's path, and accept only
    updates that carry Telegram's secret token. Without BULLETIN_WEBHOOK_SECRET a random one is generated
    and registered with setWebhook: a POST to the port with a forged admin update was obeyed before."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else secrets.token_urlsafe(32)
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlparse(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": Update.ALL_TYPES,
    }


def startup_failure(exc: TelegramError, settings: Settings) -> str:
    """One line saying what failed when connecting to Telegram and which setting to check."""
    api = settings.telegram_base_url
    if isinstance(exc, InvalidToken) and "not found" in str(exc.__cause__).lower():
        # 404: no Bot API at this address (Telegram also answers 404 to a malformed token)
        text = (
            f"the Bot API at {api} answered 404 Not Found: check BULLETIN_TELEGRAM_BASE_URL "
            "(and that BULLETIN_TELEGRAM_TOKEN is the whole token from @BotFather)"
        )
    elif isinstance(exc, InvalidToken):
        text = "Telegram rejected the bot token (401 Unauthorized: revoked or mistyped): check BULLETIN_TELEGRAM_TOKEN"
    elif isinstance(exc, NetworkError):
        text = f"cannot reach the Bot API at {api} ({exc}): check BULLETIN_TELEGRAM_BASE_URL and the network"
    else:
        text = (
            f"Telegram refused to start the bot ({exc}): check BULLETIN_TELEGRAM_TOKEN and BULLETIN_TELEGRAM_BASE_URL"
        )
    return redact(text, bot_token(settings))


async def _get_me(bot: Bot) -> str:
    async with bot:  # initialising a Bot calls getMe
        return bot.username


def check_telegram(settings: Settings) -> str:
    """Call getMe once before serving, so a bad token or address is one clear error, not a traceback;
    return the bot's username."""
    bot = Bot(
        bot_token(settings),
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
    )
    try:
        return asyncio.run(_get_me(bot))
    except TelegramError as exc:
        raise BulletinError(startup_failure(exc, settings)) from None


def run(services: Services) -> None:
    """Serve until stopped: long polling, or a webhook when BULLETIN_WEBHOOK_URL is set."""
    settings = services.settings
    application = build_application(services)
    webhook = webhook_options(settings) if settings.webhook_url else None
    protect_token_in_logs(
        bot_token(settings),
        *([settings.llm_api_key.get_secret_value()] if settings.llm_api_key else []),
        *([webhook["secret_token"]] if webhook else []),
    )
    check_telegram(settings)
    loaded = services.engine.loaded
    judges = services.engine.judges
    logger.info(
        "bulletin-bot serving by %s: index version %s, %d issues, %d admins%s%s",
        f"webhook (secret token {webhook_secret_source(settings)})" if webhook else "polling",
        loaded.version,
        len(loaded.snapshot.issues),
        len(settings.admin_ids),
        f"; LLM selector {judges.selector.model} at {judges.selector.shown_url}" if judges.selector else "",
        f"; reranker {judges.reranker.folder}" if judges.reranker else "",
    )
    try:
        if webhook:
            application.run_webhook(**webhook)
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except TelegramError as exc:  # the token revoked, or the server gone, since the check
        raise BulletinError(startup_failure(exc, settings)) from None
