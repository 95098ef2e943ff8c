"""The KB's profile: what kinds of documents it holds, where their files live, their fields.

A KB's schema is data, not code. kbtui ships the profile of the teleo-codex family of KBs
(`kbtui/profile.toml`); a KB may carry its own `kbtui.toml` at its root that extends or
overrides any part of it (a new kind, a new field, another vocabulary). The profile is
validated by the pydantic models below, with errors naming the file, the key and the reason,
and compiled into a `Schema`: the lookups the parser, the checks and the front ends use.

Pure: the text of each profile file is given; reading files is the caller's job (the shipped
profile is package data, read through `importlib.resources`).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kbtui.formats.errors import KbtuiError

PROFILE_NAME = "kbtui.toml"
"""The file name of a KB's own profile, at its root."""
SHIPPED = "kbtui/profile.toml"
"""Where the shipped profile's parts come from, as `kbtui profile` names it."""


class ProfileError(KbtuiError, ValueError):
    """A profile file kbtui cannot use; the message names the file, the key and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One frontmatter field of a kind."""

    shape: Literal["text", "list", "any"] = "any"
    """`text`: one value (a list or mapping is kept as text, and flagged); `list`: a list
    (a single value is read as a one-item list, `none` or `0` as an empty one); `any`: kept
    as written, only known."""
    required: bool = False
    vocabulary: tuple[str, ...] | None = None
    """The values it may take; another value is kept as written, and flagged."""
    link: str | None = None
    """The relation its values name documents by (`depends_on`, `supports`, …): every value,
    bracketed or not, is a link. `*`: entries are mappings whose `relation` key names it."""
    legacy_for: str | None = None
    """An older name of that field: read as it."""
    doc: str = ""


class PathRule(_Strict):
    """Files whose KB-relative path matches `pattern` are of `kind`: `*` matches within one
    folder name, `**` any number of folders (none included). The first rule that matches
    decides."""

    pattern: str
    kind: str
    fixed: bool = False
    """A file's `type:` never changes its kind (every file in `inbox/archive/` is a source)."""
    retype: tuple[str, ...] = ()
    """The kinds a file's `type:` may make it instead; `*` for any kind."""


class ArchiveRule(_Strict):
    """Where export moves a file of this kind once it reaches one of `statuses`."""

    source_folder: str
    """A folder, ending with `/` (`inbox/queue/`)."""
    folder: str
    """The folder it moves to, keeping its name (`inbox/archive/`)."""
    statuses: tuple[str, ...]


class KindSpec(_Strict):
    """One kind of document."""

    label: str = ""
    types: tuple[str, ...] = ()
    """The `type:` values naming this kind."""
    frontmatter: bool = False
    """Its files must have frontmatter."""
    checked: bool = False
    """Its fields are checked: required ones present, none outside the profile."""
    title: Literal["stem", "field"] = "field"
    """`stem`: the file name is the title; `field`: its `title:`, else its first heading."""
    domain: Literal["path", "field"] = "field"
    """Where its domain comes from: the folder it is in (under a domain root), or `domain:`."""
    status: str | None = None
    """The field holding its state (`status`), if it has one."""
    queues: tuple[str, ...] = ()
    """The statuses its queues show, in order (the desk's queues, for sources)."""
    queue_as: dict[str, str] = {}
    """Statuses shown in another's queue (`enrichment` with `processed`)."""
    cascade: bool = False
    """Documents of this kind depend on the claims they link to (Cascade Impact)."""
    archive: ArchiveRule | None = None
    fields: dict[str, FieldSpec] = {}


class GateSpec(_Strict):
    """The KB's merge gate ("tier 0"), as `kbtui check --gate` and the export preview run
    it: what the profile's kinds and vocabularies cannot say."""

    earliest_date: str = "2020-01-01"
    """A date field before this (YYYY-MM-DD) fails."""
    date_fields: tuple[str, ...] = ()
    """The fields holding dates the gate looks at."""
    title_kinds: tuple[str, ...] = ("claim",)
    """Kinds whose title must be a proposition without universal quantifiers, and unlike
    every other claim's."""
    quantifiers: tuple[str, ...] = ()
    """Words (or phrases) a title must not hold, as whole words, in any case."""
    similarity: float = 0.85
    """Titles at least this similar (0-1, rapidfuzz's token sort ratio) are near-duplicates."""
    target_claim_types: tuple[str, ...] = ()
    """The `type:` values (and kinds) that must name their claim in `target_claim`."""


