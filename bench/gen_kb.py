"""Synthetic knowledge-base generator for benchmarking kbtui.

Writes a markdown KB shaped like the real one described in ``shared/design/formats.md``:

- ``domains/<d>/<claim title>.md``: claims with YAML frontmatter, ``[[links]]`` to other claims,
  a ``Relevant Notes:`` / ``Topics:`` footer, and one ``_map.md`` per domain;
- ``inbox/archive/YYYY-MM-DD-author-slug-<i>.md``: sources with frontmatter, a ``## Content``
  body, and (for most) ``## Agent Notes`` and ``## Curator Notes`` handoff sections.

All text comes from invented word lists; output depends only on the arguments (seeded
``random.Random``). Usage::

    python bench/gen_kb.py ROOT --sources N [--claims M] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# Word lists (invented; nothing here is taken from the real corpus)
# ---------------------------------------------------------------------------------------------

DOMAINS: tuple[str, ...] = (
    "d0-energy",
    "d1-health",
    "d2-finance",
    "d3-space",
    "d4-alignment",
    "d5-culture",
)

DOMAIN_TITLES: dict[str, str] = {
    "d0-energy": "Energy Systems & Grid Transitions",
    "d1-health": "Health & Care Delivery",
    "d2-finance": "Markets, Capital & Coordination",
    "d3-space": "Orbital Industry & Launch Economics",
    "d4-alignment": "Machine Alignment & Oversight",
    "d5-culture": "Culture, Media & Collective Memory",
}

DOMAIN_NOUNS: dict[str, tuple[str, ...]] = {
    "d0-energy": (
        "grid storage",
        "solar capacity",
        "transmission lines",
        "heat pumps",
        "modular reactors",
        "peak demand",
        "battery chemistry",
        "capacity markets",
        "utility tariffs",
        "geothermal wells",
        "green hydrogen",
        "interconnection queues",
        "rooftop arrays",
        "load balancing",
    ),
    "d1-health": (
        "primary care",
        "clinical trials",
        "care coordination",
        "chronic disease",
        "payer contracts",
        "hospital margins",
        "diagnostic imaging",
        "home monitoring",
        "nurse staffing",
        "drug pricing",
        "preventive screening",
        "patient adherence",
        "risk adjustment",
        "telehealth visits",
    ),
    "d2-finance": (
        "liquidity pools",
        "credit spreads",
        "venture funding",
        "token governance",
        "settlement rails",
        "market makers",
        "capital allocation",
        "index funds",
        "prediction markets",
        "payment networks",
        "collateral chains",
        "treasury yields",
        "stablecoin reserves",
        "fee compression",
    ),
    "d3-space": (
        "launch cadence",
        "reusable boosters",
        "orbital debris",
        "satellite constellations",
        "lunar logistics",
        "propellant depots",
        "ground stations",
        "payload pricing",
        "in-orbit servicing",
        "spectrum licensing",
        "deep-space probes",
        "station modules",
        "launch insurance",
        "rideshare missions",
    ),
    "d4-alignment": (
        "reward models",
        "interpretability tools",
        "evaluation suites",
        "deceptive behaviour",
        "oversight protocols",
        "capability jumps",
        "red-team exercises",
        "model audits",
        "preference learning",
        "specification gaming",
        "tool-using agents",
        "compute thresholds",
        "scalable oversight",
        "goal misgeneralisation",
    ),
    "d5-culture": (
        "fan communities",
        "streaming catalogues",
        "oral traditions",
        "meme cycles",
        "creator economies",
        "public libraries",
        "local newspapers",
        "ritual calendars",
        "music scenes",
        "museum archives",
        "shared narratives",
        "attention markets",
        "folk genres",
        "language revival",
    ),
}

ADJECTIVES: tuple[str, ...] = (
    "distributed",
    "centralised",
    "incremental",
    "structural",
    "fragmented",
    "vertically integrated",
    "open",
    "regulated",
    "early",
    "late-stage",
    "informal",
    "automated",
    "local",
    "global",
    "subsidised",
    "volatile",
    "persistent",
    "hidden",
    "cheap",
    "scarce",
    "redundant",
    "modular",
    "legacy",
    "emergent",
    "adaptive",
    "brittle",
    "compounding",
    "marginal",
    "shared",
    "proprietary",
    "long-horizon",
    "short-term",
    "bottom-up",
    "top-down",
    "cross-border",
    "mid-sized",
    "experimental",
    "dominant",
    "niche",
    "networked",
)

GENERAL_NOUNS: tuple[str, ...] = (
    "incentives",
    "coordination costs",
    "learning curves",
    "switching costs",
    "trust networks",
    "feedback loops",
    "price signals",
    "institutional memory",
    "supply chains",
    "standards bodies",
    "platform lock-in",
    "labour pools",
    "data moats",
    "regulatory capture",
    "scale economies",
    "network effects",
    "error correction",
    "information asymmetry",
    "public funding",
    "insurance pools",
    "maintenance backlogs",
    "tacit knowledge",
    "experimentation budgets",
    "procurement rules",
    "incumbent operators",
    "small teams",
    "open protocols",
    "reputation systems",
    "firms' pricing power",
    "users' attention",
)

# (third person singular, plural) forms, so verbs agree with their subject.
VERBS: tuple[tuple[str, str], ...] = (
    ("reduces", "reduce"),
    ("amplifies", "amplify"),
    ("outpaces", "outpace"),
    ("concentrates", "concentrate"),
    ("erodes", "erode"),
    ("compounds", "compound"),
    ("displaces", "displace"),
    ("cannot replace", "cannot replace"),
    ("will outcompete", "will outcompete"),
    ("undermines", "undermine"),
    ("accelerates", "accelerate"),
    ("stabilises", "stabilise"),
    ("fragments", "fragment"),
    ("locks in", "lock in"),
    ("crowds out", "crowd out"),
    ("depends on", "depend on"),
    ("substitutes for", "substitute for"),
    ("reinforces", "reinforce"),
    ("masks", "mask"),
    ("exposes", "expose"),
    ("subsidises", "subsidise"),
    ("bottlenecks", "bottleneck"),
    ("decouples from", "decouple from"),
    ("converges with", "converge with"),
    ("outlasts", "outlast"),
    ("degrades", "degrade"),
    ("unlocks", "unlock"),
    ("constrains", "constrain"),
    ("mirrors", "mirror"),
    ("hollows out", "hollow out"),
)

CONNECTORS: tuple[str, ...] = (
    "because",
    "because",
    "because",
    "when",
    "only if",
    "since",
    "even though",
    "unless",
    "while",
    "so that",
)

QUALIFIERS: tuple[str, ...] = (
    "within a decade",
    "at scale",
    "by 30 percent",
    "by roughly half",
    "at 3-5x the rate",
    "in most markets",
    "over the long run",
    "in the first year",
    "for mid-sized operators",
    "below the 10 percent threshold",
    "across every region studied",
    "before 2030",
)

FIRST_NAMES: tuple[str, ...] = (
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustavo",
    "Hana",
    "Ines",
    "Jonas",
    "Kemal",
    "Lucía",
    "Mateo",
    "Noor",
    "Olamide",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "Uma",
    "Valentin",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
)

LAST_NAMES: tuple[str, ...] = (
    "Abernathy",
    "Bergström",
    "Castellanos",
    "Dufresne",
    "Eriksen",
    "Fairweather",
    "Galloway",
    "Hollis",
    "Ibarra",
    "Jankowski",
    "Kowalczyk",
    "Lindqvist",
    "Moreau",
    "Nakagawa",
    "Okonkwo",
    "Pellegrini",
    "Quinlan",
    "Rasmussen",
    "Szabó",
    "Takahashi",
    "Underhill",
    "Vasquez",
    "Whitcombe",
    "Yilmaz",
    "Zielinski",
    "Désaulniers",
    "Ó Briain",
)

PLACES: tuple[str, ...] = (
    "northern Portugal",
    "the Ruhr valley",
    "coastal Kenya",
    "Ontario",
    "Kyushu",
    "the Andean highlands",
    "Lagos",
    "rural Iowa",
    "Tasmania",
    "the Baltic states",
    "Gujarat",
    "Patagonia",
)

FORMATS: tuple[str, ...] = (
    "paper",
    "paper",
    "article",
    "article",
    "report",
    "essay",
    "thread",
    "book",
    "podcast",
    "dataset",
    "newsletter",
)

PRIORITIES: tuple[str, ...] = ("low", "medium", "medium", "high")
CONFIDENCES: tuple[str, ...] = ("proven", "likely", "likely", "experimental", "speculative")
AGENTS: tuple[str, ...] = ("ardent", "bryn", "corvo", "dala", "essen", "fyn")
NONSTANDARD_STATUS: tuple[str, ...] = ("enrichment", "archive")

TITLE_WORDS: tuple[str, ...] = (
    "Evidence",
    "Limits",
    "Economics",
    "Dynamics",
    "Politics",
    "Geography",
    "Future",
    "Origins",
    "Costs",
    "Promise",
    "Paradox",
    "Anatomy",
)

RELATIONS: tuple[str, ...] = (
    "extends the argument to",
    "supplies the mechanism behind",
    "is the upstream cause of",
    "qualifies the scope of",
    "offers a counterexample involving",
    "provides cost data on",
    "explains the timing of",
    "generalises the pattern in",
)

GLOSSES: tuple[str, ...] = (
    "this source gives direct evidence for",
    "the data here quantify",
    "a case study of",
    "partially contradicts the framing of",
    "adds a regional example of",
    "the mechanism described here explains",
    "strengthens the causal story about",
    "suggests a boundary condition on",
)

HINT_LEADS: tuple[str, ...] = (
    "Focus on the mechanism rather than the headline numbers",
    "Extract the quantitative result first, then the causal story",
    "Keep the regional scope explicit in any claim",
    "Separate the descriptive finding from the authors' recommendation",
    "Treat the forecast as speculative and the historical data as likely",
    "Look for the boundary conditions the authors mention in passing",
)

WHY_ARCHIVED: tuple[str, ...] = (
    "Fills a gap in the evidence base for",
    "First quantitative treatment we have of",
    "Strong counter-evidence to our current view of",
    "Connects two domains through",
    "Primary source behind several secondary claims about",
    "Useful historical baseline for",
)

NULL_NOTES: tuple[str, ...] = (
    "No new claims: everything here is already covered by existing notes on",
    "Opinion piece without evidence beyond what we hold on",
    "Paywalled; abstract only, too thin to extract anything about",
    "Duplicate of an earlier source on",
)

SENTENCE_OPENERS: tuple[str, ...] = (
    "The authors argue that",
    "Survey data suggest that",
    "In the field study,",
    "Across the sample,",
    "Interviews with operators indicate that",
    "A longitudinal panel shows that",
    "The central finding is that",
    "Contrary to earlier estimates,",
    "Historical records show that",
    "The model predicts that",
)

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def q(text: str) -> str:
    """YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out: list[str] = []
    dash = False
    for ch in ascii_text.lower():
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def title_case(text: str) -> str:
    return " ".join(w if w in ("of", "and") else cap(w) for w in text.split())


