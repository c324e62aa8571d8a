"""A worked solution or an exercise sheet (worked.py's Document) written out, and its answer key.

    markdown(doc)   GitHub Markdown: math between $$ on lines of their own, tables with pipes
    latex(doc)      a whole .tex file for pdflatex (amsmath only): \\[ \\] for math, tabular tables
    answer_key(doc) the blanked numbers as an answers file: TOML, one [[answer]] each (step, name,
                    index, value), the values to every digit

Text from the scenario (its name, description, node names) is escaped for each format: it is
shown, never interpreted (common/escape.py first, so that no control character gets through).
"""

from __future__ import annotations

import re

from ..common.escape import shown
from . import mathtext as mt
from .worked import Block, Document

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~])")
# what would start a heading, a quote, a list or a rule at the start of a line
_MD_LINE_START = re.compile(r"^(\s*)([#>]|[+=-](?=\s|$)|\d+[.)](?=\s|$))")


def _md_text(s: str) -> str:
    """Text as Markdown shows it, and nothing more: no emphasis, link, HTML or math."""
    one_line = " ".join(shown(s, None, keep_newlines=True).split())
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _MD_SPECIAL.sub(r"\\\1", one_line))


def markdown(doc: Document) -> str:
    out = [f"# {_md_text(doc.title)}", ""]
    for block in doc.blocks:
        out.extend(_md_block(block))
        out.append("")
    return "\n".join(out)


def _md_block(b: Block) -> list[str]:
    if b.kind == "heading":
        return ["#" * b.level + " " + _md_text(b.text)]
    if b.kind == "text":
        return [_md_text(b.text)]
    if b.kind == "math":
        return ["$$", b.text, "$$"]
    head, *rows = b.rows
    lines = ["| " + " | ".join(_md_text(c) for c in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_text(c) for c in row) + " |" for row in rows]
    return lines


LATEX_HEAD = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath}
\usepackage[margin=2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
\allowdisplaybreaks
\begin{document}
"""


def _tex_text(s: str) -> str:
    return mt.text(shown(s, None, keep_newlines=True)).replace("\n", " ")


def latex(doc: Document) -> str:
    out = [LATEX_HEAD, rf"\section*{{{_tex_text(doc.title)}}}"]
    for block in doc.blocks:
        out.append(_tex_block(block))
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _tex_block(b: Block) -> str:
    if b.kind == "heading":
        command = {1: "section*", 2: "subsection*", 3: "subsubsection*"}.get(b.level, "paragraph*")
        return rf"\{command}{{{_tex_text(b.text)}}}"
    if b.kind == "text":
        return _tex_text(b.text) + "\n"
    if b.kind == "math":
        return rf"\[ {b.text} \]"
    head, *rows = b.rows
    lines = [
        r"\begin{tabular}{" + "l" * len(head) + "}",
        " & ".join(_tex_text(c) for c in head) + r" \\ \hline",
    ]
    lines += [" & ".join(_tex_text(c) for c in row) + r" \\" for row in rows]
    lines.append(r"\end{tabular}" + "\n")
    return "\n".join(lines)


def render(doc: Document, fmt: str) -> str:
    return markdown(doc) if fmt == "md" else latex(doc)


def answer_key(doc: Document, scenario: str) -> str:
    """The blanked numbers of ``doc`` as an answers file (TOML): every digit of each true value."""
    title = shown(scenario, None).replace("\\", "\\\\").replace('"', '\\"')
    out = [f"# the answer key of an exercise sheet on {title}", ""]
    for e in doc.key:
        out.append("[[answer]]")
        out.append(f"step = {e.step}")
        out.append(f'name = "{e.name}"')
        if e.index is not None:
            out.append(f"index = [{', '.join(str(i) for i in e.index)}]")
        out.append(f"value = {_toml_float(e.value)}")
        out.append("")
    return "\n".join(out)


def _toml_float(x: float) -> str:
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))
