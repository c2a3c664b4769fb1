"""Chinese labels render with every glyph, in the Regular face, with nothing on stderr.

The in-process tests use whatever this machine has (on a fresh machine: the Noto Sans SC font
the project installs). The subprocess tests build a small "system" CJK family (a Regular and a
Bold face cut from that font with fontTools) in a private font folder, so both ways a system
font is found are tried on any machine: already in matplotlib's font cache, and installed after
the cache was built. The Bold file sorts first, as the Debian one does: it must serve bold text
only.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib import font_manager, ft2font  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ollama_nb import fonts  # noqa: E402

LABEL = "天空是蓝色的因为瑞利散射：猫坐在垫子上"
ROOT = Path(__file__).resolve().parent.parent


def _draw(text: str, family: list[str] | None, weight: str = "normal") -> list[str]:
    """Draw `text` into a PNG; return every warning and font_manager log line it caused."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("matplotlib.font_manager")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = Figure(figsize=(4, 1))
            fig.text(0.05, 0.5, text, fontfamily=family, fontweight=weight)
            fig.savefig(io.BytesIO(), format="png")
    finally:
        logger.removeHandler(handler)
    return [str(w.message) for w in caught] + records


def test_a_chinese_label_has_every_glyph_and_draws_without_a_warning():
    family = fonts.family_for([LABEL])
    assert family is not None and family[0] == fonts.cjk_family()
    assert fonts.missing_glyphs(LABEL) == ""
    assert _draw(LABEL, family) == []
    # without the CJK font matplotlib does report the missing glyphs: the check can fail
    assert any("missing from font" in m for m in _draw(LABEL, ["DejaVu Sans"]))


def test_ordinary_text_uses_the_regular_face_and_bold_text_warns_nothing():
    family = fonts.cjk_family()
    regular = ft2font.FT2Font(fonts.font_file(family, "normal"))
    assert regular.style_name == "Regular"
    assert _draw(LABEL, [family, "DejaVu Sans"], weight="bold") == []
    assert _draw(LABEL, [family, "DejaVu Sans"], weight="light") == []


def test_latin_only_text_needs_no_cjk_font():
    assert fonts.family_for(["The cat sat on the mat.", "PC1"]) is None
    assert fonts.needs_cjk(["猫"]) and fonts.needs_cjk(["ｅｍ"]) and not fonts.needs_cjk(["e"])


def test_the_bundled_font_is_installed_with_an_open_licence():
    path = fonts.bundled_font()
    assert path is not None, "pylopdf-fonts-zh-cn (Noto Sans SC, OFL) is a project dependency"
    assert font_manager.FontProperties(fname=str(path)).get_name() == "Noto Sans SC"
    from importlib.metadata import distribution

    meta = distribution("pylopdf-fonts-zh-cn").metadata
    assert "Open Font License" in (meta.get("License") or "") + " ".join(
        meta.get_all("Classifier") or []
    )


# -- a system font, found two ways ------------------------------------------------------------
def _cut(source: Path, target: Path, bold: bool) -> None:
    """A small copy of `source` renamed to the family 'Noto Sans CJK SC', Regular or Bold."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.name_IDs = ["*"]
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=LABEL + fonts.SAMPLE + "abcPC")
    subsetter.subset(font)
    style = "Bold" if bold else "Regular"
    names = {1: "Noto Sans CJK SC", 2: style, 4: f"Noto Sans CJK SC {style}",
             6: f"NotoSansCJKsc-{style}", 16: "Noto Sans CJK SC", 17: style}  # fmt: skip
    for record in list(font["name"].names):
        if record.nameID in names:
            record.string = names[record.nameID]
    font["OS/2"].usWeightClass = 700 if bold else 400
    font["head"].macStyle = 1 if bold else 0
    font.save(target)


@pytest.fixture(scope="module")
def system_fonts(tmp_path_factory) -> Path:
    """A private XDG data folder holding fonts/NotoSansCJK-Bold.otf and -Regular.otf."""
    source = fonts.bundled_font()
    if source is None:
        pytest.fail("the bundled font is missing, so the test fonts cannot be cut from it")
    data = tmp_path_factory.mktemp("xdg")
    (data / "fonts").mkdir()
    _cut(source, data / "fonts" / "NotoSansCJK-Bold.otf", bold=True)
    _cut(source, data / "fonts" / "NotoSansCJK-Regular.otf", bold=False)
    return data


PROBE = textwrap.dedent(
    """
    import io, json, matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from ollama_nb import fonts
    family = fonts.family_for(["猫坐在垫子上"])
    fig = Figure()
    fig.text(0, 0.2, "天空是蓝色的", fontfamily=family)
    fig.text(0, 0.6, "猫坐在垫子上", fontfamily=family, fontweight="bold")
    fig.savefig(io.BytesIO(), format="png")
    print(json.dumps({"family": family, "regular": fonts.font_file(family[0]),
                      "bold": fonts.font_file(family[0], "bold")}))
    """
)


def _probe(data: Path, config: Path) -> tuple[dict, str]:
    import json

    env = {**os.environ, "XDG_DATA_HOME": str(data), "MPLCONFIGDIR": str(config)}
    env.pop("MPLBACKEND", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300,
        cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_a_system_font_in_matplotlib_s_cache_is_preferred(system_fonts, tmp_path):
    found, stderr = _probe(system_fonts, tmp_path / "mpl")  # the cache is built with the fonts
    assert stderr == ""
    assert found["family"][0] == "Noto Sans CJK SC"
    assert found["regular"].endswith("NotoSansCJK-Regular.otf")
    assert found["bold"].endswith("NotoSansCJK-Bold.otf")


def test_a_system_font_installed_after_the_cache_was_built_is_found(system_fonts, tmp_path):
    empty = tmp_path / "empty"
    (empty / "fonts").mkdir(parents=True)
    _probe(empty, tmp_path / "mpl")  # builds matplotlib's font cache without the CJK fonts
    found, stderr = _probe(system_fonts, tmp_path / "mpl")
    assert stderr == ""
    assert found["family"][0] == "Noto Sans CJK SC"
    assert found["regular"].endswith("NotoSansCJK-Regular.otf")
    assert found["bold"].endswith("NotoSansCJK-Bold.otf")
