"""Cost accounting: the server's figure wins, else the config's price table; free is free."""

from __future__ import annotations

import re

import pytest
from conftest import write_config

from tokenopt_tui.config import ConfigError, load_config
from tokenopt_tui.core.pricing import call_cost

PRICES = {"moonshotai/kimi-k2": (0.57, 2.30)}


def test_price_table_reported_cost_and_free_models() -> None:
    assert call_cost("moonshotai/kimi-k2", 1_000_000, 1_000_000, None, local=False,
                     prices=PRICES) == pytest.approx(2.87)
    assert call_cost("moonshotai/kimi-k2", 10, 10, 0.0042, local=False, prices=PRICES) == 0.0042
    assert call_cost("qwen/qwen3-coder:free", 10**6, 10**6, 1.0, local=False, prices=PRICES) == 0
    assert call_cost("gemma-3-270m", 10**6, 10**6, None, local=True, prices=PRICES) == 0


def test_config_prices_override_and_extend_the_defaults(xdg_env, paths) -> None:
    write_config(xdg_env, '[prices]\n"moonshotai/kimi-k2" = [0.6, 2.5]\n"x/y" = [1, 2]\n')
    config = load_config(paths, xdg_env)
    assert config.prices == {"moonshotai/kimi-k2": (0.6, 2.5), "x/y": (1.0, 2.0)}


def test_a_bad_price_names_the_key(xdg_env, paths) -> None:
    write_config(xdg_env, '[prices]\n"moonshotai/kimi-k2" = [0.6]\n')
    with pytest.raises(ConfigError, match=re.escape('prices."moonshotai/kimi-k2"')):
        load_config(paths, xdg_env)


def test_cached_input_is_priced_at_its_own_price_when_the_table_has_one(xdg_env,
                                                                         paths) -> None:
    """1M prompt tokens of which 600k came from the provider's prefix cache, 100k out:
    0.4 x 0.60 + 0.6 x 0.15 + 0.1 x 2.50 = $0.58; without a cached price no discount
    is assumed: 1.0 x 0.60 + 0.1 x 2.50 = $0.85."""
    three = {"m/x": (0.60, 2.50, 0.15)}
    assert call_cost("m/x", 1_000_000, 100_000, None, local=False, prices=three,
                     cached_tokens=600_000) == pytest.approx(0.58)
    two = {"m/x": (0.60, 2.50)}
    assert call_cost("m/x", 1_000_000, 100_000, None, local=False, prices=two,
                     cached_tokens=600_000) == pytest.approx(0.85)
    # More cached than sent (a provider's miscount) never makes a negative cost.
    assert call_cost("m/x", 100, 0, None, local=False, prices=three,
                     cached_tokens=1_000) == pytest.approx(100 * 0.15 / 1e6)
    write_config(xdg_env, '[prices]\n"m/x" = [0.6, 2.5, 0.15]\n')
    assert load_config(paths, xdg_env).prices["m/x"] == (0.6, 2.5, 0.15)
