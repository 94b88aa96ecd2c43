"""The membership catalog: tiers, benefits and the offers sold, as data an operator can load.

The catalog ships with the project as ``catalog.yaml`` (``SHIPPED_CATALOG``); an operator loads
another with ``membership-bot catalog load FILE``. Every name and description is given in both
languages the bot speaks (en-US, zh-TW). A file is validated whole before anything is stored:
a YAML syntax error, a field of the wrong type, a missing translation or an id that refers to
nothing raises ``CatalogError``, whose message names the file and the line of each problem, so
the operator can fix the file without guessing. ``CatalogStore.load`` stores a valid catalog in
one statement: the previous one stays in force until the new one is committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from services.benefit_tables import CatalogRow
from services.clock import Clock
from services.errors import NotFound
from services.i18n import Locale, in_language
from services.membership import Tier
from services.unit_of_work import UnitOfWork

__all__ = [
    "SHIPPED_CATALOG",
    "ActivationDetail",
    "BenefitGrant",
    "BenefitKind",
    "BenefitSpec",
    "Catalog",
    "CatalogError",
    "CatalogStore",
    "LocalizedText",
    "Offer",
    "PaymentInstructions",
    "Price",
    "Requirement",
    "SolutionArea",
    "TierSpec",
    "load_catalog_file",
    "parse_catalog",
]

SHIPPED_CATALOG = Path(__file__).parent / "catalog.yaml"
DEFAULT_COUNTRY = "*"


class _Strict(BaseModel):
    # A misspelt key in the file is an error, not a silently ignored field.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LocalizedText(_Strict):
    """A text in each language the bot speaks."""

    en_US: str = Field(alias="en-US", min_length=1)
    zh_TW: str = Field(alias="zh-TW", min_length=1)

    def text(self, locale: Locale) -> str:
        """The text in ``locale``."""
        return in_language(self.zh_TW if locale is Locale.ZH_TW else self.en_US, locale)


class BenefitKind(StrEnum):
    """What a benefit gives."""

    LICENSE = "internal_use_license"
    CLOUD_CREDIT = "cloud_credit"
    SUPPORT_INCIDENT = "support_incident"
    ADVISORY_HOURS = "advisory_hours"
    TRAINING = "training"
    DIRECTORY_LISTING = "directory_listing"


class ActivationDetail(StrEnum):
    """What a user must tell when activating a benefit."""

    NONE = "none"
    TENANT = "tenant"  # the tenant the licenses or credits go to
    SEATS = "seats"  # how many of the licenses to assign now


class BenefitSpec(_Strict):
    """One kind of benefit the program gives, with its usual quantity."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: BenefitKind
    name: LocalizedText
    description: LocalizedText
    quantity: int = Field(ge=1)
    unit: LocalizedText
    needs: ActivationDetail = ActivationDetail.NONE


class BenefitGrant(_Strict):
    """A benefit a tier includes or an offer brings, in a quantity."""

    benefit: str
    quantity: int = Field(ge=1)


class Requirement(_Strict):
    """Something a competency asks of the organization."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: LocalizedText
    evidence: bool = False  # True: the user provides evidence (text, a URL); False: attests


class SolutionArea(_Strict):
    """A Microsoft solution area a competency is earned in."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: LocalizedText


class TierSpec(_Strict):
    """A membership option, from the core level up (``rank``)."""

    id: Tier
    rank: int = Field(ge=0)
    name: LocalizedText
    description: LocalizedText
    benefits: list[BenefitGrant] = []
    requirements: list[Requirement] = []
    solution_areas: list[SolutionArea] = []  # competencies only
    purchasable_offer: str | None = None  # reached by buying this offer, not by applying


