"""Synthetic e-commerce orders with labelled fraud patterns.

Pure Python + numpy (no Django) so it can feed management commands, notebooks,
benchmarks and tests alike. The output is fully determined by
``(n, seed, start, days)``.

Every order carries two truth keys that are not part of the API payload:
``is_fraud`` and ``pattern`` (``"legit"`` or one of ``FRAUD_PATTERNS``).
"""

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import numpy as np

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)

LEGIT = "legit"
CARD_TESTING = "card_testing"
STOLEN_CARD = "stolen_card"
ACCOUNT_TAKEOVER = "account_takeover"
COMPROMISED_SELLER = "compromised_seller"
PROMO_ABUSE = "promo_abuse"
FRAUD_PATTERNS = (
    CARD_TESTING,
    STOLEN_CARD,
    ACCOUNT_TAKEOVER,
    COMPROMISED_SELLER,
    PROMO_ABUSE,
)
TRUTH_KEYS = ("is_fraud", "pattern")

# Share of the fraud budget given to each pattern.
_PATTERN_SHARES = {
    CARD_TESTING: 0.30,
    STOLEN_CARD: 0.25,
    ACCOUNT_TAKEOVER: 0.15,
    COMPROMISED_SELLER: 0.15,
    PROMO_ABUSE: 0.15,
}
_FRAUD_RATE_RANGE = (0.03, 0.04)

_HOME_COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "BE", "AT", "IE", "PT", "GB", "US")
_HOME_WEIGHTS = (22, 17, 10, 9, 9, 5, 4, 4, 3, 11, 6)
# Issuing countries that only show up on stolen cards.
_FOREIGN_CARD_COUNTRIES = ("BR", "CA", "AU", "MX", "IN", "TR", "ZA")
_CURRENCY = {"GB": "GBP", "US": "USD"}  # everything else is EUR

_N_SELLERS = 40
_MAX_SELLER_SHARE = 0.07  # of legit volume; fraud bursts add a little on top

# UTC hour-of-day profile: quiet at night, peaks at lunch and in the evening.
_HOUR_WEIGHTS = np.array(
    [0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.30, 0.55, 0.80, 0.95, 1.00, 1.05,
     1.15, 1.10, 1.00, 0.95, 1.00, 1.10, 1.30, 1.50, 1.60, 1.45, 1.00, 0.55]
)  # fmt: skip
_NIGHT_BOOST = np.array([2.0] * 6 + [0.0] * 18)
_FLAT_HOURS = np.ones(24)

_FIRST_NAMES = (
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ines",
    "jan", "julia", "karl", "lea", "luca", "marie", "noah", "olivia", "paul",
    "quentin", "rosa", "sofia", "tom", "ursula", "victor", "wim", "yara", "zoe",
)  # fmt: skip
_LAST_NAMES = (
    "bauer", "bernard", "costa", "de.vries", "dubois", "fischer", "garcia",
    "jansen", "kelly", "martin", "meyer", "moreau", "murphy", "novak", "ricci",
    "rossi", "schmidt", "silva", "smith", "taylor", "wagner", "weber", "young",
)  # fmt: skip
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
_PROMO_CODES = ("SPRING15", "FREESHIP", "LOYAL5", "WELCOME10")
_SIGNUP_PROMO = "WELCOME10"
_ABUSE_PROMOS = ("WELCOME10", "NEWUSER20", "FIRSTORDER15")
_GB_AREAS = ("SW", "EC", "N", "M", "B", "LS", "G", "EH", "BS", "CF")
_IE_ROUTING = ("D02", "D04", "D08", "T12", "H91", "V94", "A94", "K78")
_DOC_NETS = ("192.0.2", "198.51.100", "203.0.113")

_MINUTE = 60
_HOUR = 3600
_DAY = 86400


@dataclass(frozen=True)
class _Card:
    fingerprint: str
    bin: str
    country: str


@dataclass(frozen=True)
class _Device:
    device_id: str
    ip: str
    channel: str


