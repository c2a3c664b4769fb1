"""The practice server's image description: format, size and main colours, no network."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from ollama_nb.server.vision import decode_image, describe


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_solid_red_png():
    text = describe(encode(Image.new("RGB", (64, 48), (255, 0, 0)), "PNG"))
    assert text == (
        "[practice server] I have no neural network, only the file itself: "
        "this is a 64x48 PNG image. Its main colour is red (100%)."
    )


def test_two_colour_jpeg():
    img = Image.new("RGB", (100, 50), (0, 0, 255))
    img.paste((255, 255, 255), (0, 0, 70, 50))  # 70% white, 30% blue
    text = describe(encode(img, "JPEG", quality=90))
    assert "100x50 JPEG image" in text
    assert "white (70%)" in text
    assert "blue (30%)" in text
    assert text.index("white") < text.index("blue")


def test_gif_and_animated_gif():
    assert "an 8x8 GIF image. Its main colour is green (100%)." in describe(
        encode(Image.new("RGB", (8, 8), (0, 160, 0)), "GIF")
    )
    frames = [Image.new("RGB", (20, 10), c) for c in ("yellow", "purple")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert "20x10 animated GIF image (2 frames)" in describe(data)
    assert "yellow (100%)" in describe(data)


def test_webp_bmp_and_transparency():
    assert "32x32 WebP image" in describe(encode(Image.new("RGB", (32, 32), "black"), "WEBP"))
    assert "a 3x2 BMP image" in describe(encode(Image.new("RGB", (3, 2), "orange"), "BMP"))
    clear = encode(Image.new("RGBA", (5, 5), (0, 0, 0, 0)), "PNG")
    assert "white (100%)" in describe(clear)


def test_at_most_three_colours():
    img = Image.new("RGB", (40, 10))
    for i, colour in enumerate(["red", "blue", "yellow", "black"]):
        img.paste(colour, (i * 10, 0, i * 10 + 10, 10))
    assert describe(encode(img, "PNG")).count("%") == 3


def test_chinese():
    text = describe(encode(Image.new("RGB", (64, 48), (0, 0, 255)), "PNG"), lang="zh")
    assert text == (
        "【练习服务器】我没有神经网络，只能读出图片的基本信息："
        "这是一张 64×48 的 PNG 图片。主要颜色是蓝色（100%）。"
    )


def test_decode_image_round_trip():
    data = encode(Image.new("RGB", (4, 4), "red"), "PNG")
    assert decode_image(base64.b64encode(data).decode()) == data


@pytest.mark.parametrize(
    ("b64", "words"),
    [
        ("not base64!!", "not valid base64"),
        ("", "empty"),
        (base64.b64encode(b"hello, not an image").decode(), "not a picture"),
        (base64.b64encode(encode(Image.new("RGB", (50, 50)), "PNG")[:60]).decode(), "could not"),
    ],
)
def test_decode_image_errors(b64, words):
    with pytest.raises(ValueError, match=words):
        decode_image(b64)


def test_describe_rejects_non_images():
    with pytest.raises(ValueError, match="not a picture"):
        describe(b"%PDF-1.4 not an image")
