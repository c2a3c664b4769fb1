"""Chinese text in matplotlib figures on any machine, without a warning on stderr.

matplotlib's own fonts have no Chinese glyphs, so a label such as "猫坐在垫子上" draws as boxes
and every missing glyph warns on the cell's stderr. This module finds a font with those glyphs
once per process and registers it with matplotlib:

1. a system CJK font when one is installed (Simplified Chinese faces first), taking its
   Regular face for ordinary text; a Bold face of the same family serves bold text only;
2. otherwise the Noto Sans SC Regular font that the project installs from PyPI (the
   `pylopdf-fonts-zh-cn` package, SIL Open Font License 1.1), so a fresh machine with no
   system font and no root still shows Chinese.

The returned family goes first in a label's font list, with matplotlib's default after it, so
every glyph comes from a font that has it. Weights the family lacks (bold, light, ...) are
served by its nearest face, so matplotlib never warns "Failed to find font weight".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["bundled_font", "cjk_family", "family_for", "font_file", "missing_glyphs", "needs_cjk"]

# Families with Chinese glyphs, Simplified Chinese faces first (a JP or KR face draws some
# characters in other regional forms).
PREFERRED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "SimHei",
    "Noto Sans CJK TC",
    "Noto Sans CJK HK",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Arial Unicode MS",
)
# Characters every candidate must have (common ones, so a partial font is not taken).
SAMPLE = "中文的是天空蓝色猫狗你好"
# Only files whose path says CJK are opened while scanning the system (opening every font is slow).
_FILE_HINTS = tuple(
    "cjk noto wqy wenquanyi sourcehan source-han droid uming ukai msyh simhei pingfang hiragino "
    "stheiti arialuni".split()
)
CJK_TEXT = re.compile(
    r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)
DEFAULT_FALLBACK = "DejaVu Sans"
_state: dict[str, str | None | bool] = {"searched": False, "family": None}


def needs_cjk(texts: Iterable[str]) -> bool:
    """True when any text has a Chinese, Japanese or Korean character."""
    return any(CJK_TEXT.search(str(t)) for t in texts)


def family_for(texts: Iterable[str]) -> list[str] | None:
    """The font list for labels made of `texts`: a CJK family first when one is needed.

    None when no text needs a CJK font (matplotlib's default then applies) or none exists.
    """
    if not needs_cjk(texts):
        return None
    family = cjk_family()
    return [family, DEFAULT_FALLBACK] if family else None


def cjk_family() -> str | None:
    """The registered CJK family's name (searched for and registered once per process)."""
    if not _state["searched"]:
        _state["family"] = _from_font_list() or _from_system_files() or _from_bundled_font()
        _state["searched"] = True
    family = _state["family"]
    return family if isinstance(family, str) else None


def bundled_font() -> Path | None:
    """The Noto Sans SC Regular file installed with the project, or None when it is missing."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


def font_file(family: str, weight: str | int = "normal") -> str:
    """The file matplotlib draws `family` at `weight` with (for tests and curious learners)."""
    from matplotlib import font_manager

    prop = font_manager.FontProperties(family=family, weight=weight)
    return font_manager.fontManager.findfont(prop, fallback_to_default=False)


def missing_glyphs(text: str, family: str | None = None) -> str:
    """The characters of `text` that `family` (default: the CJK family) has no glyph for."""
    from matplotlib import ft2font

    family = family or cjk_family()
    if family is None:
        return "".join(ch for ch in dict.fromkeys(text) if CJK_TEXT.match(ch))
    charmap = ft2font.FT2Font(font_file(family)).get_charmap()
    return "".join(ch for ch in dict.fromkeys(text) if not ch.isspace() and ord(ch) not in charmap)


# -- finding and registering ------------------------------------------------------------------
def _weight(value: str | int | float) -> int:
    from matplotlib import font_manager

    if isinstance(value, (int, float)):
        return int(value)
    return int(font_manager.weight_dict.get(str(value).lower(), 400))


def _faces(name: str) -> list:
    from matplotlib import font_manager

    return [f for f in font_manager.fontManager.ttflist if f.name == name and f.style == "normal"]


def _has_regular(name: str) -> bool:
    return any(_weight(f.weight) == 400 for f in _faces(name))


def _covers_sample(path: str) -> bool:
    from matplotlib import ft2font

    try:
        charmap = ft2font.FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in SAMPLE)


def _use(name: str) -> str:
    """Fill the weights `name` lacks with its nearest face, so no weight is ever 'missing'."""
    from matplotlib import font_manager

    faces = {_weight(f.weight): f for f in _faces(name)}
    added = False
    for weight in range(100, 1000, 100):
        if weight not in faces:
            nearest = faces[min(faces, key=lambda w: (abs(w - weight), w))]
            font_manager.fontManager.ttflist.append(dataclasses.replace(nearest, weight=weight))
            added = True
    if added:  # findfont caches its answers; the new entries must be seen
        cached = getattr(font_manager.fontManager, "_findfont_cached", None)
        if cached is not None:
            cached.cache_clear()
    return name


def _from_font_list() -> str | None:
    """A preferred family matplotlib already knows (its font cache) with a Regular face."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in PREFERRED:
        if name in known and _has_regular(name):
            regular = next(f for f in _faces(name) if _weight(f.weight) == 400)
            if _covers_sample(regular.fname):
                return _use(name)
    return None


def _from_system_files() -> str | None:
    """Fonts installed after matplotlib built its cache: register the Regular face (and the
    Bold face of the same family, which only bold text uses), never a Bold face alone."""
    from matplotlib import font_manager, ft2font

    found: dict[str, dict[int, str]] = {}
    for path in sorted(font_manager.findSystemFonts()):
        if not any(hint in path.lower() for hint in _FILE_HINTS):
            continue
        try:
            font = ft2font.FT2Font(path)
            entry = font_manager.ttfFontProperty(font)
        except (OSError, RuntimeError, ValueError):
            continue
        names = {entry.name}
        for index in range(1, getattr(font, "num_faces", 1)):  # a .ttc holds SC, TC, JP...
            try:
                face = ft2font.FT2Font(path, face_index=index)
                names.add(font_manager.ttfFontProperty(face).name)
            except (OSError, RuntimeError, ValueError):
                break
        for name in names:
            if entry.style == "normal" and (name in PREFERRED or "CJK" in name):
                found.setdefault(name, {})[_weight(entry.weight)] = path
    ranked = sorted(found, key=lambda n: PREFERRED.index(n) if n in PREFERRED else len(PREFERRED))
    for name in ranked:
        weights = found[name]
        if 400 not in weights or not _covers_sample(weights[400]):
            continue
        for weight in (400, 700):  # Regular, and Bold for bold text when the family has one
            if weight in weights and not any(f.fname == weights[weight] for f in _faces(name)):
                font_manager.fontManager.addfont(weights[weight])
        if _has_regular(name):
            return _use(name)
    return None


def _from_bundled_font() -> str | None:
    """The Noto Sans SC Regular file from the project's own install."""
    from matplotlib import font_manager

    path = bundled_font()
    if path is None:
        return None
    if not any(f.fname == str(path) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return _use(name) if _has_regular(name) else None