class Price(_Strict):
    """What an offer costs in one country (``*``: everywhere else)."""

    country: str = Field(pattern=r"^([A-Z]{2}|\*)$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount: Decimal = Field(gt=0, decimal_places=2)


class Offer(_Strict):
    """Something an organization can buy: benefits, and for the Action Pack a tier."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: LocalizedText
    description: LocalizedText
    grants: list[BenefitGrant] = Field(min_length=1)
    tier: Tier | None = None
    term_months: int = Field(default=12, ge=1)
    prices: list[Price] = Field(min_length=1)

    def price_for(self, country: str) -> Price | None:
        """The price in ``country``, else the default one; None when not sold there."""
        wanted = country.upper()
        exact = next((price for price in self.prices if price.country == wanted), None)
        return exact or next(
            (price for price in self.prices if price.country == DEFAULT_COUNTRY), None
        )


_Item = TypeVar("_Item", TierSpec, BenefitSpec, Offer)


class PaymentInstructions(_Strict):
    """How a buyer pays an order, as the operator tells it: words, and a page to pay on.

    ``{order}`` in either is replaced by the order's id (a transfer's reference, a link).
    """

    how: LocalizedText
    url: str | None = Field(default=None, pattern=r"^https://")

    def text(self, locale: Locale, order_id: str) -> str:
        """The instructions for ``order_id`` in ``locale``, with the link after them."""
        words = self.how.text(locale).replace("{order}", order_id)
        return f"{words} {self.url.replace('{order}', order_id)}" if self.url else words


class Catalog(_Strict):
    """The whole catalog: every tier, benefit and offer, and how orders are paid."""

    version: str = Field(min_length=1)
    tiers: list[TierSpec]
    benefits: list[BenefitSpec]
    offers: list[Offer] = []
    payment: PaymentInstructions | None = None

    def tier(self, tier: Tier | str) -> TierSpec:
        """The tier ``tier``."""
        return _find(self.tiers, str(tier), "tier")

    def benefit(self, benefit_id: str) -> BenefitSpec:
        """The benefit ``benefit_id``."""
        return _find(self.benefits, benefit_id, "benefit")

    def offer(self, offer_id: str) -> Offer:
        """The offer ``offer_id``."""
        return _find(self.offers, offer_id, "offer")

    def tiers_by_rank(self) -> list[TierSpec]:
        """The tiers from the core level up."""
        return sorted(self.tiers, key=lambda tier: tier.rank)


def _find(items: Sequence[_Item], wanted: str, what: str) -> _Item:
    for item in items:
        if str(item.id) == wanted:
            return item
    raise NotFound(f"no {what} {wanted!r} in the catalog")


class CatalogError(Exception):
    """A catalog file that cannot be loaded; each problem names the file and its line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


_Loc = tuple[str | int, ...]