def agree(subject: str, verb: tuple[str, str]) -> str:
    """Pick the verb form for subject: noun phrases ending in 's' are plural here."""
    return verb[1] if subject.endswith("s") else verb[0]


class Vocab:
    """Prebuilt phrase and sentence pools, so per-file generation is just choices and joins."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        all_domain_nouns = [n for d in DOMAINS for n in DOMAIN_NOUNS[d]]
        self.nouns_by_domain: dict[str, list[str]] = {
            d: list(DOMAIN_NOUNS[d]) + list(GENERAL_NOUNS) for d in DOMAINS
        }
        self.all_nouns: list[str] = all_domain_nouns + list(GENERAL_NOUNS)
        self.sentences: list[str] = [self._sentence() for _ in range(4096)]
        self.short_sentences: list[str] = [s for s in self.sentences if len(s) < 140][:1024]
        self.authors: list[str] = [self._author() for _ in range(512)]

    def noun_phrase(self, domain: str | None = None) -> str:
        rng = self.rng
        nouns = self.nouns_by_domain[domain] if domain else self.all_nouns
        noun = rng.choice(nouns)
        if rng.random() < 0.6:
            adj = rng.choice(ADJECTIVES)
            if not noun.startswith(adj):
                return f"{adj} {noun}"
        return noun

    def clause(self, domain: str | None = None) -> str:
        rng = self.rng
        subject = self.noun_phrase(domain)
        return f"{subject} {agree(subject, rng.choice(VERBS))} {self.noun_phrase(domain)}"

    def proposition(self, domain: str | None = None) -> str:
        """A claim-like proposition of 8-20 words, at most 150 bytes, without '/'."""
        rng = self.rng
        while True:
            text = f"{self.clause(domain)} {rng.choice(CONNECTORS)} {self.clause(domain)}"
            if rng.random() < 0.4:
                text = f"{text} {rng.choice(QUALIFIERS)}"
            if rng.random() < 0.1:
                text = cap(text)
            words = len(text.split())
            if 8 <= words <= 20 and len(text.encode("utf-8")) <= 150:
                return text

    def _sentence(self) -> str:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0:
            pct = rng.randint(3, 87)
            y1 = rng.randint(1990, 2018)
            return (
                f"{rng.choice(SENTENCE_OPENERS)} {self.clause()} by {pct} percent "
                f"between {y1} and {y1 + rng.randint(2, 8)}."
            )
        if kind == 1:
            return (
                f"In {rng.choice(PLACES)}, {self.clause()}, which {rng.choice(VERBS)[0]} "
                f"{self.noun_phrase()}."
            )
        if kind == 2:
            return (
                f"This suggests that {self.clause()} {rng.choice(CONNECTORS)} "
                f"{self.clause()} — a pattern the authors call {rng.choice(ADJECTIVES)} drift."
            )
        if kind == 3:
            n = rng.randint(12, 4800)
            hard = self.noun_phrase()
            return (
                f"{rng.choice(SENTENCE_OPENERS)} {self.clause()} in {n} of the cases examined, "
                f"though {hard} {agree(hard, ('remains', 'remain'))} hard to measure."
            )
        if kind == 4:
            return cap(f"{self.clause()} {rng.choice(CONNECTORS)} {self.clause()}.")
        return (
            f"{rng.choice(SENTENCE_OPENERS)} {self.noun_phrase()} and {self.noun_phrase()} "
            f"move together, with {self.noun_phrase()} as the lagging indicator."
        )

    def _author(self) -> str:
        rng = self.rng
        r = rng.random()
        first = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if r < 0.6:
            return first
        if r < 0.85:
            return f"{rng.choice(LAST_NAMES)} et al."
        return f"{first}, {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    def paragraph(self, n: int) -> str:
        return " ".join(self.rng.choices(self.sentences, k=n))


def author_slug(author: str) -> str:
    first_author = author.split(",")[0].removesuffix(" et al.")
    return slugify(first_author.split()[-1]) or "anon"


def write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


# ---------------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------------


class Claim:
    __slots__ = ("domain", "title")

    def __init__(self, title: str, domain: str) -> None:
        self.title = title
        self.domain = domain


def make_claims(vocab: Vocab, n_claims: int) -> list[Claim]:
    rng = vocab.rng
    seen: set[str] = set()
    claims: list[Claim] = []
    for i in range(n_claims):
        domain = DOMAINS[i % len(DOMAINS)]
        while True:
            title = vocab.proposition(domain)
            key = title.lower()
            if key not in seen:
                seen.add(key)
                break
        claims.append(Claim(title, domain))
    rng.shuffle(claims)
    return claims


def pick_other(rng: random.Random, claims: Sequence[Claim], index: int, k: int) -> list[Claim]:
    """k distinct claims other than claims[index]."""
    n = len(claims)
    k = min(k, n - 1)
    picks = rng.sample(range(n - 1), k)
    return [claims[p + 1 if p >= index else p] for p in picks]


def claim_text(vocab: Vocab, claims: Sequence[Claim], index: int) -> str:
    rng = vocab.rng
    claim = claims[index]
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    lines = [
        "---",
        "type: claim",
        f"domain: {claim.domain}",
        f"description: {q(cap(rng.choice(vocab.short_sentences)))}",
        f"confidence: {rng.choice(CONFIDENCES)}",
        f"source: {q(f'{rng.choice(vocab.authors)} {rng.randint(2005, 2025)}; field notes')}",
        f"created: 2025-{month:02d}-{day:02d}",
    ]
    if rng.random() < 0.3:
        lines.append("depends_on:")
        for dep in pick_other(rng, claims, index, rng.randint(1, 2)):
            lines.append(f"  - {q(dep.title)}")
    lines.append("---")
    lines.append("")
    lines.append(f"# {claim.title}")
    lines.append("")
    links = pick_other(rng, claims, index, rng.randint(1, 3))
    para1 = vocab.paragraph(rng.randint(3, 5))
    para2 = vocab.paragraph(rng.randint(2, 4))
    link_bits = [
        f"This builds on [[{c.title}]], which {rng.choice(RELATIONS)} the same dynamic."
        for c in links
    ]
    cut = rng.randint(0, len(link_bits))
    para1 = " ".join([para1, *link_bits[:cut]])
    para2 = " ".join([para2, *link_bits[cut:]])
    lines += [para1, "", para2, "", "---", "", "Relevant Notes:"]
    for c in links[:1] + pick_other(rng, claims, index, 1):
        lines.append(f"- [[{c.title}]] — {rng.choice(RELATIONS)} {vocab.noun_phrase()}")
    lines += ["", "Topics:", "- [[_map]]", ""]
    return "\n".join(lines)


def map_text(vocab: Vocab, domain: str, titles: Sequence[str]) -> str:
    rng = vocab.rng
    lines = [f"# {DOMAIN_TITLES[domain]}", "", vocab.paragraph(2), ""]
    section_size = 12
    for start in range(0, len(titles), section_size):
        lines.append(f"## {cap(vocab.noun_phrase(domain))}")
        for title in titles[start : start + section_size]:
            lines.append(f"- [[{title}]] — {rng.choice(GLOSSES)} {vocab.noun_phrase(domain)}")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


class SourceGen:
    def __init__(self, vocab: Vocab, claims: Sequence[Claim]) -> None:
        self.vocab = vocab
        self.rng = vocab.rng
        self.claims = claims
        self.by_domain: dict[str, list[str]] = {d: [] for d in DOMAINS}
        for c in claims:
            self.by_domain[c.domain].append(c.title)
        self.all_titles: list[str] = [c.title for c in claims]
        existing = {t.lower() for t in self.all_titles}
        self.missing_titles: list[str] = []
        while len(self.missing_titles) < 256:
            t = vocab.proposition()
            if t.lower() not in existing:
                self.missing_titles.append(t)
        self.candidates: list[str] = [vocab.proposition() for _ in range(2048)]

    def claim_titles(self, domain: str, k: int) -> list[str]:
        """k distinct existing claim titles, mostly from the source's own domain."""
        rng = self.rng
        pool = self.by_domain[domain]
        if len(pool) < k or rng.random() < 0.3:
            pool = self.all_titles
        return rng.sample(pool, min(k, len(pool)))

    def source_title(self, domain: str) -> str:
        rng = self.rng
        vocab = self.vocab
        r = rng.random()
        if r < 0.4:
            return (
                f"The {rng.choice(TITLE_WORDS)} of {title_case(vocab.noun_phrase(domain))}: "
                f"Evidence from {rng.choice(PLACES)}"
            )
        if r < 0.7:
            return cap(f"{vocab.clause(domain)}")
        return f"{cap(vocab.noun_phrase(domain))} and {vocab.noun_phrase(domain)}"

    def text(self, i: int) -> tuple[str, str]:
        """(file name, file text) for source number i."""
        rng = self.rng
        vocab = self.vocab
        domain = rng.choice(DOMAINS)
        year = rng.randint(1995, 2026)
        month = rng.randint(1, 12)
        day = 0 if rng.random() < 0.05 else rng.randint(1, 28)
        date = f"{year}-{month:02d}-{day:02d}"
        author = rng.choice(vocab.authors)
        title = self.source_title(domain)
        slug = "-".join(slugify(title).split("-")[:6])
        name = f"{date}-{author_slug(author)}-{slug}-{i}.md"

        others = [d for d in DOMAINS if d != domain]
        secondary = rng.sample(others, rng.choice((0, 1, 2, 2)))
        r = rng.random()
        if r < 0.6:
            status = "unprocessed"
        elif r < 0.7:
            status = "processing"
        elif r < 0.9:
            status = "processed"
        elif r < 0.98:
            status = "null-result"
        else:
            status = rng.choice(NONSTANDARD_STATUS)

        fm = [
            "---",
            "type: source",
            f"title: {q(title)}",
            f"author: {q(author)}",
            f"url: https://example.org/{i}",
            f"date: {date}",
            f"domain: {domain}",
            f"secondary_domains: [{', '.join(secondary)}]",
            f"format: {rng.choice(FORMATS)}",
            f"status: {status}",
        ]
        if status == "processed":
            fm.append(f"processed_by: {rng.choice(AGENTS)}")
            fm.append(f"processed_date: 2026-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}")
            fm.append("claims_extracted:")
            for t in self.claim_titles(domain, rng.randint(1, 2)):
                fm.append(f"  - {q(t)}")
        elif status == "null-result":
            fm.append(f"notes: {q(f'{rng.choice(NULL_NOTES)} {vocab.noun_phrase(domain)}')}")
        fm.append(f"priority: {rng.choice(PRIORITIES)}")
        tags = [slugify(vocab.noun_phrase(domain)) for _ in range(rng.randint(3, 6))]
        fm.append(f"tags: [{', '.join(dict.fromkeys(tags))}]")
        fm.append("---")

        body = ["", "## Content", ""]
        n_paras = rng.randint(3, 6)
        total = rng.randint(11, 20)
        sentences = rng.choices(vocab.sentences, k=total)
        cuts = sorted(rng.sample(range(1, total), n_paras - 1))
        bounds = [0, *cuts, total]
        paras = [" ".join(sentences[a:b]) for a, b in pairwise(bounds)]
        if rng.random() < 0.25 and len(paras) >= 3:
            body += [paras[0], "", "### Key Findings", ""]
            for k, p in enumerate(paras[1:], 1):
                body += [f"{k}. **{title_case(vocab.noun_phrase(domain))}**: {p}", ""]
        else:
            for p in paras:
                body += [p, ""]

        if rng.random() < 0.7:
            body += self.agent_notes(domain)
        return name, "\n".join(fm + body)

    def agent_notes(self, domain: str) -> list[str]:
        rng = self.rng
        vocab = self.vocab
        out = [
            "## Agent Notes",
            "",
            f"**Why this matters:** {vocab.paragraph(rng.randint(1, 2))}",
            "",
            f"**What surprised me:** {rng.choice(vocab.sentences)}",
            "",
            "**KB connections:**",
        ]
        linked = self.claim_titles(domain, rng.randint(2, 3))
        # One in seven of the 70% with notes, i.e. ~10% of all sources: a link to nothing.
        if rng.random() < 1 / 7:
            linked[-1] = rng.choice(self.missing_titles)
        for t in linked:
            out.append(f"- [[{t}]] — {rng.choice(GLOSSES)} {vocab.noun_phrase(domain)}")
        out += ["", "**Extraction hints:**"]
        shape = rng.randrange(4)
        cands = rng.sample(self.candidates, rng.randint(1, 3))
        if shape == 0:
            out += [f"- CLAIM: {cap(c)}" for c in cands]
        elif shape == 1:
            inline = " ".join(f'({k}) "{c}"' for k, c in enumerate(cands, 1))
            out.append(f"Candidate claims: {inline}")
        elif shape == 2:
            out += [f'- "{c}"' for c in cands]
        else:
            out += [f"{k}. CLAIM: {cap(c)}" for k, c in enumerate(cands, 1)]
        if rng.random() < 1 / 7:
            out.append(
                f"- Note the tension with [[{rng.choice(self.all_titles)}]]: "
                "this evidence points the other way."
            )
        primary = linked[0]
        out += [
            "",
            "## Curator Notes (structured handoff for extractor)",
            "",
            f"PRIMARY CONNECTION: [[{primary}]]",
            f"WHY ARCHIVED: {rng.choice(WHY_ARCHIVED)} {vocab.noun_phrase(domain)}",
            f"EXTRACTION HINT: {rng.choice(HINT_LEADS)}",
            "",
        ]
        return out


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def generate_kb(root: Path, n_sources: int, n_claims: int | None = None, seed: int = 0) -> None:
    """Write a synthetic KB with n_sources sources and n_claims claims under root."""
    if n_claims is None:
        n_claims = max(50, n_sources // 20)
    if n_claims < 2:
        raise ValueError("need at least 2 claims")
    if n_sources < 0:
        raise ValueError("n_sources must be >= 0")
    rng = random.Random(seed)
    vocab = Vocab(rng)
    claims = make_claims(vocab, n_claims)

    for d in DOMAINS:
        (root / "domains" / d).mkdir(parents=True, exist_ok=True)
    for idx, claim in enumerate(claims):
        write(root / "domains" / claim.domain / f"{claim.title}.md", claim_text(vocab, claims, idx))
    for d in DOMAINS:
        titles = [c.title for c in claims if c.domain == d]
        write(root / "domains" / d / "_map.md", map_text(vocab, d, titles))

    archive = root / "inbox" / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    gen = SourceGen(vocab, claims)
    for i in range(n_sources):
        name, text = gen.text(i)
        write(archive / name, text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic kbtui knowledge base.")
    parser.add_argument("root", type=Path, help="directory to write the KB into")
    parser.add_argument("--sources", type=int, required=True, help="number of sources")
    parser.add_argument(
        "--claims", type=int, default=None, help="number of claims (default max(50, sources/20))"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    generate_kb(args.root, args.sources, args.claims, args.seed)
    n_claims = args.claims if args.claims is not None else max(50, args.sources // 20)
    print(
        f"wrote {args.sources} sources and {n_claims} claims to {args.root} "
        f"in {time.perf_counter() - start:.2f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
