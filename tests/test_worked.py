"""Worked solutions and exercise sheets (tutor/worked.py, tutor/sheets.py, --worked, --exercise).

The numbers are proven against a forward and backward pass written here, independently of the
engine; the LaTeX is compiled with pdflatex; the answer key is read back as an answers file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

import numpy as np
import pytest
from tutor_text import TWO_TWO_TWO

from tui_backprop.cli import main
from tui_backprop.scenario.overrides import parse_set
from tui_backprop.scenario.reader import load_scenario, loads_scenario
from tui_backprop.tutor.command import document
from tui_backprop.tutor.sheets import answer_key, latex, markdown


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def by_hand(W, b, X, T, lr):
    """One full-batch step of a sigmoid network under half_sse, written out for this test."""
    acts, zs = [X], []
    for Wl, bl in zip(W, b, strict=True):
        zs.append(acts[-1] @ Wl.T + bl)
        acts.append(sigmoid(zs[-1]))
    deltas = [None] * len(W)
    deltas[-1] = (acts[-1] - T) * acts[-1] * (1 - acts[-1])
    for l in range(len(W) - 2, -1, -1):
        deltas[l] = (deltas[l + 1] @ W[l + 1]) * acts[l + 1] * (1 - acts[l + 1])
    B = len(X)
    gw = [d.T @ a / B for d, a in zip(deltas, acts[:-1], strict=True)]
    gb = [d.mean(axis=0) for d in deltas]
    loss = float(np.mean(0.5 * ((acts[-1] - T) ** 2).sum(axis=1)))
    new_w = [w - lr * g for w, g in zip(W, gw, strict=True)]
    return {"z": zs, "a": acts[1:], "delta": deltas, "grad_w": gw, "grad_b": gb, "w": new_w, "loss": loss}


def expected():
    W = [np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])]
    b = [np.array([0.35, 0.35]), np.array([0.60, 0.60])]
    X, T = np.array([[0.05, 0.10], [0.3, -0.2]]), np.array([[0.01, 0.99], [0.5, 0.2]])
    return by_hand(W, b, X, T, 0.5)


def test_the_answer_key_holds_the_true_values_as_an_answers_file():
    scenario = loads_scenario(TWO_TWO_TWO)
    doc = document(scenario, 1, ("z", "a", "delta", "grad_w", "grad_b", "w", "loss"))
    key = tomllib.loads(answer_key(doc, scenario.title))
    truth = expected()
    seen = set()
    for entry in key["answer"]:
        assert set(entry) <= {"step", "name", "index", "value"} and entry["step"] == 1
        name = entry["name"]
        if name == "loss":
            assert entry["value"] == pytest.approx(truth["loss"], rel=1e-12)
            seen.add(name)
            continue
        quantity, layer = name[:-1].split("[")
        assert quantity in ("z", "a", "delta", "grad_w", "grad_b", "w")
        value = truth[quantity][int(layer) - 1][tuple(entry["index"])]
        assert entry["value"] == pytest.approx(value, rel=1e-12, abs=1e-15), entry
        seen.add(quantity)
    assert seen == {"z", "a", "delta", "grad_w", "grad_b", "w", "loss"}
    # every entry of every blanked array is asked: 2 samples x 4 nodes of z, a, delta; 8 weights
    assert len(key["answer"]) == 3 * 8 + 8 + 4 + 8 + 1


def test_a_blanked_number_is_a_gap_and_not_given_away():
    scenario = loads_scenario(TWO_TWO_TWO)
    truth = expected()
    shown_delta = f"{truth['delta'][1][0, 0]:.4g}"
    worked = markdown(document(scenario, 1))
    sheet = markdown(document(scenario, 1, ("delta",)))
    assert shown_delta in worked
    assert shown_delta not in sheet  # neither as a result nor as an operand of a gradient
    assert sheet.count(r"\underline{\hspace{3em}}") == 8  # 2 samples x 4 nodes


def test_the_worked_solution_shows_each_result_to_four_digits():
    scenario = loads_scenario(TWO_TWO_TWO)
    text = markdown(document(scenario, 1))
    truth = expected()
    lines = text.splitlines()
    for l in (1, 2):
        for k in range(2):
            for j in range(2):
                z = f"{{z^{{[{l}]}}}}_{{{k},{j}}} ="
                line = next(s for s in lines if s.startswith(z))
                assert line.endswith(f"= {truth['z'][l - 1][k, j]:.4g}"), line
                g = next(
                    s for s in lines if s.startswith(f"\\partial L/\\partial {{w^{{[{l}]}}}}_{{{j},{k}}} =")
                )
                assert g.endswith(f"= {truth['grad_w'][l - 1][j, k]:.4g}"), g


def test_xor_identity_worked_step_1_shows_output_4_and_weights_0_6():
    text = markdown(document(load_scenario("xor_identity_worked"), 1))
    assert "{z^{[2]}}_{0} = 1 \\times 1 + 1 \\times 1 + 1 \\times 1 + 1 = 4" in text
    assert (
        "{w^{[2]}}_{0,0} - \\eta \\cdot \\partial L/\\partial {w^{[2]}}_{0,0} = 1 - 0.1 \\times 4 = 0.6"
        in text
    )
    assert "W^{[2]} = \\begin{bmatrix} 0.6 & 0.6 & 0.6 \\end{bmatrix}" in text


@pytest.mark.parametrize(
    "notation,expect", [("signals", r"S_{\mathrm{preA},H}"), ("delta", r"\mathrm{delta}_{0}")]
)
def test_the_scenarios_notation_names_the_quantities(notation, expect):
    scenario = loads_scenario(TWO_TWO_TWO + f'[display]\nnotation = "{notation}"\n')
    assert expect in markdown(document(scenario, 1))


def test_scenario_text_is_escaped_in_both_formats():
    nasty = TWO_TWO_TWO.replace('"2-2-2 sigmoid"', '"$x$ <b>_a_ 50% & #1 \\\\ {} ~ ^ \\u001b[31m δ"')
    doc = document(loads_scenario(nasty), 1)
    md = markdown(doc).splitlines()[0]
    assert md.startswith("# \\$x\\$ \\<b\\>\\_a\\_") and "\x1b" not in md
    tex = latex(doc)
    assert r"\$x\$ <b>\_a\_ 50\% \& \#1 \textbackslash{} \{\} \textasciitilde{} \textasciicircum{}" in tex
    assert "\x1b" not in tex and "δ" not in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex (texlive-latex-base) is not installed")
@pytest.mark.parametrize("notation", ["symbols", "signals"])
def test_the_latex_compiles(tmp_path, notation):
    scenario = loads_scenario(
        TWO_TWO_TWO.replace('batch = "full"', 'batch = "full"\nupdate_biases = false')
        + f'[display]\nnotation = "{notation}"\n'
    )
    (tmp_path / "w.tex").write_text(latex(document(scenario, 2, ("delta", "w"))))
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "w.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "w.pdf").stat().st_size > 1000


def test_exercise_writes_the_sheet_and_its_key(tmp_path, capsys):
    out = tmp_path / "sheet.md"
    assert main(["xor_identity_worked", "--exercise", "--blank", "w,b", "-o", str(out)]) == 0
    key = tomllib.loads((tmp_path / "sheet.key.toml").read_text())
    weights = [e for e in key["answer"] if e["name"] in ("w[2]", "b[2]", "b[1]")]
    assert len(weights) == 7 and all(e["value"] == pytest.approx(0.6) for e in weights)
    assert r"\underline{\hspace{3em}}" in out.read_text()


def test_worked_to_stdout_and_bad_input(tmp_path, capsys):
    assert main(["xor_identity_worked", "--worked", "2"]) == 0
    assert "## Step 2" in capsys.readouterr().out
    cases = [
        (["--worked", "--blank", "z"], "--blank goes with"),
        (["--exercise", "--blank", "delta,nope", "-o", str(tmp_path / "e.md")], "--blank: expected some of"),
        (["--exercise"], "--exercise needs -o FILE"),
        (["--worked", "0"], "STEPS must be 1 to 100"),
        (["--worked", "--headless"], "does not go with --headless"),
    ]
    for flags, message in cases:
        code = _code(["xor_identity_worked", *flags])
        assert code == 2, flags
        assert message in capsys.readouterr().err, flags
    assert not (tmp_path / "e.md").exists()
    assert main(["blobs_784", "--worked"]) == 2
    assert "more than 5,000" in capsys.readouterr().err


def _code(argv):
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def test_output_is_never_written_through_a_fifo_nor_over_a_file(tmp_path, capsys):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    assert main(["xor_identity_worked", "--worked", "-o", str(fifo)]) == 2
    assert "pipe.md: is a FIFO" in capsys.readouterr().err
    kept = tmp_path / "kept.md"
    kept.write_text("mine")
    assert main(["xor_identity_worked", "--worked", "-o", str(kept)]) == 2
    assert "already exists (give --force to replace it)" in capsys.readouterr().err
    assert kept.read_text() == "mine"
    assert main(["xor_identity_worked", "--worked", "-o", str(kept), "--force"]) == 0
    assert kept.read_text().startswith("# XOR worked example")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.md", "pipe.md"]  # no temporary left


def test_the_md_of_every_small_bundled_scenario_is_made(capsys):
    for name in ("xor", "mlp_error_signal", "linear_neuron_minibatch", "proportional_2_3_1_split"):
        assert main([name, "--worked"]) == 0, name
        assert "### Update" in capsys.readouterr().out


def test_a_blanked_loss_hides_the_samples_losses_too():
    scenario = loads_scenario(TWO_TWO_TWO)
    truth = expected()
    record_losses = [
        0.5 * ((a - t) ** 2).sum() for a, t in zip(truth["a"][1], [[0.01, 0.99], [0.5, 0.2]], strict=True)
    ]
    worked = markdown(document(scenario, 1))
    sheet = markdown(document(scenario, 1, ("loss",)))
    for value in (truth["loss"], *record_losses):
        assert f"{value:.4g}" in worked
        assert f"{value:.4g}" not in sheet


def test_a_blanked_z_is_not_given_in_a_softmax_line():
    sheet = markdown(document(load_scenario("iris", [parse_set("training.batch=1")]), 1, ("z",)))
    line = next(s for s in sheet.splitlines() if "\\Rightarrow" in s)
    assert "z = ({z^{[2]}}_{0}, {z^{[2]}}_{1}, {z^{[2]}}_{2})" in line
