"""What a "vision model" says about an image on the practice server.

There is no neural network here, so the reply sticks to what can be measured honestly: the file
format, the size, and the main colours (pixels mapped to a few plain colour names). It says
plainly that it comes from the practice server, so no learner mistakes it for real image
understanding, and it is deterministic, so notebook outputs can be compared.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["describe", "decode_image", "measure"]

# Several reference points per name, so dark blue is "blue" and not "black".
_PALETTE: list[tuple[str, tuple[int, int, int]]] = [
    ("black", (0, 0, 0)),
    ("black", (30, 30, 30)),
    ("white", (255, 255, 255)),
    ("white", (235, 235, 235)),
    ("grey", (128, 128, 128)),
    ("grey", (80, 80, 80)),
    ("grey", (190, 190, 190)),
    ("red", (255, 0, 0)),
    ("red", (200, 30, 30)),
    ("red", (139, 0, 0)),
    ("orange", (255, 140, 0)),
    ("orange", (255, 165, 60)),
    ("yellow", (255, 255, 0)),
    ("yellow", (240, 220, 80)),
    ("green", (0, 255, 0)),
    ("green", (0, 160, 0)),
    ("green", (0, 100, 0)),
    ("green", (110, 170, 60)),
    ("cyan", (0, 255, 255)),
    ("cyan", (0, 170, 170)),
    ("blue", (0, 0, 255)),
    ("blue", (0, 0, 139)),
    ("blue", (30, 100, 220)),
    ("blue", (100, 150, 230)),
    ("purple", (128, 0, 128)),
    ("purple", (160, 60, 220)),
    ("purple", (200, 0, 255)),
    ("pink", (255, 105, 180)),
    ("pink", (255, 190, 200)),
    ("pink", (255, 0, 255)),
    ("brown", (139, 69, 19)),
    ("brown", (160, 110, 60)),
    ("brown", (90, 50, 20)),
]
_NAMES = [name for name, _ in _PALETTE]
_RGB = np.array([rgb for _, rgb in _PALETTE], dtype=np.float64)

_ZH_COLOURS = {
    "black": "黑色",
    "white": "白色",
    "grey": "灰色",
    "red": "红色",
    "orange": "橙色",
    "yellow": "黄色",
    "green": "绿色",
    "cyan": "青色",
    "blue": "蓝色",
    "purple": "紫色",
    "pink": "粉色",
    "brown": "棕色",
}
_FORMATS = {"PNG", "JPEG", "GIF", "WEBP", "BMP"}
_SAMPLE = 96  # colours are counted on at most a 96x96 copy: fast and plenty for percentages


def decode_image(b64: str) -> bytes:
    """Decode the base64 text the client sends in ``images`` and check it is a picture.

    The server needs a plain error for learners who pass a file name the client did not
    recognise, or a base64 string of something that is not an image. Raises ``ValueError``.
    """
    try:
        data = base64.b64decode("".join(b64.split()), validate=True)
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise ValueError("invalid image: the data is not valid base64") from None
    _open(data)
    return data


def _open(data: bytes) -> Image.Image:
    """Open ``data`` with Pillow, turning every failure into a plain ``ValueError``."""
    if not data:
        raise ValueError("invalid image: the data is empty")
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ValueError(
            "invalid image: the data is not a picture (PNG, JPEG, GIF, WebP or BMP expected)"
        ) from None
    except Exception as exc:  # truncated or corrupt files raise many different errors
        raise ValueError(f"invalid image: the picture could not be read ({exc})") from None
    return img


def _colours(img: Image.Image) -> list[tuple[str, int]]:
    """The main colour names with their whole-number percentages, largest first."""
    small = img.copy()
    small.thumbnail((_SAMPLE, _SAMPLE), Image.Resampling.NEAREST)
    rgba = small.convert("RGBA")
    # Transparent areas count as the white page they would be shown on.
    page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    pixels = np.asarray(Image.alpha_composite(page, rgba).convert("RGB"), dtype=np.float64)
    pixels = pixels.reshape(-1, 3)
    # "Redmean" weighting: a cheap distance closer to how people see colour than plain RGB.
    rmean = (pixels[:, None, 0] + _RGB[None, :, 0]) / 2
    diff = pixels[:, None, :] - _RGB[None, :, :]
    dist = (2 + rmean / 256) * diff[..., 0] ** 2 + 4 * diff[..., 1] ** 2
    dist += (2 + (255 - rmean) / 256) * diff[..., 2] ** 2
    nearest = dist.argmin(axis=1)
    counts: dict[str, int] = {}
    for index, count in zip(*np.unique(nearest, return_counts=True), strict=True):
        counts[_NAMES[index]] = counts.get(_NAMES[index], 0) + int(count)
    total = len(pixels)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return [(name, round(100 * n / total)) for name, n in ranked if round(100 * n / total) >= 1]


def describe(image: bytes, lang: str = "en", labelled: bool = True) -> str:
    """The practice server's answer to "what is in this image?": format, size, main colours,
    saying it comes from the practice server unless not `labelled` (posing, pose.py).

    ``lang`` starting with ``zh`` gives the sentence in Chinese (the seed tutorial's language).
    Raises ``ValueError`` if ``image`` is not a picture.
    """
    img = _open(image)
    fmt = img.format or "unknown-format"
    fmt = "WebP" if fmt == "WEBP" else fmt
    width, height = img.size
    frames = getattr(img, "n_frames", 1)
    colours = _colours(img)
    if lang.lower().startswith("zh"):
        kind = f"{frames} 帧的动画 {fmt}" if frames > 1 else fmt
        listed = "、".join(f"{_ZH_COLOURS[name]}（{pct}%）" for name, pct in colours)
        intro = "【练习服务器】我没有神经网络，只能读出图片的基本信息：" if labelled else ""
        return f"{intro}这是一张 {width}×{height} 的 {kind} 图片。主要颜色是{listed}。"
    kind = f"animated {fmt} image ({frames} frames)" if frames > 1 else f"{fmt} image"
    listed = ", ".join(f"{name} ({pct}%)" for name, pct in colours)
    main = "Its main colour is" if len(colours) == 1 else "Its main colours are"
    digits = str(width)
    # "an 8x8", "an 11x11", "an 18x24": the article follows how the number is said.
    an = digits.startswith("8") or (len(digits) % 3 == 2 and digits[:2] in ("11", "18"))
    article = "an" if an else "a"
    if not labelled:
        return f"This is {article} {width}x{height} {kind}. {main} {listed}."
    return (
        "[practice server] I have no neural network, only the file itself: "
        f"this is {article} {width}x{height} {kind}. {main} {listed}."
    )


def measure(image: bytes, labelled: bool = True) -> dict:
    """What can honestly be measured from a picture, for replies that follow a schema; its
    sentences say they come from the practice server unless not `labelled` (posing).

    Raises ``ValueError`` if ``image`` is not a picture.
    """
    img = _open(image)
    fmt = img.format or "unknown-format"
    colours = _colours(img)
    return {
        "format": "WebP" if fmt == "WEBP" else fmt,
        "width": img.size[0],
        "height": img.size[1],
        "frames": getattr(img, "n_frames", 1),
        "colors": [name for name, _ in colours],
        "color_percent": dict(colours),
        "sentence": describe(image, "en", labelled),
        "sentence_zh": describe(image, "zh", labelled),
    }