@dataclass
class _Customer:
    customer_id: str
    country: str
    postcode: str
    email: str
    account_t: int  # seconds relative to ``start`` (negative: before the window)
    spend_mu: float  # log of the typical order amount in major units
    cards: list[_Card] = field(default_factory=list)
    devices: list[_Device] = field(default_factory=list)


class _Draft(NamedTuple):
    """An order before sorting; times are integer seconds relative to start."""

    t: int
    cents: int
    customer_id: str
    account_t: int
    email: str
    device_id: str
    ip: str
    card: _Card
    billing: tuple[str, str]
    shipping: tuple[str, str]
    seller_id: str
    channel: str
    item_count: int
    attributes: dict
    pattern: str


class _Ctx:
    """Shared state: random sources, id counters and the synthetic population."""

    def __init__(self, seed: int, start: datetime, days: int) -> None:
        self.np = np.random.default_rng(seed)
        # Scalar numpy draws cost microseconds each; the stdlib generator, seeded
        # from numpy, is much faster for the many one-off choices below.
        self.py = random.Random(int(self.np.integers(2**63)))
        self.start_weekday = start.weekday()
        self.days = days
        self.horizon = days * _DAY
        self._next_customer = 0
        self.bins = {
            c: [self._bin() for _ in range(6)]
            for c in _HOME_COUNTRIES + _FOREIGN_CARD_COUNTRIES
        }
        self.sellers = [f"sel-{i:03d}" for i in range(1, _N_SELLERS + 1)]
        self.seller_p = _seller_shares(self.np, _N_SELLERS)
        self.call_centre = [
            _Device(self.hex_id("dev-", 6), f"10.250.0.{i + 10}", "phone")
            for i in range(4)
        ]
        self.customers: list[_Customer] = []
        self.customer_p = np.empty(0)

    # -- identifiers -------------------------------------------------------
    def _bin(self) -> str:
        return f"{self.py.choice('45')}{self.py.randrange(10**5):05d}"

    def hex_id(self, prefix: str, nbytes: int) -> str:
        return f"{prefix}{self.py.getrandbits(8 * nbytes):0{2 * nbytes}x}"

    def customer_id(self) -> str:
        self._next_customer += 1
        return f"cus-{self._next_customer:06d}"

    def card(self, country: str) -> _Card:
        return _Card(self.hex_id("", 8), self.py.choice(self.bins[country]), country)

    def device(self, channel: str, ip: str) -> _Device:
        return _Device(self.hex_id("dev-", 6), ip, channel)

    def any_channel(self) -> str:
        return "app" if self.py.random() < 0.45 else "web"

    # -- network -----------------------------------------------------------
    def home_ip(self) -> str:
        r = self.py.randrange
        return f"10.{r(256)}.{r(256)}.{r(1, 255)}"

    def mobile_ip(self) -> str:
        r = self.py.randrange
        return f"100.{r(64, 128)}.{r(256)}.{r(1, 255)}"

    def doc_ip(self) -> str:
        """Hotel wifi, VPNs, proxies: used by travellers and fraudsters alike."""
        return f"{self.py.choice(_DOC_NETS)}.{self.py.randrange(1, 255)}"

    def fraud_ip(self) -> str:
        roll = self.py.random()
        if roll < 0.4:
            return self.doc_ip()
        return self.mobile_ip() if roll < 0.6 else self.home_ip()

    # -- people and places -------------------------------------------------
    def person_email(self) -> str:
        py = self.py
        suffix = str(py.randrange(100)) if py.random() < 0.5 else ""
        name = f"{py.choice(_FIRST_NAMES)}.{py.choice(_LAST_NAMES)}{suffix}"
        return f"{name}@{py.choice(_EMAIL_DOMAINS)}"

    def throwaway_email(self, stem: str | None = None) -> str:
        py = self.py
        stem = stem or "".join(py.choices("abcdefghijklmnopqrstuvwxyz", k=8))
        return f"{stem}{py.randrange(10, 10_000)}@{py.choice(_EMAIL_DOMAINS)}"

    def home_country(self) -> str:
        return self.py.choices(_HOME_COUNTRIES, weights=_HOME_WEIGHTS)[0]

    def other_country(self, *exclude: str) -> str:
        options = [c for c in _HOME_COUNTRIES if c not in exclude]
        return self.py.choice(options)

    def postcode(self, country: str) -> str:
        return _postcode(self.py, country)

    def address(self, country: str) -> tuple[str, str]:
        return (country, self.postcode(country))

    def new_account(self, t: int, min_age: int, max_age: int) -> tuple[str, int]:
        """A customer id and account time created min_age..max_age seconds before t."""
        return self.customer_id(), t - self.py.randrange(min_age, max_age + 1)

    # -- time --------------------------------------------------------------
    def times(
        self,
        k: int,
        hour_weights: np.ndarray = _HOUR_WEIGHTS,
        day_lo: int = 0,
        day_hi: int | None = None,
    ) -> np.ndarray:
        """k order times (seconds) with weekly and hourly seasonality."""
        day_hi = self.days if day_hi is None else day_hi
        day_range = np.arange(day_lo, day_hi)
        day_w = np.where((self.start_weekday + day_range) % 7 >= 5, 1.2, 1.0)
        day = self.np.choice(day_range, size=k, p=day_w / day_w.sum())
        hour = self.np.choice(24, size=k, p=hour_weights / hour_weights.sum())
        second = self.np.integers(0, _HOUR, size=k)
        return day * _DAY + hour * _HOUR + second

    def clip_t(self, t: int) -> int:
        return min(max(int(t), 0), self.horizon - 1)


