"""Strategies shared by the fuzz tests: real samples and the ways real data breaks.

A mutation of a real sample reaches deep into a parser (past the first "is this
even MARC?" check), which random bytes rarely do.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# Characters real input brings: CJK and full-width punctuation, control characters,
# bidi marks, lone surrogates' neighbours, combining marks, emoji.
_ODD = "《》「」“”‘’，。：；（）［］\u3000\u200b\u200f\u202e\ufeff\x00\x1b\x1d\x1e\x1f\t\r\n\\%&=?#"
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from(_ODD),
    ),
    max_size=300,
)
huge_text = st.builds(
    lambda piece, times: piece * times, st.text(min_size=1, max_size=8), st.integers(1_000, 20_000)
)


def lines_of(path: Path) -> list[str]:
    """Non-comment lines of a fixture text file (OpenURL samples)."""
    text = path.read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@st.composite
def mutated_bytes(draw: st.DrawFn, samples: list[bytes], max_edits: int = 6) -> bytes:
    """A real sample with byte flips, deletions, insertions, a truncation or a repeat."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "set", "delete", "insert", "truncate", "repeat"]))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set":
            data[at] = draw(st.sampled_from([0x00, 0x1B, 0x1D, 0x1E, 0x1F, 0x20, 0x30, 0xFF]))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif edit == "truncate":
            del data[at:]
        else:
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end] * draw(st.integers(1, 5))
    return bytes(data)


@st.composite
def mutated_text(draw: st.DrawFn, samples: list[str], max_edits: int = 4) -> str:
    """A real sample with pieces cut out, repeated, or replaced by odd characters."""
    text = draw(st.sampled_from(samples))
    for _ in range(draw(st.integers(1, max_edits))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "truncate", "repeat"]))
        if edit == "insert":
            text = text[:at] + draw(nasty_text) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif edit == "truncate":
            text = text[:at]
        else:
            text = text[:at] + text[at : at + 40] * draw(st.integers(2, 50)) + text[at:]
    return text


def examples(ci_count: int) -> int:
    """``ci_count`` examples under the CI profile, scaled up with a deeper profile."""
    from hypothesis import settings

    return max(1, ci_count * settings.default.max_examples // 200)
