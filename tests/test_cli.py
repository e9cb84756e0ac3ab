"""The `portal` command as editors use it: output format, exit codes, serving and preview."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import cast

import click
import pytest
from click.testing import CliRunner

from generator import pipeline
from portal.cli import main
from portal.serve import make_server, preview_site
from tests.conftest import ROOT, TODAY, line_of


def _args(project: Path, *extra: str) -> list[str]:
    return [*extra, "--content", str(project / "content"), "--config", str(project / "site_config.yml"),
            "--today", "2026-11-23"]  # fmt: skip


def test_check_passes_with_warnings_and_exit_0(runner: CliRunner, project: Path) -> None:
    result = runner.invoke(main, _args(project, "check", "--out", str(project / "site")))
    assert result.exit_code == 0, result.output
    assert "检查通过：27 个事项" in result.output
    assert "警告：" in result.output


def test_check_lists_every_error_as_path_line_message(runner: CliRunner, project: Path, edit: Callable) -> None:
    path = edit("content/services/jy-shiye-dengji.yml", "kind: 即办件", "kind: 急办件")
    edit("content/posts.yml", "    a: QX0101", "    a: QX9999")
    result = runner.invoke(main, _args(project, "check"))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = f"jy-shiye-dengji.yml:{line_of(path, 'kind:')}: kind（办件类型） 应为以下之一：「即办件」、「承诺件」"
    assert any(line.endswith(expected) for line in lines)
    assert any("posts.yml:" in line and "QX9999" in line for line in lines)
    assert "Traceback" not in result.output
    assert "发现 2 处错误" in result.output


def test_bad_today_is_a_clear_error(runner: CliRunner, project: Path) -> None:
    result = runner.invoke(main, ["check", "--content", str(project / "content"), "--today", "23/11/2026"])
    assert result.exit_code == 2 and "日期应写成 2026-01-31 的形式" in result.output


def test_missing_content_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["check", "--content", str(tmp_path / "nope"), "--config", str(tmp_path / "x.yml")])
    assert result.exit_code == 1
    assert "内容目录不存在" in result.output and "站点设置文件不存在" in result.output


def test_build_then_failed_build_keeps_site(runner: CliRunner, project: Path, edit: Callable) -> None:
    out = project / "site"
    ok = runner.invoke(main, _args(project, "build", "--out", str(out)))
    assert ok.exit_code == 0, ok.output
    assert "已生成" in ok.output and "27 个事项" in ok.output
    edit("content/services/jy-shiye-dengji.yml", "code: JY-001", "code: JY 001")
    bad = runner.invoke(main, _args(project, "build", "--out", str(out)))
    assert bad.exit_code == 1 and "网站未更新" in bad.output
    assert (out / "services/JY-001/index.html").exists()


def test_serve_without_a_site_says_what_to_do(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["serve", "--out", str(tmp_path / "site")])
    assert result.exit_code == 1 and "请先运行 portal build" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_serves_the_site(built_site: Path) -> None:
    server = make_server(built_site, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/services/JY-001/") as response:
            assert "失业登记" in response.read().decode("utf-8")
    finally:
        server.shutdown()
        server.server_close()


def test_preview_rebuilds_when_content_changes(project: Path, edit: Callable) -> None:
    builds: list[float] = []
    stop = threading.Event()
    out = project / "site"
    warm, site = pipeline.Warm(), pipeline.preview_folder(out)

    def rebuild() -> None:
        pipeline.build(project / "content", project / "site_config.yml", out, TODAY, warm=warm)
        builds.append(time.monotonic())

    args = (site, "127.0.0.1", _free_port(), [project / "content", project / "site_config.yml"], rebuild)
    thread = threading.Thread(target=preview_site, args=args, kwargs={"settle": 0.1, "stop": stop}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not builds and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(builds) == 1
    time.sleep(0.5)
    assert len(builds) == 1  # the build's own output does not trigger another build
    edit("content/services/jy-shiye-dengji.yml", "name: 失业登记", "name: 失业登记（预览）")
    while len(builds) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    assert "失业登记（预览）" in (site / "services/JY-001/index.html").read_text(encoding="utf-8")
    assert not out.exists()  # the preview publishes nothing


def test_preview_goes_on_after_a_failed_build(
    runner: CliRunner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up, then is freed: the preview says so in one line and builds at the next save."""
    calls: list[str] = []

    def build(*_: object, **__: object) -> pipeline.BuildReport:
        calls.append("build")
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return pipeline.BuildReport(54, 27, 1.0, [], {"check": 0.1, "render": 0.2, "mkdocs": 0.3})

    def saves(_out: Path, *_: object, rebuild: Callable[[], None], **__: object) -> None:
        rebuild()
        rebuild()

    monkeypatch.setattr(pipeline, "build", build)
    monkeypatch.setattr("portal.cli.preview_site", saves)
    args = ["preview", "--content", str(project / "content"), "--config", str(project / "site_config.yml"),
            "--out", str(project / "site")]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and calls == ["build", "build"]
    assert "错误：[Errno 28] No space left on device。预览继续运行，保存文件后重新生成。" in result.output
    assert "已重新生成：27 个事项，用时 1.0 秒（页面在 0.6 秒时已更新，搜索索引随后更新）。" in result.output
    assert "Traceback" not in result.output


