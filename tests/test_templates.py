"""Templates: sandboxed, validated on load, the old set kept when a new one is broken."""

from __future__ import annotations

import shutil

import pytest

from bot.settings import REPO_CONFIG
from bot.templates import TemplateError, Templates


@pytest.fixture
def template_file(tmp_path):
    path = tmp_path / "templates.yaml"
    shutil.copy(REPO_CONFIG / "templates.yaml", path)
    return path


def edit(path, name, new_text):
    import yaml

    data = yaml.safe_load(path.read_text("utf-8"))
    data[name] = new_text
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def test_broken_template_keeps_the_old_ones_and_reports_the_line(template_file):
    templates = Templates(template_file)
    before = templates.render("flood", seconds=5)
    edit(template_file, "flood", "第一行\n第二行 {% if %}\n第三行")
    with pytest.raises(TemplateError, match=r"template 'flood', line 2"):
        templates.reload()
    assert templates.render("flood", seconds=5) == before


def test_unknown_variable_is_reported_with_the_line(template_file):
    templates = Templates(template_file)
    edit(template_file, "no_answer", "抱歉\n{{ questoin }}")
    with pytest.raises(TemplateError, match=r"template 'no_answer', line 2: unknown variable\(s\) questoin"):
        templates.reload()


def test_missing_template_is_reported(template_file):
    text = template_file.read_text("utf-8").replace("not_admin:", "not_admin_renamed:")
    template_file.write_text(text, "utf-8")
    with pytest.raises(TemplateError, match="missing templates: not_admin"):
        Templates(template_file)


def test_values_are_html_escaped(template_file):
    templates = Templates(template_file)
    out = templates.render("no_answer", question="<b>x</b>", related=[{"title": "A & <i>B</i>", "date": "d"}])
    assert "A &amp; &lt;i&gt;B&lt;/i&gt;" in out


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ seconds.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
])
def test_sandbox_blocks_python_objects(template_file, attack):
    edit(template_file, "flood", attack)
    templates = Templates(template_file)  # it parses; rendering is what the sandbox stops
    from jinja2.exceptions import SecurityError, UndefinedError

    try:
        out = templates.render("flood", seconds=3)
    except (SecurityError, UndefinedError):
        return
    assert "subclasses" not in out and "uid=" not in out and "<class" not in out and "&lt;class" not in out