class ProfileModel(_Strict):
    """A whole profile, as validated."""

    name: str = "kbtui"
    domain_roots: tuple[str, ...] = ()
    """Top folders whose sub-folders are domains (`domains/<domain>/…`)."""
    common_fields: dict[str, FieldSpec] = {}
    """Fields every checked kind knows."""
    paths: tuple[PathRule, ...] = ()
    kinds: dict[str, KindSpec] = {}
    gate: GateSpec = GateSpec()


@dataclass(frozen=True, slots=True)
class Part:
    """Where one part of the profile in force came from."""

    key: str
    origin: str


@dataclass(slots=True)
class Schema:
    """The profile compiled for lookups: what every layer asks of a kind."""

    model: ProfileModel
    parts: list[Part]
    digest: str
    sources: tuple[tuple[str, str], ...] = ()
    """The profile files it was built from: (origin, text), in order."""
    type_layers: dict[str, int] = field(default_factory=dict)
    """Per kind: the position, in `sources`, of the last file that set its `types`."""
    _rules: list[tuple[re.Pattern[str], PathRule]] = field(default_factory=list)
    type_kinds: dict[str, str] = field(default_factory=dict)
    known: dict[str, frozenset[str]] = field(default_factory=dict)
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    declared: dict[str, dict[str, FieldSpec]] = field(default_factory=dict)
    legacy: dict[str, dict[str, str]] = field(default_factory=dict)
    vocabularies: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per kind: link field → relation (every kind's, and the common fields')."""
    link_origins: dict[str, str] = field(default_factory=dict)
    """A legacy link field's links are recorded under the field it stands for."""

    def __post_init__(self) -> None:
        model = self.model
        self._rules = [(_glob_regex(rule.pattern), rule) for rule in model.paths]
        for kind, spec in model.kinds.items():
            layer = self.type_layers.get(kind, 0)
            for value in spec.types:
                name = value.strip().lower()
                known = self.type_kinds.get(name)
                # Within one file the first kind naming a type keeps it; a later file (the
                # KB's own profile) takes it over, or its own kind would have no effect.
                if known is None or layer > self.type_layers.get(known, 0):
                    self.type_kinds[name] = kind
            fields = {**model.common_fields, **spec.fields} if spec.checked else dict(spec.fields)
            self.known[kind] = frozenset(fields)
            self.required[kind] = tuple(n for n, f in spec.fields.items() if f.required)
            # The typed values: fields of a shape, under their own name.
            self.declared[kind] = {
                n: f for n, f in spec.fields.items() if f.legacy_for is None and f.shape != "any"
            }
            self.vocabularies[kind] = {
                n: f.vocabulary for n, f in spec.fields.items() if f.vocabulary
            }
            self.legacy[kind] = {n: f.legacy_for for n, f in spec.fields.items() if f.legacy_for}
            self.links[kind] = {n: f.link for n, f in fields.items() if f.link}
        for name, common in model.common_fields.items():
            if common.link:
                self.links.setdefault("*", {})[name] = common.link
            if common.legacy_for:
                self.link_origins[name] = common.legacy_for
        for kind_spec in model.kinds.values():
            for name, item in kind_spec.fields.items():
                if item.link and item.legacy_for:
                    self.link_origins[name] = item.legacy_for

    # What a path and a `type:` make a file.

    def kind_of(self, path: str, type_value: object) -> str:
        """The kind of the file at KB-relative POSIX `path` whose `type:` is `type_value`."""
        rule = self.rule_for(path)
        path_kind = rule.kind if rule is not None else "other"
        if rule is not None and rule.fixed:
            return path_kind
        if not isinstance(type_value, str):
            return path_kind
        type_kind = self.type_kinds.get(type_value.strip().lower())
        if type_kind is None or type_kind == path_kind:
            return path_kind
        allowed = rule.retype if rule is not None else ("*",)
        return type_kind if "*" in allowed or type_kind in allowed else path_kind

    def rule_for(self, path: str) -> PathRule | None:
        for regex, rule in self._rules:
            if regex.match(path):
                return rule
        return None

    def kind_spec(self, kind: str) -> KindSpec:
        return self.model.kinds.get(kind) or KindSpec()

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind a document can have, `other` last."""
        return (*[k for k in self.model.kinds if k != "other"], "other")

    def vocabulary(self, kind: str, name: str) -> tuple[str, ...]:
        return self.vocabularies.get(kind, {}).get(name, ())

    def domain_of(self, path: str) -> str | None:
        """The domain a path's folder names (`domains/<domain>/…`), if any."""
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] in self.model.domain_roots:
            return parts[1]
        return None

    def archived_path(self, kind: str, path: str, status: str | None) -> str | None:
        """Where export moves the file at `path` once it has `status`, if anywhere."""
        rule = self.kind_spec(kind).archive
        if rule is None or status not in rule.statuses:
            return None
        if not path.startswith(rule.source_folder):
            return None
        return rule.folder + path[len(rule.source_folder) :]

    def link_relation(self, kind: str, name: str) -> str | None:
        """The relation the field `name` of a `kind` document names documents by, if any."""
        return self.links.get(kind, {}).get(name) or self.links.get("*", {}).get(name)


