import pytest

from sms.messaging import encoding


@pytest.mark.parametrize(
    ("text", "expected_encoding", "segs"),
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
def test_count_uses_real_gsm7_and_ucs2_limits(text, expected_encoding, segs):
    info = encoding.count(text)
    assert (info.encoding, info.segments) == (expected_encoding, segs)


def test_one_curly_quote_would_make_a_reply_ucs2_but_gsm_safe_prevents_it():
    text = "Don\u2019t wait \u2014 call \u201cnow\u201d\u2026"
    assert encoding.count(text).encoding == "UCS-2"
    safe = encoding.gsm_safe(text)
    assert safe == 'Don\'t wait - call "now"...'
    assert encoding.count(safe).encoding == "GSM-7"


def test_gsm_safe_keeps_emoji_meaning():
    assert encoding.gsm_safe("✊🏿 \u2019") == "✊🏿 '"


def test_ucs2_characters_names_what_forces_ucs2_once_each_in_order():
    assert encoding.ucs2_characters("Vote ✊ now ✊, ça va 🙂") == ["✊", "ç", "🙂"]
    assert encoding.ucs2_characters("Plain GSM-7 {rep} €") == []


@pytest.mark.parametrize(("text", "alternative"), [
    ("Vote ✊ now", "Vote now"),
    ("Thanks ✊.", "Thanks."),
    ("✊🏿 Call {rep} today", "Call {rep} today"),
    ("ça va, naïve façade", "ca va, naive facade"),
    ("Don\u2019t wait \u2014 call", "Don't wait - call"),
    ("Line one 🙂\nLine two", "Line one\nLine two"),
])
def test_gsm_alternative_keeps_the_words_and_fits_gsm7(text, alternative):
    assert encoding.gsm_alternative(text) == alternative
    assert encoding.count(alternative).encoding == "GSM-7"
