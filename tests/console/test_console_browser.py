"""The web console in a real browser: Debian's chromium, driven by Playwright, against `bulletin-bot web`
started on a free loopback port over a copy of the real index. Each test takes a screenshot of its
page; with BULLETIN_SCREENSHOTS=docs/console they are saved there (the README shows them)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.console.accounts import Accounts
from bot.console.limits import LOCK_AFTER_FAILURES
from bot.console.store import ConsoleDB
from bot.log.pseudonym import Pseudonyms
from bot.log.questions import QuestionLog

from conftest import REPO, RETENTION_DAYS
from console_helpers import ADMIN, ADMIN_PASSWORD, STAFF, STAFF_PASSWORD, make_accounts

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium fonts-noto-cjk"
    ),
]
# the README's screenshots are retaken only when asked: a test run leaves the checkout as it was
SHOTS = Path(os.environ["BULLETIN_SCREENSHOTS"]).resolve() if os.environ.get("BULLETIN_SCREENSHOTS") else None
NEW_ISSUE = REPO / "tests" / "data" / "console" / "2023-04-03.txt"
LOCKED_USER, LOCKED_PASSWORD = "locked-clerk", "locked-pass-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(data: Path, templates: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_")}
    env.update(
        PYTHONPATH=str(REPO),
        BULLETIN_DATA_DIR=str(data),
        BULLETIN_TEMPLATES_PATH=str(templates),
        BULLETIN_EMBEDDING_THREADS="2",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def seed_question_log(data: Path) -> None:
    """Residents' questions over a week, written by the real question log."""
    log = QuestionLog(data / "questions.sqlite", Pseudonyms(b"k" * 32), RETENTION_DAYS)
    rows = [
        ("医保能在网上办吗", "answered", "区医保系统疫情防控不松懈 群众线上办理“医”路通", 0.82),
        ("供暖热线是多少", "answered", "我区2022—2023年度供暖季正式启动 供热服务热线公布", 0.41),
        ("狂犬疫苗在哪打", "low_probability", None, 0.12),
        ("公积金怎么提取", "related", "春节期间区政务服务中心服务安排", 0.35),
    ]
    for n in range(24):
        question, reason, article, score = rows[n % len(rows)]
        log.record(
            user_id=n % 5,
            chat_type="private",
            question=question,
            answered=reason == "answered",
            reason=reason,
            top_article=article,
            top_issue=None,
            score=score,
            latency_ms=80.0,
        )
    log.feedback(2, helpful=False)
    log.flush()
    log.close()
    import sqlite3

    db = sqlite3.connect(data / "questions.sqlite")
    with db:  # spread them over the last days, as a week of use would
        db.execute("UPDATE questions SET day = date(day, '-' || (id % 7) || ' days')")
    db.close()


@pytest.fixture(scope="module")
def server(built_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("console")
    data = root / "data"
    shutil.copytree(built_index, data)
    templates = root / "templates.yaml"
    shutil.copy(REPO / "bot" / "data" / "templates.yaml", templates)
    make_accounts(data)
    db = ConsoleDB(data)
    Accounts(db).add(LOCKED_USER, "staff", LOCKED_PASSWORD)
    db.close()
    seed_question_log(data)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=cli_env(data, templates),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"bulletin-bot web exited: {process.stdout.read() if process.stdout else ''}")
            time.sleep(0.2)
    yield {"url": f"http://127.0.0.1:{port}", "data": data, "templates": templates, "root": root}
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="zh-CN")
    opened = context.new_page()
    yield opened
    context.close()


def shot(page, name: str) -> None:
    if SHOTS is None:
        assert page.screenshot()  # rendered all the same
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def sign_in(page, server, name: str, password: str) -> None:
    page.goto(server["url"] + "/")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_sign_in_and_out(page, server):
    page.goto(server["url"] + "/")
    assert page.url.endswith("/login")
    shot(page, "login")
    sign_in(page, server, STAFF, STAFF_PASSWORD)
    assert page.get_by_label("简报文件").is_visible() and page.get_by_role("button", name="预览").is_visible()
    shot(page, "home")
    page.get_by_role("button", name="退出").click()
    assert page.url.endswith("/login")
    page.goto(server["url"] + "/status")
    assert page.url.endswith("/login")  # the session is over, not just the page


def test_wrong_password_then_lock_out(page, server):
    sign_in(page, server, LOCKED_USER, "not-the-password")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"
    for _ in range(LOCK_AFTER_FAILURES - 1):
        sign_in(page, server, LOCKED_USER, "not-the-password")
    sign_in(page, server, LOCKED_USER, LOCKED_PASSWORD)  # right, but too late
    assert "已锁定" in page.get_by_role("alert").inner_text() and page.url.endswith("/login")
    shot(page, "locked")


def test_a_form_with_a_forged_csrf_token_is_refused(page, server):
    sign_in(page, server, STAFF, STAFF_PASSWORD)
    page.locator("form[action='/upload'] input[name=csrf]").evaluate("e => e.value = 'forged'")
    page.get_by_label("简报文件").set_input_files(str(NEW_ISSUE))
    page.get_by_role("button", name="预览").click()
    assert "CSRF" in page.get_by_role("alert").inner_text()
    assert not list((server["data"] / "console_uploads").glob("*/*"))  # nothing was stored


