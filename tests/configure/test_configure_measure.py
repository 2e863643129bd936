"""The one-compile and cache claims on the 50-item config of measure_configure.py."""

from pyctypes import configure
from pyctypes.configure import core

from measure_configure import fifty_item_config


def test_fifty_items_one_run_cold_none_warm(counting_cc):
    cfg = fifty_item_config()
    res = configure.configure(cfg)
    assert counting_cc() == 1
    assert core.last_run["runs"] == 1 and not core.last_run["cached"]
    assert (res["has_stat"], res["has_pipe"], res["has_nothing"], res["has_nothing2"]) == \
        (True, True, False, False)
    assert res["dc_none"] is None and res["d_none"] is False
    again = configure.configure(cfg)
    assert counting_cc() == 1
    assert core.last_run["runs"] == 0 and core.last_run["cached"]
    assert again["O_CREAT"] == res["O_CREAT"]
