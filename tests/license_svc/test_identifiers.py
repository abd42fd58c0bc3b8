"""GB/T 36904 identifiers, GB 32100 USCC and GB 11643 ID numbers, cross-checked with
python-stdnum (an independent implementation) and real identifiers from public systems."""

from datetime import date

import pytest
from hypothesis import given, strategies as st

from license_svc import identifiers as ids
from license_svc.identifiers import IdentifierError

# standards-notes §4.2: four identifiers from real systems; the check rule must accept them.
REAL_IDENTIFIERS = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
    "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
]
REAL_USCC = ["11100000000013338W", "11220000013544541J", "11430000006122244L",
             "11330105002500287C", "91310000MA00000012"]
PILOT_AREA_USCC = ["91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"]
ID_NUMBERS = ["360426199101010071", "13043419840726291X", "11010519491231002X"]
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize("text", REAL_IDENTIFIERS)
def test_real_identifiers_pass(text):
    parsed = ids.parse_identifier(text)
    assert str(parsed) == text
    assert ids.is_valid_identifier(text)


def test_wrong_check_character_names_the_expected_one():
    bad = REAL_IDENTIFIERS[0][:-1] + "V"
    with pytest.raises(IdentifierError) as exc:
        ids.parse_identifier(bad)
    assert "expected 'U'" in exc.value.message_en and "校验位" in exc.value.message_zh


def test_mod37_36_matches_python_stdnum():
    mod = pytest.importorskip("stdnum.iso7064.mod_37_36")
    for text in REAL_IDENTIFIERS:
        body = "".join(text.split(".")[5:-1])
        assert mod.calc_check_digit(body) == ids.mod37_36_check(body) == text[-1]


@given(st.text(alphabet=ALNUM, min_size=1, max_size=60))
def test_mod37_36_property_matches_stdnum(body):
    mod = pytest.importorskip("stdnum.iso7064.mod_37_36")
    assert mod.calc_check_digit(body) == ids.mod37_36_check(body)


def test_make_and_version():
    ident = ids.make_identifier("11100000MB0000001T001", "11310000MB0000010A")
    assert len(ident.serial) == ids.SERIAL_LENGTH and set(ident.serial) <= set(ALNUM)
    assert ids.parse_identifier(str(ident)) == ident
    v2 = ident.with_version(2)
    assert str(v2).split(".")[-2] == "002" and v2.serial == ident.serial
    assert ids.is_valid_identifier(str(v2))
    serials = {ids.new_serial() for _ in range(200)}
    assert len(serials) == 200
    for bad in (0, 1000, "1"):
        with pytest.raises(IdentifierError):
            ids.make_identifier("T", "I", "S", bad)
    with pytest.raises(IdentifierError):
        ids.make_identifier("11100000mb", "X")


@given(st.data())
def test_any_single_substitution_is_detected(data):
    text = REAL_IDENTIFIERS[data.draw(st.integers(0, 3))]
    root = len(ids.ROOT) + 1
    positions = [i for i in range(root, len(text)) if text[i] != "."]
    i = data.draw(st.sampled_from(positions))
    ch = data.draw(st.sampled_from(ALNUM).filter(lambda c: c != text[i]))
    assert not ids.is_valid_identifier(text[:i] + ch + text[i + 1:])


@given(st.text(max_size=120))
def test_parse_never_crashes(text):
    try:
        ids.parse_identifier(text)
    except IdentifierError as exc:
        assert exc.message_zh and exc.message_en


@pytest.mark.parametrize("bad", [None, 42, "1.2.156.3005.2", "1.2.156.3005.3.A.B.C.001.X",
                                 "1.2.156.3005.2.A.B.C.01.X", "1.2.156.3005.2.a.B.C.001.X",
                                 "1.2.156.3005.2.A.B.C.001", "x" * 500])
