"""The layering contracts cover every package: the domain list names every module of every app."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "marketplace",
    "loyalty",
    "rewards",
    "referrals",
    "integrations",
    "checkout",
    "crm",
    "engagement",
    "memberships",
)
#: Children of an app that are not domain code (the GraphQL layer) or not code (migrations).
NOT_DOMAIN = {"api", "migrations"}


def _contract(name_start: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["name"].startswith(name_start))


def test_every_domain_module_is_under_the_domain_contract():
    # given the apps' direct children on disk
    children = {
        f"{app}.{module.name}"
        for app in APPS
        for module in pkgutil.iter_modules([str(ROOT / app)])
        if module.name not in NOT_DOMAIN
    }
    # when the contract lists its sources
    listed = set(_contract("Domain code never imports")["source_modules"])
    # then every child is listed and nothing listed is gone
    assert children - listed == set(), "add the new module to the domain contract in pyproject.toml"
    assert listed - children == set()


@pytest.mark.parametrize("package", ["config", "api_core", *APPS])
def test_every_package_is_checked_for_cycles(package):
    assert package in _contract("No package cycles")["ancestors"]


def test_the_api_stack_names_every_apps_api():
    layers = " | ".join(_contract("The API is layered")["layers"])
    for app in APPS:
        assert f"{app}.api" in layers
    assert "api_core" in layers