def _postcode(py: random.Random, country: str) -> str:
    r = py.randrange
    letters = "ABCDEFGHJKLMNPRSTUWXYZ"
    if country == "NL":
        return f"{r(1000, 10000)} {py.choice(letters)}{py.choice(letters)}"
    if country in ("BE", "AT"):
        return str(r(1000, 10000))
    if country == "PT":
        return f"{r(1000, 10000)}-{r(1000):03d}"
    if country == "GB":
        inward = f"{r(10)}{py.choice(letters)}{py.choice(letters)}"
        return f"{py.choice(_GB_AREAS)}{r(1, 20)} {inward}"
    if country == "IE":
        tail = "".join(py.choices("0123456789ACDEFHKNPRTVWXY", k=4))
        return f"{py.choice(_IE_ROUTING)} {tail}"
    return f"{r(1000, 100000):05d}"


def _seller_shares(rng: np.random.Generator, count: int) -> np.ndarray:
    """Skewed seller volumes, capped so no seller dominates."""
    weights = rng.lognormal(0.0, 1.0, size=count)
    shares = weights / weights.sum()
    for _ in range(20):
        over = shares > _MAX_SELLER_SHARE
        if not over.any():
            break
        excess = (shares[over] - _MAX_SELLER_SHARE).sum()
        shares[over] = _MAX_SELLER_SHARE
        shares[~over] += excess * shares[~over] / shares[~over].sum()
    return shares / shares.sum()


def _currency(country: str) -> str:
    return _CURRENCY.get(country, "EUR")


def _make_customers(ctx: _Ctx, count: int) -> None:
    g, py = ctx.np, ctx.py
    ages = np.clip(g.lognormal(np.log(250.0), 1.4, size=count), 1.0, 3650.0)
    spend_mu = np.log(45.0) + 0.6 * g.standard_normal(size=count)
    activity = g.lognormal(0.0, 1.0, size=count)
    customers = []
    for i in range(count):
        country = ctx.home_country()
        customer = _Customer(
            customer_id=ctx.customer_id(),
            country=country,
            postcode=ctx.postcode(country),
            email=ctx.person_email(),
            account_t=-int(ages[i] * _DAY),
            spend_mu=float(spend_mu[i]),
        )
        for _ in range(1 + (py.random() < 0.35)):
            # Expats and frequent travellers legitimately hold foreign cards.
            issuer = ctx.other_country(country) if py.random() < 0.04 else country
            customer.cards.append(ctx.card(issuer))
        for _ in range(1 + (py.random() < 0.4)):
            customer.devices.append(ctx.device(ctx.any_channel(), ctx.home_ip()))
        if customers and py.random() < 0.03:
            # Households share a tablet or laptop between accounts.
            customer.devices.append(py.choice(customers[-50:]).devices[0])
        customers.append(customer)
    ctx.customers = customers
    ctx.customer_p = activity / activity.sum()


