"""BLAS threads: one unless BACKPROP_TUI_BLAS_THREADS says otherwise (common/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tui_backprop.common.threads import ENV, ThreadsError, blas_threads


def test_one_thread_unless_asked():
    assert blas_threads({}) == 1
    assert blas_threads({ENV: "3"}) == 3
    assert blas_threads({ENV: "default"}) is None


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_setting_is_named(bad):
    with pytest.raises(ThreadsError) as e:
        blas_threads({ENV: bad})
    assert str(e.value).startswith(f"error: {ENV}: expected a positive integer")


def run(code: str, env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != ENV}
    if env_value is not None:
        env[ENV] = env_value
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    return done.stdout.strip() + done.stderr.strip()


PROBE = (  # numpy loaded first, so that threadpool_info sees its BLAS whatever the command loads
    "import numpy\n"
    "from threadpoolctl import threadpool_info\n"
    "from tui_backprop.cli import main\n"
    "code = main(['xor', '--headless', '--steps', '1'])\n"
    "import sys; sys.stdout.flush()\n"
    "print('THREADS', [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'], code)\n"
)


def test_the_command_line_applies_it():
    assert "THREADS [1] 0" in run(PROBE, None)
    assert "THREADS [2] 0" in run(PROBE, "2")


def test_a_bad_setting_exits_2_with_the_message():
    out = run(PROBE, "lots")
    assert out.startswith("THREADS [2] 2")  # nothing run, nothing limited, exit code 2
    assert out.endswith(f"error: {ENV}: expected a positive integer or \"default\", got 'lots'")
