"""The web console over HTTP (Starlette's TestClient on the real app and data directory): sign-in, lock-out,
CSRF, roles, uploads (traversal, size, kind), publishing through IndexBuilder, templates, the audit log."""

from __future__ import annotations

import logging
import re
import time

import pytest
from filelock import FileLock
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient

from bot.console.app import create_app
from bot.console.limits import LOCK_AFTER_FAILURES, LOCK_SECONDS
from bot.console.sessions import COOKIE
from bot.console.uploads import FOLDER, safe_name
from bot.settings import load_settings
from index.manifest import describe_operation
from index.parse import parse_issue
from index.store import IndexStore
from index.types import BulletinError

from conftest import KEEP_VERSIONS, NEW_ISSUE
from console_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    STAFF,
    STAFF_PASSWORD,
    csrf_of,
    make_accounts,
    settled,
    sign_in,
    text_of,
)


@pytest.fixture
def make_client(data_dir, embedder):
    """A client factory over one console app (each client is one browser with its own cookies)."""
    make_accounts(data_dir)
    apps = {}

    def make(**overrides):
        key = tuple(sorted(overrides.items()))
        if key not in apps:
            apps[key] = create_app(load_settings(embedding_threads=2, **overrides))
            apps[key].state.console._embedder = embedder  # the session's loaded model
        return TestClient(apps[key], base_url="http://127.0.0.1")

    return make


@pytest.fixture
def admin(make_client):
    client = make_client()
    assert sign_in(client, ADMIN, ADMIN_PASSWORD).status_code == 200
    return client


@pytest.fixture
def staff(make_client):
    client = make_client()
    assert sign_in(client, STAFF, STAFF_PASSWORD).status_code == 200
    return client


def current(data_dir):
    return IndexStore(data_dir, KEEP_VERSIONS).current()


def test_pages_need_sign_in_and_the_first_page_has_the_upload_form(make_client):
    client = make_client()
    page = client.get("/status")
    assert page.url.path == "/login" and "用户名" in page.text and "密码" in page.text and "登录" in page.text
    home = sign_in(client, STAFF, STAFF_PASSWORD)
    assert home.url.path == "/"
    assert '<label for="file">简报文件</label>' in home.text and ">预览</button>" in home.text
    assert ">退出</button>" in home.text