def _legit_orders(ctx: _Ctx, k: int) -> list[_Draft]:
    """Orders from the regular population, with label-free oddities mixed in."""
    if k <= 0:
        return []
    g, py = ctx.np, ctx.py
    cust = g.choice(len(ctx.customers), size=k, p=ctx.customer_p)
    t = ctx.times(k)
    card_u = g.random(k)
    dev_u = g.random(k)
    # Some customers come back minutes later for a forgotten item.
    follow = g.random(k) < 0.04
    follow[0] = False
    parents = g.choice(np.flatnonzero(~follow), size=int(follow.sum()))
    cust[follow] = cust[parents]
    card_u[follow] = card_u[parents]
    dev_u[follow] = dev_u[parents]
    t[follow] = np.minimum(
        t[parents] + g.integers(2 * _MINUTE, 40 * _MINUTE, size=parents.size),
        ctx.horizon - 1,
    )

    mu = np.array([c.spend_mu for c in ctx.customers])[cust]
    amount = np.exp(mu + 0.35 * g.standard_normal(k))
    big = g.random(k) < 0.02
    amount[big] *= g.uniform(3.0, 8.0, size=int(big.sum()))
    cents = np.maximum(np.rint(amount * 100), 200).astype(np.int64)
    tiny = g.random(k) < 0.01  # app top-ups, e-books: small like card testing
    cents[tiny] = g.integers(99, 500, size=int(tiny.sum()))

    seller = g.choice(_N_SELLERS, size=k, p=ctx.seller_p)
    items = 1 + g.poisson(0.8, size=k)
    noise = g.random((k, 5))

    drafts = []
    for i, c_idx in enumerate(cust.tolist()):
        c = ctx.customers[c_idx]
        card = c.cards[int(card_u[i] * len(c.cards))]
        device = c.devices[int(dev_u[i] * len(c.devices))]
        gift, travel, new_dev, phone, promo = noise[i].tolist()
        ip = device.ip
        if device.channel == "app" and py.random() < 0.3:
            ip = ctx.mobile_ip()
        if new_dev < 0.03:
            device = ctx.device(ctx.any_channel(), ip)
        if phone < 0.03:
            device = py.choice(ctx.call_centre)
            ip = device.ip
        billing = (c.country, c.postcode)
        shipping = billing
        attributes: dict = {}
        if travel < 0.015:
            ip = ctx.doc_ip()
            if py.random() < 0.5:
                shipping = ctx.address(ctx.other_country(c.country))
        elif gift < 0.025:
            shipping = ctx.address(ctx.other_country(c.country))
            attributes["gift_wrap"] = True
        if promo < 0.06:
            attributes["promo_code"] = py.choice(_PROMO_CODES)
        drafts.append(
            _Draft(
                t=int(t[i]),
                cents=int(cents[i]),
                customer_id=c.customer_id,
                account_t=c.account_t,
                email=c.email,
                device_id=device.device_id,
                ip=ip,
                card=card,
                billing=billing,
                shipping=shipping,
                seller_id=ctx.sellers[seller[i]],
                channel=device.channel,
                item_count=int(items[i]),
                attributes=attributes,
                pattern=LEGIT,
            )
        )
    return drafts


def _fresh_signup_orders(ctx: _Ctx, k: int) -> list[_Draft]:
    """Genuine first orders minutes after sign-up: look like promo abuse alone."""
    py = ctx.py
    drafts = []
    for t in ctx.times(k).tolist():
        country = ctx.home_country()
        customer_id, account_t = ctx.new_account(t, 2 * _MINUTE, 2 * _HOUR)
        device = ctx.device(ctx.any_channel(), ctx.home_ip())
        address = ctx.address(country)
        promo = {"promo_code": _SIGNUP_PROMO} if py.random() < 0.6 else {}
        drafts.append(
            _Draft(
                t=t,
                cents=int(py.lognormvariate(math.log(40.0), 0.5) * 100) + 100,
                customer_id=customer_id,
                account_t=account_t,
                email=ctx.person_email(),
                device_id=device.device_id,
                ip=device.ip,
                card=ctx.card(country),
                billing=address,
                shipping=address,
                seller_id=_pick_seller(ctx),
                channel=device.channel,
                item_count=1 + py.randrange(3),
                attributes=promo,
                pattern=LEGIT,
            )
        )
    return drafts


