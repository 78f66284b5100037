"""The report's JavaScript bundle is built once per vl-convert version and then read from
the cache folder (flows.config.cache_dir, TARIFFCOST_CACHE)."""

from __future__ import annotations

import vl_convert

from flows.present import report_html


def test_bundle_is_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TARIFFCOST_CACHE", str(tmp_path / "cache"))
    calls = []

    def fake_bundle() -> str:
        calls.append(1)
        return "var vega = 1; // </script> inside"

    monkeypatch.setattr(vl_convert, "javascript_bundle", fake_bundle)
    first = report_html.javascript_bundle()
    second = report_html.javascript_bundle()
    assert calls == [1]
    assert first == second == "var vega = 1; // <\\/script> inside"
    cached = list((tmp_path / "cache").iterdir())
    assert [p.name for p in cached] == [f"vl_convert-{vl_convert.__version__}-bundle.js"]


def test_unwritable_cache_still_gives_the_bundle(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("TARIFFCOST_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda: "bundle")
    assert report_html.javascript_bundle() == "bundle"
    assert report_html.javascript_bundle() == "bundle"
