"""The owner's settings, edited from any interface and stored in the database: one rule set with the TOML.

A stored value is checked by the same pydantic models as the config file (:mod:`agent.services.config`)
and, once stored, takes effect wherever the config's value would: every runtime applies the stored values
on top of the file (:func:`apply`), so the planner, the risk gate, the heartbeat and the strategist read
them through ``Services.settings``. Precedence: stored ← config file (or environment) ← default; a field
says which one it comes from. Bad input changes nothing: every field is checked before any is stored.

A stored value may only tighten what the file (or the default) says: autonomy lower (advise < confirm <
auto), the max position lower, the thresholds higher. A looser one is refused at the form and, if one is
stored anyway (an older version, a file changed since), ignored with a warning, unless the file says
``[web] allow_loosen = true``. The other fields (schedule, strategy, selection, score weights) are free.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from agent.core import problems
from agent.core.errors import ValidationError
from agent.services.config import Settings

if TYPE_CHECKING:
    from agent.adapters.store.db import Store
    from agent.services.app import Services

log = logging.getLogger("rebalancer.settings")

#: The database record that holds the stored values (``{"rebalance.calendar_days": 7, ...}``).
RECORD = "stored_settings"

Kind = Literal["choice", "percent", "number"]
Source = Literal["stored", "config file", "environment", "default"]


@dataclass(frozen=True)
class Field:
    """One editable setting: its dotted config key, its label, and how a form's text becomes its value."""

    key: str
    label: str
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    optional: bool = False  # an empty entry means "no limit" (None)
    tighter: Literal["lower", "higher"] | None = None  # the direction a stored value may move from the file's

    def loosens(self, value: Any, configured: Any) -> bool:
        """Whether ``value`` is looser than the file's ``configured`` (None, "no limit", is the loosest)."""
        if self.tighter is None or value == configured:
            return False
        if self.kind == "choice":
            return self.choices.index(str(value)) > self.choices.index(str(configured))
        a = math.inf if value is None else value
        b = math.inf if configured is None else configured
        return a > b if self.tighter == "lower" else a < b

    def parse(self, text: str) -> Any:
        """The value a form's text means (percent fields are entered in %); ``ValidationError`` otherwise."""
        text = text.strip()
        if text == "" and self.optional:
            return None
        if self.kind == "choice":
            if text not in self.choices:
                raise ValidationError(f"must be one of {', '.join(self.choices)}")
            return int(text) if self.key == "rebalance.calendar_days" else text
        try:
            x = float(text.rstrip("%").strip())
        except ValueError:
            raise ValidationError(f"{text!r} is not a number") from None
        if not math.isfinite(x):
            raise ValidationError(f"{text!r} is not a finite number")
        return x / 100 if self.kind == "percent" else x

    def show(self, value: Any) -> str:
        """The value as a form shows it (``0.03`` → ``3``, in %)."""
        if value is None:
            return ""
        if self.kind == "percent":
            return f"{value * 100:g}"
        return str(value)


def _strategies() -> tuple[str, ...]:
    from agent.strategist.library import load_strategies

    return ("auto", *sorted(load_strategies()))


