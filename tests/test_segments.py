import pytest

from sms import segments


@pytest.mark.parametrize(
    ("text", "encoding", "segs"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters count twice
        ("€" * 81, "GSM-7", 2),
        ("[" * 153, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),  # é is in the basic GSM-7 table
        ("ç" * 70, "UCS-2", 1),  # lower-case ç is not
        ("ç" * 71, "UCS-2", 2),
        ("ç" * 134, "UCS-2", 2),
        ("ç" * 135, "UCS-2", 3),
        ("✊🏿" * 10, "UCS-2", 1),  # emoji outside the BMP count as two UCS-2 units
        ("🙂" * 36, "UCS-2", 2),
    ],
)
def test_count_uses_real_gsm7_and_ucs2_limits(text, encoding, segs):
    info = segments.count(text)
    assert (info.encoding, info.segments) == (encoding, segs)


def test_one_curly_quote_would_make_a_reply_ucs2_but_gsm_safe_prevents_it():
    text = "Don\u2019t wait \u2014 call \u201cnow\u201d\u2026"
    assert segments.count(text).encoding == "UCS-2"
    safe = segments.gsm_safe(text)
    assert safe == 'Don\'t wait - call "now"...'
    assert segments.count(safe).encoding == "GSM-7"


def test_gsm_safe_keeps_emoji_meaning():
    assert segments.gsm_safe("✊🏿 \u2019") == "✊🏿 '"
