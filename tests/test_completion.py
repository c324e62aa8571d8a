"""--completion bash|zsh|fish: scripts the shells parse, that complete scenario names, flags and
--set keys (bash and fish run here with the script loaded)."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess

import pytest

from tui_backprop.cli import _parser, main
from tui_backprop.scenario.reader import bundled_names


def completion(shell: str, capsys) -> str:
    assert main(["--completion", shell]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> dict[str, str]:
    """Each shell's script, once for the module (written to a file for the shells to source)."""
    folder = tmp_path_factory.mktemp("completion")
    out = {}
    for shell in ("bash", "zsh", "fish"):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["--completion", shell]) == 0
        path = folder / f"backprop-tui.{shell}"
        path.write_text(printed.getvalue())
        out[shell] = str(path)
    return out


def test_every_flag_that_help_lists_is_in_every_script(capsys):
    listed = {n for a in _parser().flags if a.help != "==SUPPRESS==" for n in a.option_strings}
    assert {"--headless", "--set", "--completion", "--export-dir"} <= listed
    for shell in ("bash", "zsh", "fish"):
        text = completion(shell, capsys)
        for name in listed:
            spelt = (
                name if shell != "fish" else (f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
            )
            assert spelt in text, (shell, name)
        assert "served-export-dir" not in text  # the hidden flags stay hidden
        assert all(name in text for name in bundled_names())


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_shell_parses_the_script(scripts, shell):
    if shell != "bash" and shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (apt-get install {shell})")
    proc = subprocess.run([shell, "-n", scripts[shell]], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def bash_completes(script: str, words: list[str], cwd) -> set[str]:
    """What the bash completion offers for the command line ``backprop-tui WORDS`` (the last word
    being the one typed), run as bash's programmable completion runs it."""
    quoted = " ".join(f"'{w}'" for w in ["backprop-tui", *words])
    program = (
        f"source '{script}'\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words)}\n"
        '_backprop_tui backprop-tui "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return {line for line in proc.stdout.splitlines() if line}


@pytest.mark.parametrize(
    "words, offered",
    [
        (["xo"], {"xor", "xor_identity_worked"}),  # a bundled scenario's name
        (["iri"], {"iris"}),
        (["--hea"], {"--headless"}),
        (["--comp"], {"--completion"}),
        (["xor", "--set", "training.learn"], {"training.learning_rate="}),
        (["xor", "--vary", "network.act"], {"network.activation=", "network.activations="}),
        (["--completion", "f"], {"fish"}),
        (["xor", "--fields", "grad_"], {"grad_w", "grad_b"}),
        (["xor", "--steps", ""], set()),  # a number: nothing to offer
    ],
)
def test_bash_completes(scripts, tmp_path, words, offered):
    assert bash_completes(scripts["bash"], words, tmp_path) == offered


def test_bash_offers_scenario_and_trace_files_and_folders_where_a_scenario_goes(scripts, tmp_path):
    for name in ("mine.toml", "run.json", "notes.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "more").mkdir()
    offered = bash_completes(scripts["bash"], [""], tmp_path)
    assert {"mine.toml", "run.json", "more", "xor", "spiral"} <= offered
    assert "notes.txt" not in offered
    assert "notes.txt" in bash_completes(scripts["bash"], ["xor", "--export", ""], tmp_path)  # any file


@pytest.mark.parametrize(
    "line, offered",
    [
        ("backprop-tui xo", {"xor", "xor_identity_worked"}),
        ("backprop-tui xor --set training.learn", {"training.learning_rate="}),
        ("backprop-tui --head", {"--headless"}),
    ],
)
def test_fish_completes(scripts, line, offered):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed (apt-get install fish)")
    program = f"source '{scripts['fish']}'; complete -C '{line}'"
    proc = subprocess.run(["fish", "-c", program], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    found = {line.split("\t")[0] for line in proc.stdout.splitlines()}
    assert found == offered, found


def test_zsh_completes_on_a_terminal(scripts, tmp_path):
    """An interactive zsh on a pseudo-terminal, tab pressed after each partial line: what it
    completes the line to (the script needs compinit, as a user's ~/.zshrc has it)."""
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed (apt-get install zsh)")
    import os
    import pty
    import select
    import time

    master, slave = pty.openpty()
    env = dict(os.environ, TERM="dumb", HOME=str(tmp_path))
    shell = subprocess.Popen(
        ["zsh", "-f", "-i"], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path
    )
    os.close(slave)
    seen = ""

    def until(text: str) -> None:
        nonlocal seen
        deadline = time.monotonic() + 10.0
        # a character rubbed out and written again (zsh redraws a space before a typed one) is one
        while text not in re.sub(r"(.)\x08\1", r"\1", seen):
            left = deadline - time.monotonic()
            assert left > 0, f"zsh did not show {text!r} within 10 s; it showed {seen[-300:]!r}"
            if select.select([master], [], [], min(left, 0.2))[0]:
                seen += os.read(master, 65536).decode("utf-8", "replace").replace("\a", "")  # no bell

    try:
        os.write(
            master, f"autoload -U compinit; compinit -D -u; source '{scripts['zsh']}'; echo READY\n".encode()
        )
        until("READY\r\n")
        for typed, completed in [
            ("backprop-tui iri", "backprop-tui iris "),  # a bundled scenario, then a space
            ("backprop-tui xor --set training.learn", "backprop-tui xor --set training.learning_rate="),
            ("backprop-tui --headl", "backprop-tui --headless "),
        ]:
            seen = ""
            # ctrl+u clears the line, tab completes, then Z is typed: it shows whether a space came
            os.write(master, f"\x15{typed}\t".encode())
            until(completed)
            os.write(master, b"Z")
            until(completed + "Z")  # after a --set key no space, as its value follows
    finally:
        os.write(master, b"\x15exit\n")
        try:
            shell.wait(timeout=10)
        finally:
            if shell.poll() is None:
                shell.kill()
            os.close(master)