def _pick_seller(ctx: _Ctx) -> str:
    return ctx.py.choices(ctx.sellers, weights=ctx.seller_p)[0]


def _card_testing(ctx: _Ctx, budget: int) -> list[_Draft]:
    """Bursts of tiny charges on a fresh card from one device, mostly one seller."""
    py = ctx.py
    drafts: list[_Draft] = []
    while budget - len(drafts) >= 5:
        size = min(py.randint(5, 20), budget - len(drafts))
        gaps = [py.randint(10, 80) for _ in range(size - 1)]
        t0 = int(ctx.times(1, _FLAT_HOURS)[0])
        t0 = min(t0, ctx.horizon - 1 - sum(gaps))
        country = ctx.home_country()
        card_country = country if py.random() < 0.5 else ctx.other_country(country)
        card = ctx.card(card_country)
        device = ctx.device("web", ctx.fraud_ip())
        customer_id, account_t = ctx.new_account(t0, _HOUR, 5 * _DAY)
        email = ctx.throwaway_email()
        address = ctx.address(country)
        target_seller = py.choice(ctx.sellers)
        elsewhere = set(py.sample(range(size), py.randint(0, size // 3)))
        t = t0
        for j in range(size):
            t += gaps[j - 1] if j else 0
            seller = _pick_seller(ctx) if j in elsewhere else target_seller
            drafts.append(
                _Draft(
                    t=t,
                    cents=py.randint(100, 500),
                    customer_id=customer_id,
                    account_t=account_t,
                    email=email,
                    device_id=device.device_id,
                    ip=device.ip,
                    card=card,
                    billing=address,
                    shipping=address,
                    seller_id=seller,
                    channel="web",
                    item_count=1,
                    attributes={},
                    pattern=CARD_TESTING,
                )
            )
    return drafts


def _stolen_card(ctx: _Ctx, budget: int) -> list[_Draft]:
    """Big orders on someone else's card, billed and shipped to other countries."""
    py = ctx.py
    drafts: list[_Draft] = []
    night_hours = _HOUR_WEIGHTS + _NIGHT_BOOST
    while len(drafts) < budget:
        billing = ctx.address(ctx.home_country())
        shipping = ctx.address(ctx.other_country(billing[0]))
        if py.random() < 0.5:
            issuer = py.choice(_FOREIGN_CARD_COUNTRIES)
        else:
            issuer = ctx.other_country(billing[0], shipping[0])
        card = ctx.card(issuer)
        device = ctx.device(ctx.any_channel(), ctx.fraud_ip())
        t = int(ctx.times(1, night_hours)[0])
        customer_id, account_t = ctx.new_account(t, 10 * _MINUTE, 3 * _DAY)
        email = ctx.throwaway_email()
        # A second hit on the same card shortly after is common.
        repeats = 2 if py.random() < 0.3 else 1
        for _ in range(min(repeats, budget - len(drafts))):
            drafts.append(
                _Draft(
                    t=t,
                    cents=int(py.lognormvariate(math.log(320.0), 0.5) * 100),
                    customer_id=customer_id,
                    account_t=account_t,
                    email=email,
                    device_id=device.device_id,
                    ip=device.ip,
                    card=card,
                    billing=billing,
                    shipping=shipping,
                    seller_id=_pick_seller(ctx),
                    channel=device.channel,
                    item_count=1 + py.randrange(4),
                    attributes={},
                    pattern=STOLEN_CARD,
                )
            )
            t = ctx.clip_t(t + py.randint(5 * _MINUTE, _HOUR))
    return drafts


def _account_takeover(ctx: _Ctx, budget: int) -> list[_Draft]:
    """An old account suddenly ordering big from a new device to a new address."""
    py = ctx.py
    old = [i for i, c in enumerate(ctx.customers) if c.account_t <= -180 * _DAY]
    drafts: list[_Draft] = []
    if not old:
        return drafts
    victims = [ctx.customers[i] for i in old]
    victim_w = ctx.customer_p[old].tolist()
    while len(drafts) < budget:
        victim = py.choices(victims, weights=victim_w)[0]
        device = ctx.device(ctx.any_channel(), ctx.fraud_ip())
        shipping = ctx.address(ctx.other_country(victim.country))
        card = victim.cards[0]
        # Late in the window so the victim usually has normal history before.
        t = ctx.clip_t(ctx.times(1, day_lo=int(ctx.days * 0.3))[0])
        for _ in range(min(py.randint(1, 3), budget - len(drafts))):
            usual = math.exp(victim.spend_mu)
            drafts.append(
                _Draft(
                    t=t,
                    cents=int(usual * py.uniform(3.0, 8.0) * 100),
                    customer_id=victim.customer_id,
                    account_t=victim.account_t,
                    email=victim.email,
                    device_id=device.device_id,
                    ip=device.ip,
                    card=card,
                    billing=(victim.country, victim.postcode),
                    shipping=shipping,
                    seller_id=_pick_seller(ctx),
                    channel=device.channel,
                    item_count=1 + py.randrange(3),
                    attributes={},
                    pattern=ACCOUNT_TAKEOVER,
                )
            )
            t = ctx.clip_t(t + py.randint(5 * _MINUTE, 90 * _MINUTE))
    return drafts


def _compromised_seller(ctx: _Ctx, budget: int, n: int) -> list[_Draft]:
    """For a few days one seller pushes through many fake orders from a fraud ring."""
    py = ctx.py
    drafts: list[_Draft] = []
    # Leave out the largest sellers: a takeover there would not dominate volume.
    candidates = np.argsort(ctx.seller_p)[: _N_SELLERS - 5].tolist()
    while candidates and budget - len(drafts) >= 5:
        remaining = budget - len(drafts)
        window = min(py.randint(2, 4), ctx.days)
        normal_volume = n * ctx.seller_p * window / ctx.days
        # Fraud must outnumber the seller's genuine orders in the window.
        fits = [s for s in candidates if normal_volume[s] * 3 <= remaining]
        if fits:
            seller = py.choice(fits)
        else:
            seller = min(candidates, key=lambda s: normal_volume[s])
        candidates.remove(seller)
        size = max(5, int(normal_volume[seller] * py.uniform(3.0, 4.0)))
        size = min(size, remaining)
        day0 = py.randrange(ctx.days - window + 1)
        ring = [
            ctx.device(ctx.any_channel(), ctx.fraud_ip())
            for _ in range(py.randint(2, 4))
        ]
        for t in ctx.times(size, day_lo=day0, day_hi=day0 + window).tolist():
            billing = ctx.address(ctx.home_country())
            issuer = billing[0] if py.random() < 0.5 else ctx.other_country(billing[0])
            device = py.choice(ring)
            customer_id, account_t = ctx.new_account(t, _HOUR, 10 * _DAY)
            drafts.append(
                _Draft(
                    t=t,
                    cents=int(py.lognormvariate(math.log(120.0), 0.6) * 100) + 100,
                    customer_id=customer_id,
                    account_t=account_t,
                    email=ctx.throwaway_email(),
                    device_id=device.device_id,
                    ip=device.ip,
                    card=ctx.card(issuer),
                    billing=billing,
                    shipping=billing,
                    seller_id=ctx.sellers[seller],
                    channel=device.channel,
                    item_count=1 + py.randrange(2),
                    attributes={},
                    pattern=COMPROMISED_SELLER,
                )
            )
    return drafts


def _promo_abuse(ctx: _Ctx, budget: int) -> list[_Draft]:
    """Many brand-new accounts on one device, all redeeming the same code."""
    py = ctx.py
    drafts: list[_Draft] = []
    while budget - len(drafts) >= 5:
        size = min(py.randint(5, 15), budget - len(drafts))
        device = ctx.device(ctx.any_channel(), ctx.home_ip())
        code = py.choice(_ABUSE_PROMOS)
        country = ctx.home_country()
        cards = [ctx.card(country) for _ in range(py.randint(1, 3))]
        postcodes = [ctx.postcode(country) for _ in range(py.randint(1, 2))]
        stem = "".join(py.choices("abcdefghijklmnopqrstuvwxyz", k=6))
        gaps = [py.randint(3 * _MINUTE, 30 * _MINUTE) for _ in range(size - 1)]
        t = min(int(ctx.times(1)[0]), ctx.horizon - 1 - sum(gaps))
        for j in range(size):
            t += gaps[j - 1] if j else 0
            customer_id, account_t = ctx.new_account(t, _MINUTE, 20 * _MINUTE)
            ip = device.ip if py.random() < 0.8 else ctx.mobile_ip()
            address = (country, py.choice(postcodes))
            drafts.append(
                _Draft(
                    t=t,
                    cents=py.randint(1500, 7000),
                    customer_id=customer_id,
                    account_t=account_t,
                    email=ctx.throwaway_email(stem),
                    device_id=device.device_id,
                    ip=ip,
                    card=py.choice(cards),
                    billing=address,
                    shipping=address,
                    seller_id=_pick_seller(ctx),
                    channel=device.channel,
                    item_count=1,
                    attributes={"promo_code": code},
                    pattern=PROMO_ABUSE,
                )
            )
    return drafts


def _fraud_orders(ctx: _Ctx, n: int) -> list[_Draft]:
    total = round(n * ctx.py.uniform(*_FRAUD_RATE_RANGE))
    budgets = {p: int(total * share) for p, share in _PATTERN_SHARES.items()}
    return [
        *_card_testing(ctx, budgets[CARD_TESTING]),
        *_stolen_card(ctx, budgets[STOLEN_CARD]),
        *_account_takeover(ctx, budgets[ACCOUNT_TAKEOVER]),
        *_compromised_seller(ctx, budgets[COMPROMISED_SELLER], n),
        *_promo_abuse(ctx, budgets[PROMO_ABUSE]),
    ]


def _to_order(order_id: str, d: _Draft, start: datetime) -> dict:
    return {
        "order_id": order_id,
        "created_at": start + timedelta(seconds=d.t),
        "amount": Decimal(d.cents).scaleb(-2),
        "currency": _currency(d.billing[0]),
        "customer_id": d.customer_id,
        "account_created_at": start + timedelta(seconds=d.account_t),
        "email": d.email,
        "device_id": d.device_id,
        "ip_address": d.ip,
        "card_fingerprint": d.card.fingerprint,
        "card_bin": d.card.bin,
        "card_country": d.card.country,
        "billing_country": d.billing[0],
        "billing_postcode": d.billing[1],
        "shipping_country": d.shipping[0],
        "shipping_postcode": d.shipping[1],
        "seller_id": d.seller_id,
        "channel": d.channel,
        "item_count": d.item_count,
        "attributes": dict(d.attributes),
        "is_fraud": d.pattern != LEGIT,
        "pattern": d.pattern,
    }


def generate_orders(
    n: int, seed: int = 0, start: datetime | None = None, days: int = 30
) -> list[dict]:
    """Generate ``n`` orders over ``days`` days from ``start``, sorted by time.

    A naive ``start`` is taken to be UTC. Roughly 3–4% of orders are fraud
    (fewer for very small ``n``, where whole bursts do not fit the budget).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if days < 1:
        raise ValueError("days must be >= 1")
    if start is None:
        start = DEFAULT_START
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    else:
        start = start.astimezone(UTC)
    if n == 0:
        return []

    ctx = _Ctx(seed, start, days)
    _make_customers(ctx, max(20, n // 4))
    drafts = _fraud_orders(ctx, n)
    n_legit = n - len(drafts)
    n_fresh = round(0.03 * n_legit)
    drafts += _fresh_signup_orders(ctx, n_fresh)
    drafts += _legit_orders(ctx, n_legit - n_fresh)
    drafts.sort(key=lambda d: d.t)  # stable, so ties keep a deterministic order
    width = max(6, len(str(n)))
    return [_to_order(f"ord-{i:0{width}d}", d, start) for i, d in enumerate(drafts, 1)]
