"""LaTeX math for the worked solutions: numbers and the notation's names.

One math string serves both outputs: GitHub renders it between ``$$`` in Markdown, pdflatex
between ``\\[ \\]``. The names come from scenario/notation.py's Vocabulary (its Unicode names,
``δ[2]``, ``S_preA,H``, ``∂E/∂w_0``) and are only translated here, so the three notations stay
defined in one place.

    number(x, digits)   x to ``digits`` significant digits: 0.1385, 1.2\\times10^{-5}
    operand(x, digits)  the same, negative ones in parentheses, as an operand of × or −
    name(s)             a Vocabulary name as LaTeX: δ[2] -> \\delta^{[2]}, S_preA,H -> S_{\\mathrm{preA},H}
    element(s, index)   one entry of it: {\\delta^{[2]}}_{0,1}
    text(s)             plain text from a scenario inside LaTeX's \\text{} or a .tex paragraph
"""

from __future__ import annotations

import math
import re

_UNICODE = {
    "δ": r"\delta ",
    "η": r"\eta ",
    "α": r"\alpha ",
    "μ": r"\mu ",
    "ℓ": r"\ell ",
    "∂": r"\partial ",
    "′": "'",
    "−": "-",
    "·": r"\cdot ",
    "×": r"\times ",
    "Σ": r"\sum ",
    "σ": r"\sigma ",
}
_WORD = re.compile(r"([A-Za-z]+)(?:_([A-Za-z0-9,_]+))?")
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
}


def number(x: float, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits, as LaTeX (an exponent as ×10^k; -0 as 0)."""
    x = float(x) + 0.0
    if not math.isfinite(x):
        return r"\mathrm{nan}" if math.isnan(x) else (r"\infty" if x > 0 else r"-\infty")
    s = f"{x:.{digits}g}"
    mantissa, e, exponent = s.partition("e")
    if not e:
        return s
    return rf"{mantissa}\times10^{{{int(exponent)}}}"


def operand(x: float, digits: int = 4) -> str:
    s = number(x, digits)
    return f"({s})" if s.startswith("-") else s


def exact(x: float) -> str:
    """The shortest digits that read back as ``x`` (the trace's)."""
    return number(x, 17) if not math.isfinite(x) else _shortest(float(x))


def _shortest(x: float) -> str:
    s = repr(x + 0.0).removesuffix(".0")
    mantissa, e, exponent = s.partition("e")
    return rf"{mantissa}\times10^{{{int(exponent)}}}" if e else s


def plain_number(x: float, digits: int | None = None) -> str:
    """``x`` as plain text: to ``digits`` significant digits, or every digit (None)."""
    x = float(x) + 0.0
    if digits is not None:
        return f"{x:.{digits}g}"
    s = repr(x)
    return s.removesuffix(".0")


def _word(m: re.Match[str]) -> str:
    base, sub = m.group(1), m.group(2)
    base_tex = base if len(base) == 1 else rf"\mathrm{{{base}}}"
    if sub is None:
        return base_tex
    parts = [
        p if len(p) <= 1 or p.isdigit() else r"\mathrm{" + p.replace("_", r"\_") + "}" for p in sub.split(",")
    ]
    return f"{base_tex}_{{{','.join(parts)}}}"


def name(s: str) -> str:
    """A Vocabulary name as LaTeX math."""
    s = re.sub(r"\[(\d+)\]", r"^{[\1]}", s)
    s = _WORD.sub(_word, s)
    for u, tex in _UNICODE.items():
        s = s.replace(u, tex)
    return s.strip()


def element(s: str, index: str) -> str:
    """Entry ``index`` of the quantity called ``s`` (braced, so that a name with its own
    subscript takes another)."""
    return f"{{{name(s)}}}_{{{index}}}" if index else name(s)


_TEXT_UNICODE = {
    "−": "-",
    "–": "--",
    "—": "---",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "…": r"\ldots{}",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "→": r"$\to$",
    "←": r"$\leftarrow$",
    "≈": r"$\approx$",
    "²": r"$^2$",
    "½": r"$\frac12$",
    **{u: f"${tex.strip()}$" for u, tex in _UNICODE.items() if tex.startswith("\\")},
}


def text(s: str) -> str:
    """Plain text with LaTeX's special characters escaped, for a .tex paragraph or table cell.
    pdflatex knows no other characters than ASCII: a few are written as LaTeX, any other as
    its code point, [U+2203]."""
    out = []
    for c in s:
        if c in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[c])
        elif c.isascii():
            out.append(c)
        else:
            out.append(_TEXT_UNICODE.get(c, f"[U+{ord(c):04X}]"))
    return "".join(out)
