"""Ready-made configurations that reproduce the source systems' own MailerLite integrations, so that a new
user starts from something that works. Each preset is a configuration document in this folder."""

from __future__ import annotations

from importlib import resources

from sync_core.domain.config import SyncConfig, load_config

#: Preset name → (file, one-line description).
PRESETS = {
    "partnero": (
        "partnero.json",
        "Partnero's MailerLite integration: partner and customer fields, the groups "
        "Partners, Active Partners and Referred Customers (rejected and archived partners leave Active Partners)",
    ),
    "dodo-payments": (
        "dodo_payments.json",
        "Dodo Payments' six MailerLite examples: new customers, premium "
        "group, subscription fields, churn, custom fields, automation trigger; expired or held subscriptions, "
        "refunds and disputes",
    ),
}


class UnknownPreset(KeyError):
    def __str__(self) -> str:
        return f"there is no preset named {self.args[0]!r}; choose one of {', '.join(PRESETS)}"


def preset_document(name: str) -> str:
    if name not in PRESETS:
        raise UnknownPreset(name)
    return resources.files(__package__).joinpath(PRESETS[name][0]).read_text(encoding="utf-8")


def load_preset(name: str) -> SyncConfig:
    return load_config(preset_document(name))
