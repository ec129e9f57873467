"""Country reference data for the hub: this module owns the ISO 3166-1 alpha-2 country list
(all 249 officially assigned codes) and the United Nations regional groups used for electoral
and geographic balance (African, Asia-Pacific, Eastern European, Latin American and Caribbean,
Western European and others). Country names are localized through babel's CLDR data and region
labels are marked for translation with a local no-op ``_l`` marker, so this module imports only
the standard library and babel and can be used without a Flask application context.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from types import MappingProxyType

from babel import Locale, UnknownLocaleError


def _l(text: str) -> str:
    """No-op translation marker.

    Babel's extractor (``pybabel extract -k _l``) picks up ``_l("...")`` strings into the
    message catalogue; the app translates the labels at display time through its gettext,
    e.g. ``gettext(REGIONS[code])``.
    """
    return text


#: All 249 officially assigned ISO 3166-1 alpha-2 codes, sorted.
COUNTRY_CODES: tuple[str, ...] = tuple(
    sorted(
        """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
        BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
        DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
        GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
        KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
        MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
        PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
        SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
        US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
        """.split()
    )
)

_COUNTRY_SET: frozenset[str] = frozenset(COUNTRY_CODES)

#: UN regional groups: short code -> English label (translated at display time).
REGIONS: dict[str, str] = {
    "africa": _l("African"),
    "asia_pacific": _l("Asia-Pacific"),
    "eastern_europe": _l("Eastern European"),
    "grulac": _l("Latin American and Caribbean"),
    "weog": _l("Western European and others"),
}

# Membership of the UN regional groups (source: UN Department for General Assembly and
# Conference Management, "United Nations Regional Groups of Member States").
# Judgment calls:
# - Türkiye (TR) takes part in both WEOG and the Asia-Pacific Group but counts as WEOG for
#   electoral purposes, so it is WEOG here.
# - Israel (IL) is a WEOG member (in New York since 2000, full membership since 2014).
# - The United States (US) is formally only an observer of WEOG but is treated as a WEOG
#   member for electoral purposes, so it is WEOG here.
# - Kiribati (KI) joined the Asia-Pacific Group in 2010; Cyprus (CY) is Asia-Pacific.
# - Palestine (PS), a non-member observer State, is a full member of the Asia-Pacific Group,
#   so it gets asia_pacific.
# - The Holy See (VA), a non-member observer State, belongs to no regional group: None.
_GROUP_MEMBERS: dict[str, str] = {
    # 54 member states
    "africa": """
        AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG ER ET GA GH GM GN GQ GW KE KM LR LS LY MA
        MG ML MR MU MW MZ NA NE NG RW SC SD SL SN SO SS ST SZ TD TG TN TZ UG ZA ZM ZW
    """,
    # 54 member states, plus Palestine (PS)
    "asia_pacific": """
        AE AF BD BH BN BT CN CY FJ FM ID IN IQ IR JO JP KG KH KI KP KR KW KZ LA LB LK MH MM
        MN MV MY NP NR OM PG PH PK PW QA SA SB SG SY TH TJ TL TM TO TV UZ VN VU WS YE PS
    """,
    # 23 member states
    "eastern_europe": """
        AL AM AZ BA BG BY CZ EE GE HR HU LT LV MD ME MK PL RO RS RU SI SK UA
    """,
    # 33 member states
    "grulac": """
        AG AR BB BO BR BS BZ CL CO CR CU DM DO EC GD GT GY HN HT JM KN LC MX NI PA PE PY SR
        SV TT UY VC VE
    """,
    # 28 member states, plus the United States (observer, WEOG for electoral purposes)
    "weog": """
        AD AT AU BE CA CH DE DK ES FI FR GB GR IE IL IS IT LI LU MC MT NL NO NZ PT SE SM TR
        US
    """,
}

_REGION_OF: MappingProxyType[str, str] = MappingProxyType(
    {code: region for region, codes in _GROUP_MEMBERS.items() for code in codes.split()}
)


def is_country(code: str) -> bool:
    """Return True if ``code`` is an officially assigned ISO 3166-1 alpha-2 code."""
    return isinstance(code, str) and code.upper() in _COUNTRY_SET


def region_of(code: str) -> str | None:
    """Return the UN regional group of a country code, or None (territories, the Holy See)."""
    if not isinstance(code, str):
        return None
    return _REGION_OF.get(code.upper())


def region_map() -> MappingProxyType[str, str]:
    """{country code: UN regional group} for every country in a group."""
    return _REGION_OF


def countries_in_region(region: str) -> list[str]:
    """Return the sorted country codes of a UN regional group (empty for an unknown group)."""
    return sorted(code for code, group in _REGION_OF.items() if group == region)


@cache
def _territories(locale: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(locale).territories)
    except (UnknownLocaleError, ValueError, TypeError):
        return dict(Locale.parse("en").territories)


def country_name(code: str, locale: str = "en") -> str:
    """Return the name of a country in ``locale`` (falls back to the code if unknown)."""
    return _territories(str(locale)).get(code.upper(), code)


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    pairs = [(code, country_name(code, locale)) for code in COUNTRY_CODES]
    return tuple(sorted(pairs, key=lambda pair: (_sort_key(pair[1]), pair[1], pair[0])))


def country_choices(locale: str = "en") -> list[tuple[str, str]]:
    """Return ``(code, localized name)`` pairs for every country, sorted by name in ``locale``."""
    return list(_country_choices(str(locale)))


def region_choices() -> list[tuple[str, str]]:
    """Return ``(code, English label)`` pairs for the UN regional groups."""
    return list(REGIONS.items())