def test_session_cookie_is_httponly_strict_and_secure_only_behind_a_trusted_tls_proxy(make_client):
    plain = make_client()
    token = csrf_of(plain.get("/login").text)
    reply = plain.post(
        "/login",
        data={"csrf": token, "username": STAFF, "password": STAFF_PASSWORD},
        follow_redirects=False,
        headers={"X-Forwarded-Proto": "https"},  # not from a configured proxy: ignored
    )
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(COOKIE) and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie
    proxied = make_client(web_trusted_proxies="testclient")
    token = csrf_of(proxied.get("/login").text)
    reply = proxied.post(
        "/login",
        data={"csrf": token, "username": STAFF, "password": STAFF_PASSWORD},
        follow_redirects=False,
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in [c for c in reply.headers.get_list("set-cookie") if c.startswith(COOKIE)][0]


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(staff, data_dir):
    before = current(data_dir)
    for data in ({"issue": "2022-12-05"}, {"issue": "2022-12-05", "csrf": "forged"}):
        reply = staff.post("/issues/remove", data=data)
        assert reply.status_code == 403 and "CSRF" in reply.text
    assert current(data_dir) == before


def test_a_token_from_another_session_or_after_logout_is_refused(make_client, data_dir):
    first, second = make_client(), make_client()
    token = csrf_of(sign_in(first, STAFF, STAFF_PASSWORD).text)
    sign_in(second, ADMIN, ADMIN_PASSWORD)
    before = current(data_dir)
    assert second.post("/issues/remove", data={"issue": "2022-12-05", "csrf": token}).status_code == 403
    old_cookie = first.cookies.get(COOKIE)
    assert first.post("/logout", data={"csrf": token}).url.path == "/login"
    replay = make_client()
    replay.cookies.set(COOKIE, old_cookie)
    assert replay.post("/issues/remove", data={"issue": "2022-12-05", "csrf": token}).status_code == 403
    assert replay.get("/").url.path == "/login"  # the session ended on the server, not only in the browser
    assert current(data_dir) == before


def test_a_session_cookie_signed_with_another_key_is_not_a_session(make_client):
    client = make_client()
    client.cookies.set(COOKIE, URLSafeTimedSerializer(b"another key" * 3, salt="console-session").dumps("x" * 43))
    assert client.get("/").url.path == "/login"


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client()
    for _ in range(LOCK_AFTER_FAILURES - 1):
        assert "用户名或密码错误" in sign_in(client, STAFF, "wrong-password").text
    assert "已锁定" in sign_in(client, STAFF, "wrong-password").text
    locked = sign_in(client, STAFF, STAFF_PASSWORD)  # the right password, during the lock
    assert locked.status_code == 401 and "已锁定" in locked.text and "分钟后再试" in locked.text
    accounts = client.app.state.console.accounts
    later = time.time() + LOCK_SECONDS + 1
    accounts.clock = lambda: later
    assert sign_in(client, STAFF, STAFF_PASSWORD).url.path == "/"
    assert STAFF_PASSWORD not in caplog.text and "wrong-password" not in caplog.text


def test_staff_are_refused_on_admin_pages_and_actions(staff, data_dir):
    for path in ("/templates", "/users", "/audit", "/rollback"):
        assert staff.get(path).status_code == 403, path
    token = csrf_of(staff.get("/").text)
    before = current(data_dir)
    assert staff.post("/rollback", data={"csrf": token}).status_code == 403
    assert (
        staff.post("/users/add", data={"csrf": token, "name": "x", "role": "admin", "password": "p" * 12}).status_code
        == 403
    )
    assert current(data_dir) == before
    assert "/templates" not in staff.get("/").text  # the menu does not offer them


def test_upload_names_cannot_leave_the_upload_folder(staff, data_dir, tmp_path):
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\x.txt") == "x.txt"
    assert safe_name("....") == "upload"
    token = csrf_of(staff.get("/").text)
    page = staff.post(
        "/upload", data={"csrf": token}, files={"file": ("../../../2023-02-06.txt", NEW_ISSUE.read_bytes())}
    )
    assert page.status_code == 200 and "预览：2023-02-06.txt" in page.text
    stored = list((data_dir / FOLDER).rglob("*.txt"))
    assert [p.name for p in stored] == ["2023-02-06.txt"] and stored[0].parent.parent == data_dir / FOLDER
    assert not (tmp_path / "2023-02-06.txt").exists() and not (data_dir.parent.parent / "2023-02-06.txt").exists()


def test_an_oversized_upload_is_refused_before_anything_is_stored(make_client, data_dir):
    client = make_client(max_file_bytes=2000)
    token = csrf_of(sign_in(client, STAFF, STAFF_PASSWORD).text)
    big = "# 标题\n\n" + "东昌府讯 区里发布消息。" * 5000
    reply = client.post("/upload", data={"csrf": token}, files={"file": ("2023-05-01.txt", big.encode())})
    assert reply.status_code == 413 and "BULLETIN_MAX_FILE_BYTES = 2,000" in reply.text
    # without a Content-Length (chunked), the body is counted as it arrives
    chunks = (b"x" * 10_000 for _ in range(20))
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    assert client.post("/upload", content=chunks, headers=headers).status_code == 413
    assert not list((data_dir / FOLDER).rglob("*")) if (data_dir / FOLDER).exists() else True


def test_a_file_of_the_wrong_kind_gets_the_cli_refusal(staff, data_dir, tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
    (tmp_path / "photo.png").write_bytes(png)
    with pytest.raises(BulletinError) as cli:
        parse_issue(tmp_path / "photo.png", 5_000_000)
    token = csrf_of(staff.get("/").text)
    page = staff.post("/upload", data={"csrf": token}, files={"file": ("photo.png", png)})
    assert page.status_code == 400 and str(cli.value) in text_of(page.text)
    assert not list((data_dir / FOLDER).iterdir())  # the refused upload is not kept


def test_upload_preview_publish_indexes_as_index_add_and_is_audited(admin, data_dir):
    token = csrf_of(admin.get("/").text)
    preview = admin.post("/upload", data={"csrf": token}, files={"file": ("2023-02-06.txt", NEW_ISSUE.read_bytes())})
    assert "元宵节灯会2月4日起在古楼广场举办" in preview.text and ">发布</button>" in preview.text
    upload = preview.text.split('name="upload" value="')[1].split('"')[0]
    before = current(data_dir)
    with FileLock(str(data_dir / "index.lock")):  # another index command (a second browser, the CLI) is running
        started = admin.post("/publish", data={"csrf": token, "upload": upload})
        assert started.url.path.startswith("/jobs/") and "正在发布" in started.text  # progress, not a hung request
        busy = settled(admin, started)
    assert busy.status_code == 409 and "lock held" in busy.text and current(data_dir) == before
    done = settled(admin, admin.post("/publish", data={"csrf": token, "upload": upload}))
    assert done.status_code == 200 and "added: 2023-02-06" in done.text
    store = IndexStore(data_dir, KEEP_VERSIONS)
    assert store.current() != before and "2023-02-06" in store.load().issues
    assert store.manifest(store.current())["parent"] == before
    again = admin.post("/publish", data={"csrf": token, "upload": upload})
    assert "上传已失效" in again.text  # published uploads are deleted: a reload does not publish twice
    audit = text_of(admin.get("/audit").text)
    assert f"{ADMIN} publish version {store.current()}" in audit
    operation = describe_operation(store.manifest(store.current()))
    assert re.search(
        rf"{store.current()} （当前） {before} {re.escape(operation)} \S+ {ADMIN} ", text_of(admin.get("/history").text)
    )
    assert admin.app.state.console.audit.version_users() == {store.current(): ADMIN}


def test_an_article_with_markup_is_shown_escaped(staff, tmp_path):
    text = "# 通知<script>alert(1)</script>\n\n东昌府讯 <script>alert(2)</script>区里发布消息，请居民注意。\n"
    token = csrf_of(staff.get("/").text)
    page = staff.post("/upload", data={"csrf": token}, files={"file": ("2023-06-01.txt", text.encode())})
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;alert(" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_broken_template_is_refused_with_its_line_and_never_saved(make_client, tmp_path):
    from bot.replies.templates import DEFAULT_PATH

    target = tmp_path / "templates.yaml"
    good = DEFAULT_PATH.read_text(encoding="utf-8")
    target.write_text(good, encoding="utf-8")
    client = make_client(templates_path=target)
    token = csrf_of(sign_in(client, ADMIN, ADMIN_PASSWORD).text)
    lines = good.splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("flood:")) + 1
    broken = "\n".join(lines[: line - 1] + ["  您提问太快了 {{ seconds ", *lines[line:]])
    reply = client.post("/templates", data={"csrf": token, "text": broken, "save": "1"})
    assert reply.status_code == 400 and "文件未保存" in reply.text
    assert f"templates.yaml, line {line}, template 'flood'" in text_of(reply.text)
    assert target.read_text(encoding="utf-8") == good
    edited = good.replace("flood:", "# edited\nflood:", 1)
    saved = client.post("/templates", data={"csrf": token, "text": edited, "save": "1"})
    assert saved.status_code == 200 and "已检查并保存" in saved.text and 'class="telegram"' in saved.text
    assert target.read_text(encoding="utf-8") == edited
    kept = saved.text.split('name="version" value="')[1].split('"')[0]
    restored = client.post("/templates/restore", data={"csrf": token, "version": kept})
    assert restored.status_code == 200 and target.read_text(encoding="utf-8") == good
    assert "template save" in client.get("/audit").text


def test_try_asks_as_ask_does(staff, engine):
    token = csrf_of(staff.get("/").text)
    page = staff.post("/try", data={"csrf": token, "question": "医保能在网上办吗"})
    expected = engine.ask("医保能在网上办吗")
    shown = text_of(page.text)
    assert f"置信度 {expected.confidence:.2f}" in shown and f"原因 {expected.reason}" in shown
    assert expected.parts[0].title in shown


def test_remove_and_rollback_go_through_a_confirmation(admin, data_dir):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    first = store.current()
    confirm = admin.get("/issues/remove?issue=2022-12-05")
    assert "请确认" in confirm.text and current(data_dir) == first  # asking changes nothing
    token = csrf_of(confirm.text)
    done = admin.post("/issues/remove", data={"csrf": token, "issue": "2022-12-05"})
    assert "removed: 2022-12-05" in done.text and "2022-12-05" not in store.load().issues
    assert "no issue 'nope' in the index" in text_of(
        admin.post("/issues/remove", data={"csrf": token, "issue": "nope"}).text
    )
    confirm = admin.get("/rollback")
    assert "撤销上一次更改" in confirm.text and store.current() != first
    rolled = admin.post("/rollback", data={"csrf": token, "version": ""})
    assert store.current() == first and f"已回滚：{first} 现为当前版本" in rolled.text
    assert "rollback" in admin.get("/audit").text


def test_parallel_wrong_passwords_cannot_outrun_the_lock(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from bot.console.accounts import Accounts
    from bot.console.store import ConsoleDB

    accounts = Accounts(ConsoleDB(tmp_path / "data"))
    accounts.add("clerk", "staff", "right-password")
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: accounts.login("clerk", "wrong-password").message, range(10)))
    assert results.count("用户名或密码错误") == LOCK_AFTER_FAILURES - 1  # the rest were refused by the lock
    assert accounts.login("clerk", "right-password").user is None


def test_the_login_form_needs_its_own_token(make_client):
    client = make_client()
    client.get("/login")
    refused = client.post("/login", data={"csrf": "forged", "username": STAFF, "password": STAFF_PASSWORD})
    assert refused.status_code == 403 and COOKIE not in client.cookies


def test_a_session_expires(staff):
    from bot.console.limits import SESSION_SECONDS

    assert staff.get("/status").url.path == "/status"
    sessions = staff.app.state.console.sessions
    later = time.time() + SESSION_SECONDS + 1
    sessions.clock = lambda: later
    assert staff.get("/status").url.path == "/login"


def test_templates_are_not_saved_over_the_built_in_file(admin):
    from bot.replies.templates import DEFAULT_PATH

    before = DEFAULT_PATH.read_text(encoding="utf-8")
    token = csrf_of(admin.get("/templates").text)
    reply = admin.post("/templates", data={"csrf": token, "text": before + "\n# edited\n", "save": "1"})
    assert reply.status_code == 400 and "BULLETIN_TEMPLATES_PATH is not set" in text_of(reply.text)
    assert DEFAULT_PATH.read_text(encoding="utf-8") == before


def test_the_questions_page_counts_what_the_log_holds(staff, data_dir):
    from bot.log.pseudonym import Pseudonyms
    from bot.log.questions import QuestionLog

    from conftest import RETENTION_DAYS

    log = QuestionLog(data_dir / "questions.sqlite", Pseudonyms(b"k" * 32), RETENTION_DAYS)
    asked = [("医保能在网上办吗", "answered", 0.9)] * 5 + [("供暖热线", "answered", 0.31)]
    asked += (
        [("狂犬疫苗在哪打", "low_probability", 0.1)] * 3 + [("公积金", "related", 0.4)] + [("你好", "greeting", None)]
    )
    for n, (question, reason, score) in enumerate(asked):
        log.record(
            user_id=n,
            chat_type="private",
            question=question,
            answered=reason == "answered",
            reason=reason,
            top_article="文章" if score else None,
            top_issue=None,
            score=score,
            latency_ms=5.0,
        )
    log.feedback(6, helpful=False)  # the 供暖热线 answer
    log.flush()
    log.close()
    shown = text_of(staff.get("/questions").text)
    assert "回答 60% " in shown and "相关 10% " in shown and "未能回答 30% " in shown  # the greeting is no question
    most = shown.split("问得最多")[1].split("居民点了")[0]
    assert most.index("狂犬疫苗在哪打 3 未能回答") < most.index("公积金 1 相关")
    assert "供暖热线 回答 文章 0.31" in shown.split("居民点了 👎 的回答")[1].split("置信度最低")[0]
    assert shown.split("置信度最低的回答")[1].index("供暖热线") < shown.split("置信度最低的回答")[1].index("医保")