_GLOB_PART = re.compile(r"\*\*/|\*\*|\*|\?|[^*?]+")


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a path pattern: `**/` any folders (none included), `*` and `?` within
    one name, everything else literal."""
    out = []
    for token in _GLOB_PART.findall(pattern):
        if token == "**/":
            out.append("(?:[^/]+/)*")
        elif token == "**":
            out.append(".*")
        elif token == "*":
            out.append("[^/]*")
        elif token == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, path: str) -> bool:
    """Whether `path` matches a profile path pattern (see `PathRule`)."""
    return bool(_glob_regex(pattern).match(path))


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """The data of one profile file; `ProfileError` when it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{origin}: not valid TOML: {exc}") from exc


def _merge(
    base: dict[str, Any],
    extra: dict[str, Any],
    origin: str,
    key: str,
    parts: dict[str, list[str]],
) -> dict[str, Any]:
    """`base` extended by `extra`: tables merge key by key, anything else is replaced, and
    `paths` rules of `extra` come first (a KB's own rules decide before the shipped ones).
    `parts` collects, for each key, the files that set or extended it."""
    merged = dict(base)
    for name, value in extra.items():
        where = f"{key}.{name}" if key else name
        if name == "paths" and not key and isinstance(value, list):
            merged[name] = [*value, *base.get(name, [])]
        elif isinstance(value, dict) and isinstance(merged.get(name, {}), dict):
            merged[name] = _merge(merged.get(name, {}), value, origin, where, parts)
        else:
            merged[name] = value
            parts[where] = []  # replaced: only this file's now
        if origin not in parts.setdefault(where, []):
            parts[where].append(origin)
    return merged


def _reason(exc: ValidationError) -> str:
    """The first error, as `key.path: reason`."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "(top)"
    return f"{where}: {error['msg']}"


def build_schema(layers: list[tuple[str, str]]) -> Schema:
    """The schema of profile files merged in order; each layer is (origin, TOML text).
    `ProfileError` names the file and key of the first problem."""
    data: dict[str, Any] = {}
    parts: dict[str, list[str]] = {}
    for origin, text in layers:
        layer = parse_toml(text, origin)
        try:
            ProfileModel.model_validate(layer)
        except ValidationError as exc:
            raise ProfileError(f"{origin}: {_reason(exc)}") from exc
        data = _merge(data, layer, origin, "", parts)
    try:
        model = ProfileModel.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(f"{layers[-1][0]}: {_reason(exc)}") from exc
    unknown = sorted({r.kind for r in model.paths} - set(model.kinds) - {"other"})
    if unknown:
        raise ProfileError(f"{layers[-1][0]}: paths: no kind named {unknown[0]!r} in [kinds]")
    digest = hashlib.sha256(
        json.dumps(model.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()[:16]
    every = [Part(k, " + ".join(v)) for k, v in sorted(parts.items())]
    position = {origin: at for at, (origin, _) in enumerate(layers)}
    type_layers = {
        kind: max((position[o] for o in parts.get(f"kinds.{kind}.types", [])), default=0)
        for kind in model.kinds
    }
    return Schema(model, every, digest, tuple(layers), type_layers=type_layers)


def shipped_text() -> str:
    """The text of the profile that ships with kbtui."""
    return resources.files("kbtui").joinpath("profile.toml").read_text(encoding="utf-8")


_ACTIVE: list[Schema] = []


def shipped() -> Schema:
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> Schema:
    return build_schema([(SHIPPED, shipped_text())])


def active() -> Schema:
    """The schema in force: the KB's own profile over the shipped one, once a KB with one
    is opened; the shipped one until then."""
    return _ACTIVE[-1] if _ACTIVE else _shipped()


def activate(schema: Schema | None) -> None:
    """Put `schema` in force (None: the shipped profile)."""
    _ACTIVE.clear()
    if schema is not None and schema is not _shipped():
        _ACTIVE.append(schema)