def fields() -> tuple[Field, ...]:
    """The settings form's fields, in its order (schedule, thresholds, strategy, selection, viability, autonomy)."""
    return (
        Field(
            "rebalance.calendar_days", "Schedule (days)", "choice", "rebalance every 3, 7 or 14 days", ("3", "7", "14")
        ),
        Field(
            "rebalance.position_threshold",
            "Position threshold (%)",
            "percent",
            "don't trade an asset whose drift is under this",
            tighter="higher",
        ),
        Field(
            "rebalance.portfolio_threshold",
            "Portfolio threshold (%)",
            "percent",
            "don't rebalance while total drift ½Σ|d| is under this",
            tighter="higher",
        ),
        Field(
            "strategist.strategy",
            "Strategy",
            "choice",
            "auto: the strategist's preconditions choose; else always this one",
            _strategies(),
        ),
        Field(
            "strategist.top_percentile",
            "Top percentile (%)",
            "percent",
            "equal-weight and score-weighted keep this share of coins by score",
        ),
        Field(
            "limits.max_weight",
            "Max position (%)",
            "percent",
            "no asset above this weight (empty: no limit)",
            optional=True,
            tighter="lower",
        ),
        Field(
            "strategist.score_weights.momentum",
            "Score weight: momentum",
            "number",
            "weight of the 90-day return / volatility in a coin's score",
        ),
        Field(
            "strategist.score_weights.trend",
            "Score weight: trend",
            "number",
            "weight of the 30-day return / volatility in a coin's score",
        ),
        Field(
            "heartbeat.autonomy",
            "Autonomy",
            "choice",
            "advise: record only · confirm: a plan waits for you · auto: trade within the heartbeat's caps",
            ("advise", "confirm", "auto"),
            tighter="lower",
        ),
    )


def _field(key: str) -> Field:
    found = next((f for f in fields() if f.key == key), None)
    if found is None:
        raise ValidationError(f"{key}: not a setting that can be stored")
    return found


def _get(model: BaseModel, key: str) -> Any:
    obj: Any = model
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def _with(settings: Settings, values: dict[str, Any]) -> Settings:
    """``settings`` with ``values`` (dotted keys), every touched section validated again as the TOML is."""
    data = settings.model_dump(exclude={"secret_key", "keystore_password", "source"})
    for key, value in values.items():
        node = data
        *path, last = key.split(".")
        for part in path:
            node = node[part]
        node[last] = value
    touched = {key.split(".")[0] for key in values}
    updated: dict[str, Any] = {}
    for section in touched:
        model = type(getattr(settings, section))
        updated[section] = model.model_validate(data[section])
    return settings.model_copy(update=updated)


def stored(store: Store) -> dict[str, Any]:
    value = store.records.get(RECORD, {})
    return dict(value) if isinstance(value, dict) else {}


def _loosening(configured: Settings, key: str, value: Any) -> str | None:
    """Why ``value`` may not be stored for ``key`` (looser than the file's), or None."""
    if configured.web.allow_loosen:
        return None
    field, file_value = _field(key), _get(configured, key)
    if not field.loosens(value, file_value):
        return None
    shown = field.show(file_value) or "no limit"
    unit = " %" if field.kind == "percent" and file_value is not None else ""
    return f"looser than the config file's {shown}{unit}; stored settings may only tighten it ([web] allow_loosen)"


def _applicable(configured: Settings, values: dict[str, Any]) -> dict[str, Any]:
    """The stored values that may take effect: known fields that do not loosen the file's."""
    out = {}
    for key, value in values.items():
        if not any(f.key == key for f in fields()):
            continue
        why = _loosening(configured, key, value)
        if why is not None:
            log.warning("stored setting %s = %r ignored: %s", key, value, why)
            continue
        out[key] = value
    return out


def apply(settings: Settings, store: Store) -> Settings:
    """The effective settings: the stored values over the file's (what every runtime runs with); a stored
    value looser than the file's is ignored unless ``[web] allow_loosen``."""
    values = _applicable(settings, stored(store))
    for key, value in list(values.items()):  # a value an older version stored that no longer validates
        try:
            _with(settings, {key: value})
        except PydanticError as e:
            log.warning("stored setting %s = %r ignored (%s); the config file's value applies", key, value, _problem(e))
            del values[key]
    try:
        return _with(settings, values) if values else settings
    except PydanticError as e:  # a rule across fields
        log.warning("stored settings ignored (%s); the config file's values apply", _problem(e))
        return settings


def _source(configured: Settings, key: str, stored_values: dict[str, Any]) -> Source:
    if key in stored_values and _loosening(configured, key, stored_values[key]) is None:
        return "stored"
    obj: Any = configured
    for part in key.split("."):
        if part not in obj.model_fields_set:
            return "default"
        obj = getattr(obj, part)
    env = {"heartbeat.autonomy": "$REBALANCER_AUTONOMY"}.get(key)
    return "environment" if env and env in configured.source else "config file"