def test_parse_rejects_malformed(bad):
    with pytest.raises(IdentifierError):
        ids.parse_identifier(bad)


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_uscc_pass(code):
    ids.check_uscc(code)
    assert ids.check_holder_code("001", code) == []


def test_uscc_matches_stdnum():
    uscc = pytest.importorskip("stdnum.cn.uscc")
    for code in REAL_USCC:
        assert uscc.calc_check_digit(code[:17]) == ids.uscc_check_char(code[:17])


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=10, max_size=10),
       st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_uscc_property_matches_stdnum(tail, head):
    uscc = pytest.importorskip("stdnum.cn.uscc")
    body = "9" + head + tail[:9]
    assert uscc.calc_check_digit(body) == ids.uscc_check_char(body)


def test_pilot_area_codes_warn_on_legacy_import_and_fail_new_issuance():
    for code in PILOT_AREA_USCC:
        with pytest.raises(IdentifierError) as exc:
            ids.check_holder_code("001", code)
        assert "校验码" in exc.value.message_zh
        warnings = ids.check_holder_code("001", code, legacy=True)
        assert len(warnings) == 1 and "legacy" in warnings[0] and "历史数据" in warnings[0]


@pytest.mark.parametrize("bad", ["91310000MA0000001", "91310000MA000000120", "91310000MA0000001I",
                                 "9131A000MA00000012", "", None])
def test_malformed_uscc_is_an_error_even_on_legacy_import(bad):
    with pytest.raises(IdentifierError):
        ids.check_holder_code("001", bad, legacy=True)


@pytest.mark.parametrize("code", ID_NUMBERS + ["310101199003071230"])
def test_id_numbers(code):
    ids.check_id_card(code)
    assert ids.check_holder_code("111", code) == []


def test_id_numbers_match_stdnum():
    ric = pytest.importorskip("stdnum.cn.ric")
    assert ids._ID_WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for code in ID_NUMBERS:  # stdnum's calc_check_digit takes the full number and drops the last
        assert ric.calc_check_digit(code) == ids.id_card_check_char(code[:17]) == code[17]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
       st.integers(100000, 999999), st.integers(0, 999))
def test_id_property_matches_stdnum(birth, area, seq):
    ric = pytest.importorskip("stdnum.cn.ric")
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    assert ric.calc_check_digit(body + "0") == ids.id_card_check_char(body)
    ids.check_id_card(body + ids.id_card_check_char(body))


@pytest.mark.parametrize("bad", ["360426199101010070", "36042619910101007", "360426199113010071",
                                 "36042619910101007x", "３６０４２６１９９１０１０１００７１", None])
def test_bad_id_numbers(bad):
    with pytest.raises(IdentifierError) as exc:
        ids.check_holder_code("111", bad, legacy=True)  # legacy never excuses an ID number
    assert exc.value.message_zh and exc.value.message_en


def test_unknown_code_type_and_passthrough():
    with pytest.raises(IdentifierError):
        ids.check_holder_code("777", "X")
    assert ids.check_holder_code("414", "E12345678") == []
    with pytest.raises(IdentifierError):
        ids.check_holder_code("414", "bad\nvalue")


def test_licence_numbers():
    n = ids.format_licence_number("JY1{area_code}{serial:7}", region="sh", issued=date(2026, 1, 15),
                                  variables={"area_code": "310115"})
    assert n.startswith("JY1310115") and len(n) == 16
    assert ids.licence_number_regex("JY1{area_code}{serial:7}").match(n)
    n = ids.format_licence_number("{region}{year}{serial:12}", region="sh", issued=date(2026, 1, 1))
    assert n.startswith("SH2026") and len(n) == 18
    assert ids.licence_number_regex("{region}{year}{serial:12}").match(n)
    assert not ids.licence_number_regex("{region}{year}{serial:12}").match("XX2026000000000000")
    with pytest.raises(IdentifierError) as exc:
        ids.format_licence_number("J{area_code}", region="sh", issued=date(2026, 1, 1))
    assert "area_code" in exc.value.message_zh