def _path_text(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(root: yaml.Node, path: _Loc) -> int:
    """The 1-based line of the deepest node of ``path`` the document has."""
    node = root
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _duplicate_keys(node: yaml.Node, path: _Loc = ()) -> Iterable[tuple[_Loc, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                yield (*path, key.value), f"{key.value!r} is given twice"
            seen.add(key.value)
            yield from _duplicate_keys(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def _cross_references(catalog: Catalog) -> Iterable[tuple[_Loc, str]]:
    """What refers to nothing, or is defined twice."""
    ids: dict[str, list[str]] = {
        "tiers": [tier.id.value for tier in catalog.tiers],
        "benefits": [benefit.id for benefit in catalog.benefits],
        "offers": [offer.id for offer in catalog.offers],
    }
    for field, values in ids.items():
        for index, value in enumerate(values):
            if value in values[:index]:
                yield (field, index, "id"), f"{value!r} is defined twice"
    missing = set(Tier) - {tier.id for tier in catalog.tiers}
    if missing:
        yield ("tiers",), "missing tiers: " + ", ".join(sorted(missing))
    ranks = [tier.id for tier in catalog.tiers_by_rank()]
    if len({tier.rank for tier in catalog.tiers}) != len(catalog.tiers) or (
        ranks and ranks[0] is not Tier.NETWORK
    ):
        yield ("tiers",), "ranks must differ, the network tier's the lowest"
    benefits = {benefit.id for benefit in catalog.benefits}
    offers = {offer.id: offer for offer in catalog.offers}

    def grants(path: _Loc, items: list[BenefitGrant]) -> Iterable[tuple[_Loc, str]]:
        for index, grant in enumerate(items):
            if grant.benefit not in benefits:
                yield (*path, index, "benefit"), f"unknown benefit {grant.benefit!r}"

    for index, tier in enumerate(catalog.tiers):
        yield from grants(("tiers", index, "benefits"), tier.benefits)
        if tier.purchasable_offer is not None:
            offer = offers.get(tier.purchasable_offer)
            if offer is None or offer.tier is not tier.id:
                wanted = f"no offer {tier.purchasable_offer!r} grants the tier {tier.id.value!r}"
                yield ("tiers", index, "purchasable_offer"), wanted
        competency = tier.id in (Tier.SILVER, Tier.GOLD)
        if competency and not tier.solution_areas:
            yield ("tiers", index), "a competency needs at least one solution area"
        if not competency and tier.solution_areas:
            yield ("tiers", index, "solution_areas"), "only competencies have solution areas"
    for index, offer in enumerate(catalog.offers):
        yield from grants(("offers", index, "grants"), offer.grants)
        countries = [price.country for price in offer.prices]
        for position, country in enumerate(countries):
            if country in countries[:position]:
                yield (("offers", index, "prices", position, "country"),
                       f"{country!r} is priced twice")  # fmt: skip


def parse_catalog(text: str, source: str) -> Catalog:
    """Validate a catalog's YAML ``text``; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(
            [f"{source}{line}: not valid YAML: {error.problem or error.context}"]
        ) from None
    except yaml.YAMLError as error:
        raise CatalogError([f"{source}: not valid YAML: {error}"]) from None
    if root is None or not isinstance(data, dict):
        raise CatalogError([f"{source}, line 1: the catalog must be a mapping (version, tiers, …)"])

    def problem(path: _Loc, message: str) -> str:
        where = _path_text(path)
        return f"{source}, line {_line_of(root, path)}: {where + ': ' if where else ''}{message}"

    duplicates = [problem(path, message) for path, message in _duplicate_keys(root)]
    if duplicates:
        raise CatalogError(duplicates)
    try:
        catalog = Catalog.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as error:
        raise CatalogError(
            [problem(tuple(item["loc"]), item["msg"]) for item in error.errors()]
        ) from None
    references = [problem(path, message) for path, message in _cross_references(catalog)]
    if references:
        raise CatalogError(references)
    return catalog


def load_catalog_file(path: Path | str) -> Catalog:
    """Read and validate the catalog file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError([f"{path}: cannot be read: {error}"]) from None
    return parse_catalog(text, path.name)


class CatalogStore:
    """The catalog in force: the last one loaded, else the file shipped (or configured).

    Each load is one row of ``benefit_catalogs`` holding the whole validated catalog, so a load
    replaces the catalog in one statement, and the history of loads is kept. The catalog read is
    kept in memory and read again only when another load (from any process) is newer.
    """

    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        fallback: Path = SHIPPED_CATALOG,
    ) -> None:
        self._units = units
        self._clock = clock
        self._fallback = fallback
        self._cached: tuple[int, Catalog] | None = None

    async def load(self, catalog: Catalog, *, source: str = "") -> None:
        """Put ``catalog`` in force (one transaction: the previous one stays until it commits)."""
        async with self._units() as unit:
            unit.session.add(
                CatalogRow(
                    version=catalog.version,
                    source=source[:500],
                    document=json.loads(catalog.model_dump_json(by_alias=True)),
                    loaded_at=self._clock.now(),
                )
            )
            await unit.commit()

    async def current(self) -> Catalog:
        """The catalog in force."""
        async with self._units() as unit:
            latest = await unit.session.scalar(
                select(CatalogRow.id).order_by(CatalogRow.id.desc()).limit(1)
            )
            key = latest if latest is not None else 0
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
            if latest is None:
                catalog = load_catalog_file(self._fallback)
            else:
                document = await unit.session.scalar(
                    select(CatalogRow.document).where(CatalogRow.id == latest)
                )
                catalog = Catalog.model_validate(document)
        self._cached = (key, catalog)
        return catalog

    async def loaded(self) -> list[tuple[str, str, datetime]]:
        """Each catalog loaded, newest first: its version, source and when."""
        async with self._units() as unit:
            rows = await unit.session.execute(
                select(CatalogRow.version, CatalogRow.source, CatalogRow.loaded_at).order_by(
                    CatalogRow.id.desc()
                )
            )
            return [(row.version, row.source, _utc(row.loaded_at)) for row in rows]


def _utc(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every moment stored is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