def test_upload_preview_publish_then_the_bot_answers_from_it(page, server):
    sign_in(page, server, STAFF, STAFF_PASSWORD)
    page.get_by_label("简报文件").set_input_files(str(NEW_ISSUE))
    page.get_by_role("button", name="预览").click()
    assert "区图书馆新馆4月10日起开放 市民可免费办理借阅证" in page.content()
    assert page.get_by_label("日期（如识别有误，请改正后点“重新预览”）").input_value() == "2023-04-03"
    shot(page, "preview")
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_role("status")).to_contain_text("已用")  # the job's page, refreshing itself
    expect(page.get_by_role("status")).to_contain_text("added: 2023-04-03", timeout=180_000)
    shot(page, "published")
    asked = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "图书馆借阅证怎么办"],
        cwd=server["root"],
        env=cli_env(server["data"], server["templates"]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    answer = json.loads(asked.stdout)
    assert answer["outcome"] == "answer" and answer["sources"][0]["issue"] == "2023-04-03"
    page.goto(server["url"] + "/try")
    page.get_by_label("试问").fill("图书馆借阅证怎么办")
    page.get_by_role("button", name="试问").click()
    assert page.locator("#outcome").inner_text().startswith("回答")
    assert "2023-04-03" in page.locator("#reply").inner_text() or "借阅证" in page.locator("#reply").inner_text()
    shot(page, "try")
    page.goto(server["url"] + "/history")
    newest = page.locator("tr", has_text="（当前）")
    assert newest.locator("td").nth(4).inner_text() == STAFF  # the version made here names who made it
    shot(page, "history")


def test_a_broken_template_is_refused_with_its_line(page, server):
    sign_in(page, server, ADMIN, ADMIN_PASSWORD)
    page.goto(server["url"] + "/templates")
    saved = server["templates"].read_text(encoding="utf-8")
    box = page.get_by_label("模板（YAML）")
    text = box.input_value()
    lines = text.split("\n")
    line = lines.index(next(t for t in lines if t.startswith("flood:"))) + 2
    lines[line - 1] = "  {% if seconds %}请稍后再试"
    box.fill("\n".join(lines))
    page.get_by_role("button", name="检查并保存").click()
    problem = page.get_by_role("alert").inner_text()
    assert "文件未保存" in problem and f"line {line}, template 'flood'" in problem
    assert server["templates"].read_text(encoding="utf-8") == saved
    shot(page, "templates")


def test_an_article_with_a_script_is_shown_as_text(page, server, tmp_path):
    hostile = tmp_path / "2023-05-08.txt"
    hostile.write_text(
        "# 通知<script>document.title='pwned'</script>\n\n东昌府讯 <img src=x onerror=\"document.title='pwned'\">"
        "区里发布消息，请居民注意查看。\n",
        encoding="utf-8",
    )
    sign_in(page, server, STAFF, STAFF_PASSWORD)
    page.get_by_label("简报文件").set_input_files(str(hostile))
    page.get_by_role("button", name="预览").click()
    assert "通知<script>document.title='pwned'</script>" in page.locator("table").first.inner_text()
    assert page.title() != "pwned" and page.locator("main script, main img").count() == 0


def test_staff_are_refused_on_admin_pages(page, server):
    sign_in(page, server, STAFF, STAFF_PASSWORD)
    for path in ("/templates", "/users", "/audit", "/rollback"):
        response = page.goto(server["url"] + path)
        assert response.status == 403 and "仅限管理员" in page.get_by_role("alert").inner_text(), path
    shot(page, "refused")


def test_the_other_pages_render(page, server):
    sign_in(page, server, ADMIN, ADMIN_PASSWORD)
    for path, name, expected in (
        ("/questions", "questions", "狂犬疫苗在哪打"),
        ("/status", "status", "当前索引版本"),
        ("/users", "users", STAFF),
        ("/audit", "audit", "login"),
    ):
        page.goto(server["url"] + path)
        assert expected in page.content(), path
        shot(page, name)
    page.goto(server["url"] + "/questions")
    assert page.locator("svg rect").count() > 7  # the bars of a week, drawn by the server


def try_asking(page, server, question: str) -> None:
    page.goto(server["url"] + "/try")
    page.get_by_label("试问").fill(question)
    page.get_by_role("button", name="试问").click()


def test_a_pinned_correction_answers_a_paraphrase_and_not_covered_gives_no_answer(page, server):
    sign_in(page, server, STAFF, STAFF_PASSWORD)
    try_asking(page, server, "养老院现在去看老人还得提前预约不")
    page.get_by_role("link", name="纠正", exact=True).click()
    page.get_by_label("查找文章（标题中的字词）").fill("养老机构")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name="《全区养老机构恢复常态化探视 无需预约和检测》").click()
    second = page.locator("input[name=sentence][value='1']")
    pinned = page.locator("label", has=second).inner_text().strip().removeprefix("[1]").strip()
    second.check()
    shot(page, "correct")
    page.get_by_role("button", name="固定答案").click()
    expect(page.get_by_role("status")).to_contain_text("已保存纠正")
    assert pinned in page.locator("#corrections").inner_text()
    shot(page, "corrections")
    try_asking(page, server, "养老院看老人还用提前预约吗")
    assert page.locator("#path").inner_text() == "correction" and page.locator("#outcome").inner_text().startswith(
        "回答"
    )
    assert pinned in page.locator("#reply").inner_text()

    try_asking(page, server, "狂犬疫苗在哪打")
    page.get_by_role("link", name="纠正", exact=True).click()
    page.get_by_role("button", name="简报未涉及").click()
    expect(page.get_by_role("status")).to_contain_text("简报未涉及")
    try_asking(page, server, "被狗咬了，狂犬疫苗在哪打")
    assert page.locator("#path").inner_text() == "correction" and "（none）" in page.locator("#outcome").inner_text()
    assert "没有找到" in page.locator("#reply").inner_text()