def _commands(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every subcommand of `portal`, nested groups included."""
    found = []
    for name, command in group.commands.items():
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_and_option_is_explained_in_chinese(runner: CliRunner, command: tuple[str, ...]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    context = click.Context(main)
    target: click.Command = main
    for name in command:
        target = cast(click.Group, target).get_command(context, name)  # type: ignore[assignment]
    assert CHINESE.search(target.help or ""), f"{' '.join(command)} has no Chinese description"
    for param in target.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert CHINESE.search(param.help or ""), f"{' '.join(command)} {param.opts[0]} has no Chinese help"
            assert param.opts[0] in result.output


BACKEND_STACK = ("flask", "sqlalchemy", "cryptography", "alembic", "argon2", "wtforms", "forms_api")


@pytest.mark.parametrize("command", ["check", "build"])
def test_editors_commands_load_none_of_the_backend(project: Path, command: str) -> None:
    """`portal check` and `portal build` work where the backend's libraries are missing or broken."""
    args = _args(project, command, "--out", str(project / "site"))
    code = (
        "import sys\nfrom portal.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & {set(BACKEND_STACK)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout


def test_content_errors_name_their_problems_without_the_cli(tmp_path: Path) -> None:
    """A server log (gunicorn start-up) shows what is wrong from the exception alone."""
    from core.errors import ContentError
    from core.validate import load_catalogue

    with pytest.raises(ContentError, match=r"内容有 2 处错误：\n.*内容目录不存在\n.*站点设置文件不存在"):
        load_catalogue(tmp_path / "nope", tmp_path / "x.yml")


# ------------------------------------------------------------ staff accounts
@pytest.fixture
def accounts_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private database for the `portal user` commands."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "i"))


def test_user_add_takes_the_name_from_the_staff_list(runner: CliRunner, accounts_db: None) -> None:
    result = runner.invoke(main, ["user", "add", "yu", "--role", "window-lead", "--window", "county-hall:1",
                                  "--badge", "QX0117"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已创建 yu（窗口负责人）：俞倩（工号 QX0117）。" in result.output
    named = runner.invoke(main, ["user", "add", "li", "--role", "supervisor", "--badge", "QX9001",
                                 "--real-name", "李督办"])  # fmt: skip
    assert named.exit_code == 0 and "已创建 li（督办员）：李督办（工号 QX9001）。" in named.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "错误：请用 --badge 填写工号（如 QX0117）"),
        (["--badge", "QX0103", "--real-name", "王莉娟"],
         "错误：工号 QX0103 在岗位名单中的姓名是「王丽娟」，与 --real-name 填写的「王莉娟」不一致"),
        (["--badge", "QX9001"], "错误：工号 QX9001 不在岗位名单（content/posts.yml）中，请用 --real-name 填写姓名"),
        (["--badge", "qx0117"], "错误：工号 QX0117 已属于账号 yu"),
    ],
)  # fmt: skip
def test_user_add_refuses_a_missing_or_wrong_identity(runner: CliRunner, accounts_db: None, args: list[str],
                                                      message: str) -> None:  # fmt: skip
    assert runner.invoke(main, ["user", "add", "yu", "--role", "intake", "--badge", "QX0117"]).exit_code == 0
    result = runner.invoke(main, ["user", "add", "someone", "--role", "intake", *args])
    assert result.exit_code == 1 and result.output.strip() == message


def test_user_list_shows_people_roles_and_windows_in_chinese(runner: CliRunner, accounts_db: None) -> None:
    assert "还没有账号" in runner.invoke(main, ["user", "list"]).output
    for args in (["yu", "--role", "window-lead", "--window", "county-hall:1", "--badge", "QX0117"],
                 ["wang", "--role", "intake", "--badge", "QX0103"]):  # fmt: skip
        assert runner.invoke(main, ["user", "add", *args]).exit_code == 0
    assert runner.invoke(main, ["user", "disable", "wang"]).exit_code == 0
    result = runner.invoke(main, ["user", "list"])
    assert result.exit_code == 0
    lines = [line.split() for line in result.output.splitlines()]
    assert lines[0] == ["用户名", "姓名", "工号", "角色", "负责窗口", "状态"]
    assert lines[2] == ["wang", "王丽娟", "QX0103", "受理员", "—", "停用"]
    assert lines[3] == ["yu", "俞倩", "QX0117", "窗口负责人", "青溪县人力资源和社会保障服务大厅", "1", "号就业登记窗口",
                        "启用"]  # fmt: skip
    assert "password" not in result.output and "$argon2" not in result.output
