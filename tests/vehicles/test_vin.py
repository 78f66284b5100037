"""VIN check digit (49 CFR 565.15) and maker from the WMI."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.vin import check_digit, check_digit_ok, is_well_formed, make_key, with_maker_from_wmi, wmi


def _one(expr_fn, vin: str | None):
    return pl.DataFrame({"vin": [vin]}, schema={"vin": pl.Utf8}).select(expr_fn(pl.col("vin"))).item()


@pytest.mark.parametrize(
    ("vin", "expected_digit"),
    [
        # The classic example of 49 CFR 565: weighted sum 351, 351 mod 11 = 10, written X.
        ("1M8GDM9AXKP042788", "X"),
        # Honda Accord: JHMCM56557C404453, check digit 5.
        ("JHMCM56557C404453", "5"),
        # All ones: sum of weights (89) × 1 = 89, 89 mod 11 = 1.
        ("11111111111111111", "1"),
    ],
)
def test_valid_vins_and_their_check_digit(vin: str, expected_digit: str) -> None:
    assert _one(check_digit, vin) == expected_digit
    assert _one(check_digit_ok, vin) is True


def test_wrong_check_digit_is_detected() -> None:
    # same VIN as the classic example with 1 in position 9 instead of X
    assert _one(check_digit_ok, "1M8GDM9A1KP042788") is False
    assert _one(check_digit, "1M8GDM9A1KP042788") == "X"


def test_one_changed_character_breaks_the_check_digit() -> None:
    # 2 instead of 1 in position 1: the sum grows by 8 (weight 8), 359 mod 11 = 7, not X
    assert _one(check_digit, "2M8GDM9AXKP042788") == "7"
    assert _one(check_digit_ok, "2M8GDM9AXKP042788") is False


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278I", "1M8GDM9AXKP0O2788", "QM8GDM9AXKP042788"])
def test_forbidden_letters_i_o_q_make_a_vin_malformed(vin: str) -> None:
    assert _one(is_well_formed, vin) is False
    assert _one(check_digit, vin) is None


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "1m8gdm9axkp042788", "", None])
def test_wrong_length_or_case_is_not_well_formed(vin: str | None) -> None:
    assert _one(is_well_formed, vin) is not True


def test_wmi_is_three_characters_or_six_for_small_makers() -> None:
    frame = pl.DataFrame({"vin": ["JTDKARFU0J3000001", "1Z9AB12C3D4E56789"]})
    # position 3 is 9: positions 12-14 complete the WMI (565.15(a)): 1Z9 + E56
    assert frame.select(wmi(pl.col("vin"))).to_series().to_list() == ["JTD", "1Z9E56"]


def test_make_key_normalises_maker_names() -> None:
    names = pl.Series(["Toyota", "TOYOTA MOTOR CORPORATION", " toyota motor mfg, inc.", "Mazda"])
    assert names.to_frame("n").select(make_key(pl.col("n"))).to_series().to_list() == [
        "TOYOTA", "TOYOTA", "TOYOTA", "MAZDA",
    ]


WMI = pl.DataFrame(
    {
        "wmi": ["JTD", "JTJ", "JF1", "JN1"],
        "common_name": ["Toyota", "Toyota", "Subaru", "Nissan"],
        "manufacturer_name": ["TOYOTA MOTOR CORPORATION", "TOYOTA MOTOR CORPORATION", "SUBARU CORPORATION", "NISSAN MOTOR COMPANY, LTD"],
    }
)
ALIASES = pl.DataFrame({"make": ["Lexus"], "maker": ["Toyota"]})


def test_maker_from_wmi_agrees_disagrees_or_is_unknown() -> None:
    vehicles = pl.DataFrame(
        {
            "vin": ["JTDAAAAA0S0000001", "JTJAAAAA0S0000002", "JF1AAAAA0S0000003", "JN1AAAAA0S0000004", "KMHAAAAA0S0000005"],
            "make": ["TOYOTA MOTOR CORPORATION", "Lexus", "Toyota", "Toyota", "Hyundai"],
        }
    )
    out = with_maker_from_wmi(vehicles, WMI, ALIASES)
    assert out["maker_from_wmi"].to_list() == ["Toyota", "Toyota", "Subaru", "Nissan", None]
    # Toyota = TOYOTA MOTOR CORPORATION; Lexus is Toyota's brand; a GR86 (make Toyota) built
    # by Subaru carries JF1; a Nissan WMI under make Toyota is a mismatch; KMH is unknown here.
    assert out["maker_mismatch"].to_list() == [False, False, True, True, None]
    assert out["vin"].to_list() == vehicles["vin"].to_list()