@dataclass(frozen=True)
class FieldView:
    field: Field
    value: Any  # effective
    source: Source
    configured: Any  # what the file (or the default) says


def effective(svc: Services) -> list[FieldView]:
    """Every field with its effective value, where it comes from, and what the file or default says."""
    return _views(svc.configured or svc.settings, svc.settings, stored(svc.store))


def _views(configured: Settings, current: Settings, values: dict[str, Any]) -> list[FieldView]:
    return [
        FieldView(f, _get(current, f.key), _source(configured, f.key, values), _get(configured, f.key))
        for f in fields()
    ]


def shown(configured: Settings) -> dict[str, Any]:
    """What ``config show`` prints: the effective configuration (the stored settings applied, when the
    database exists; it is never created here), secrets redacted, and under ``"stored_settings"`` each
    editable setting's effective value, its source and the config file's (or the default) value."""
    from pathlib import Path

    from agent.adapters.store import postgres
    from agent.adapters.store.db import Store
    from agent.core.errors import ConfigError

    current, values, problem = configured, {}, None
    try:
        if postgres.is_url(configured.db):
            exists = postgres.schema_ready(configured.db)
        else:
            exists = configured.db != ":memory:" and Path(configured.db).is_file()
        if exists:
            store = Store(configured.db)
            try:
                current, values = apply(configured, store), stored(store)
            finally:
                store.close()
    except ConfigError as e:  # an unreachable server: the file's values, and why the stored ones are missing
        problem = str(e)
    data = current.redacted()
    if problem is not None:
        data["stored_settings_unread"] = problem
    data["stored_settings"] = {
        v.field.key: {"value": v.value, "source": v.source, "config_file": v.configured}
        for v in _views(configured, current, values)
    }
    return data


@dataclass(frozen=True)
class SaveResult:
    saved: dict[str, Any]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


_BOUNDS = {
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "under"),
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "above"),
}


def _problem(e: PydanticError, field: Field | None = None) -> str:
    """The first problem in the field's own unit (a percent field's bound in %, as it was entered)."""
    first = problems.first(e)
    bound = _BOUNDS.get(first.kind)
    if field is not None and bound is not None and bound[0] in first.ctx:
        unit = " %" if field.kind == "percent" else ""
        return f"must be {bound[1]} {field.show(first.ctx[bound[0]])}{unit}"
    return first.message


def save(svc: Services, form: dict[str, str]) -> SaveResult:
    """Check every given field (text as a form sends it); store them all, or nothing if any is wrong.

    Only values that differ from the effective ones are stored; the session's settings change at once.
    """
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for key, text in form.items():
        try:
            parsed[key] = _field(key).parse(text)
        except ValidationError as e:
            errors[key] = str(e)
    configured = svc.configured or svc.settings
    for key, value in parsed.items():  # each field alone, so each error is named at its field
        try:
            _with(svc.settings, {key: value})
        except PydanticError as e:
            errors[key] = _problem(e, _field(key))
            continue
        why = _loosening(configured, key, value)
        if why is not None:
            errors[key] = why
    if not errors:
        try:
            candidate = _with(svc.settings, parsed)
        except PydanticError as e:  # a rule across fields
            errors[next(iter(parsed), "settings")] = _problem(e)
    if errors:
        return SaveResult({}, errors)
    changed = {k: v for k, v in parsed.items() if _get(svc.settings, k) != v}
    if changed:
        svc.store.records.set(RECORD, {**stored(svc.store), **changed})
        svc.settings = candidate
    return SaveResult(changed, {})


def forget(svc: Services) -> None:
    """Drop every stored value: the config file (or the defaults) rule again."""
    svc.store.records.set(RECORD, {})
    svc.settings = svc.configured or svc.settings
