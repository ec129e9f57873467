"""Tests for hub.countries: ISO 3166-1 codes, UN regional groups and localized names."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from hub.countries import (
    COUNTRY_CODES,
    REGIONS,
    countries_in_region,
    country_choices,
    country_name,
    is_country,
    region_choices,
    region_of,
)

# Debian/Ubuntu "iso-codes" package, used as an independent cross-check when installed.
ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_3166-1.json")

# Source of truth for the group sizes: UN DGACM "United Nations Regional Groups of Member
# States". African 54, Asia-Pacific 54 (with Kiribati and Cyprus, without Türkiye),
# Eastern European 23, GRULAC 33, WEOG 28 (with Türkiye and Israel) = 192 member states, plus
# the United States (formally a WEOG observer, WEOG for electoral purposes) = 193.
# Our mapping also puts Palestine (observer State, full Asia-Pacific Group member) in
# asia_pacific and leaves the Holy See (observer State, no group) without a region.
EXPECTED_GROUP_SIZES = {
    "africa": 54,
    "asia_pacific": 54 + 1,  # + Palestine
    "eastern_europe": 23,
    "grulac": 33,
    "weog": 28 + 1,  # + United States
}


def test_there_are_249_sorted_unique_codes() -> None:
    assert len(COUNTRY_CODES) == 249
    assert len(set(COUNTRY_CODES)) == 249
    assert list(COUNTRY_CODES) == sorted(COUNTRY_CODES)
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in COUNTRY_CODES)


@pytest.mark.skipif(not ISO_CODES_JSON.exists(), reason="iso-codes package not installed")
def test_codes_match_the_iso_codes_package() -> None:
    data = json.loads(ISO_CODES_JSON.read_text(encoding="utf-8"))
    assert set(COUNTRY_CODES) == {entry["alpha_2"] for entry in data["3166-1"]}


def test_regions_labels() -> None:
    assert REGIONS == {
        "africa": "African",
        "asia_pacific": "Asia-Pacific",
        "eastern_europe": "Eastern European",
        "grulac": "Latin American and Caribbean",
        "weog": "Western European and others",
    }
    assert region_choices() == list(REGIONS.items())


def test_193_member_states_plus_palestine_have_a_region() -> None:
    with_region = [code for code in COUNTRY_CODES if region_of(code) is not None]
    assert len(with_region) == 193 + 1  # UN member states + Palestine
    assert region_of("PS") == "asia_pacific"
    assert region_of("VA") is None


def test_group_sizes() -> None:
    sizes = Counter(region_of(code) for code in COUNTRY_CODES)
    del sizes[None]
    assert dict(sizes) == EXPECTED_GROUP_SIZES
    for region, size in EXPECTED_GROUP_SIZES.items():
        members = countries_in_region(region)
        assert len(members) == size
        assert members == sorted(members)
        assert all(region_of(code) == region for code in members)


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("KE", "africa"),
        ("ZA", "africa"),
        ("SS", "africa"),
        ("BR", "grulac"),
        ("CU", "grulac"),
        ("TT", "grulac"),
        ("DE", "weog"),
        ("TR", "weog"),
        ("US", "weog"),
        ("IL", "weog"),
        ("AU", "weog"),
        ("NZ", "weog"),
        ("CA", "weog"),
        ("PL", "eastern_europe"),
        ("EE", "eastern_europe"),
        ("LV", "eastern_europe"),
        ("LT", "eastern_europe"),
        ("RU", "eastern_europe"),
        ("JP", "asia_pacific"),
        ("KI", "asia_pacific"),
        ("CY", "asia_pacific"),
        ("SA", "asia_pacific"),
    ],
)
def test_region_spot_checks(code: str, region: str) -> None:
    assert region_of(code) == region


@pytest.mark.parametrize("code", ["GL", "PR", "RE", "HK", "TW", "EH", "VA", "AQ"])
def test_non_member_territories_have_no_region(code: str) -> None:
    assert is_country(code)
    assert region_of(code) is None


def test_region_of_is_case_insensitive_and_tolerant() -> None:
    assert region_of("ke") == "africa"
    assert region_of("Jp") == "asia_pacific"
    assert region_of("XX") is None
    assert region_of("") is None


def test_countries_in_unknown_region_is_empty() -> None:
    assert countries_in_region("antarctica") == []


def test_is_country() -> None:
    assert is_country("DE")
    assert is_country("de")
    assert is_country("SS")
    assert not is_country("XK")  # Kosovo: user-assigned, not officially assigned
    assert not is_country("EU")
    assert not is_country("UK")
    assert not is_country("")
    assert not is_country("DEU")


def test_country_name_localized() -> None:
    assert country_name("DE") == "Germany"
    assert country_name("DE", "fr") == "Allemagne"
    assert country_name("DE", "es") == "Alemania"
    assert country_name("de", "fr") == "Allemagne"


def test_country_name_falls_back_to_code() -> None:
    assert country_name("QQ") == "QQ"


def _key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.mark.parametrize("locale", ["en", "fr", "es"])
def test_country_choices_sorted_by_localized_name(locale: str) -> None:
    choices = country_choices(locale)
    assert len(choices) == 249
    assert {code for code, _ in choices} == set(COUNTRY_CODES)
    assert all(name == country_name(code, locale) for code, name in choices)
    keys = [_key(name) for _, name in choices]
    assert keys == sorted(keys)


def test_country_choices_accent_insensitive_order() -> None:
    names = [name for _, name in country_choices("fr")]
    # "Équateur" sorts among the E's, not after "Zimbabwe".
    assert names.index("Égypte") < names.index("Érythrée") < names.index("Espagne")
    assert names.index("Équateur") < names.index("Zimbabwe")
    assert names[0] == "Afghanistan"


def test_country_choices_returns_a_fresh_list() -> None:
    first = country_choices("en")
    first.clear()
    assert len(country_choices("en")) == 249
